// The real `aspec` binary run as a child process for usage errors, help, keygen and an unreachable
// endpoint (no server involved). Argument parsing on its own: args.test.ts.
import { execFile } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readKeyFile } from "../../../../client/node/keyfile.js";

const BIN = join(import.meta.dirname, "..", "..", "..", "..", "client", "bin", "aspec.js");

function aspec(args: string[], env: NodeJS.ProcessEnv = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, ...env }, timeout: 30_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    );
  });
}

/** A 127.0.0.1 port with nothing listening: bind port 0, note it, close it. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "aspec-cli-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("aspec binary", () => {
  it("exits 2 with a message on usage errors", async () => {
    for (const args of [[], ["bogus"], ["counter", "add", "k", "x"], ["get", "k", "--bogus"]]) {
      const r = await aspec(args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(/^aspec: .+\ntry 'aspec --help'/);
      expect(r.stdout).toBe("");
    }
  });

  it("prints help and exits 0", async () => {
    const r = await aspec(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: aspec/);
  });

  it("keygen --out writes a 0600 key file once and refuses to overwrite it", async () => {
    const out = join(dir, "sub", "k.json");
    const r = await aspec(["keygen", "--out", out, "--json"]);
    expect(r.code).toBe(0);
    const k = await readKeyFile(out);
    expect(JSON.parse(r.stdout)).toEqual({ publicKey: k!.publicKey, file: out });
    expect((await stat(out)).mode & 0o777).toBe(0o600);
    const again = await aspec(["keygen", "--out", out]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/exists; not overwriting a key/);
    expect(await readKeyFile(out)).toEqual(k);
  });

  it("exits 1 with a code and message when the endpoint is unreachable", async () => {
    const port = await closedPort();
    const r = await aspec(["replicas", "--endpoint", `http://127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^aspec: network: GET http:\/\/127\.0\.0\.1:\d+\/v1\/replicas failed after 4 attempts/,
    );
    const j = await aspec(["replicas", "--json", "--endpoint", `http://127.0.0.1:${port}`]);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ error: { code: "network" } });
  });
});
