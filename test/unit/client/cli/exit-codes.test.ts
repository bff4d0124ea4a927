// The CLI's exit codes against a stand-in replica (node:http) that signs its replies with a dev key:
// what the CLI does with an answer, without starting workerd.
import { createServer, type Server } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main, type CliIo } from "../../../../client/cli.js";
import { devKeyPair } from "../../../../shared/crypto/keys.js";
import { opIdOf, type SignedOp } from "../../../../shared/ops.js";
import { signReply, type OpReply } from "../../../../shared/replies.js";
import { lazy } from "../../../support/lazy.js";
import { sdkTestCluster } from "../../../support/sdk-cluster.js";

let dir: string;
let server: Server;
let url: string;
/** The replica's key, made inside the first test that needs it (test/support/lazy.ts says why). */
const weurKey = lazy(() => devKeyPair("cli-exit-test", "weur"));
/** What the stand-in answers to the next POST /v1/ops. */
let tentative: OpReply["tentative"] = { status: "ok", value: 0 };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "aspec-cli-exit-"));
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", async () => {
      res.setHeader("content-type", "application/json");
      if (req.method === "GET" && req.url?.startsWith("/v1/cluster"))
        return res.end(JSON.stringify(await sdkTestCluster())); // the SDK pins the cluster at connect
      if (req.method === "GET" && req.url?.startsWith("/v1/replicas"))
        return res.end(
          JSON.stringify({
            replicas: [{ name: "weur", region: "weur", publicKey: (await weurKey()).publicKey }],
          }),
        );
      const op = JSON.parse(body) as SignedOp;
      const nonce = req.headers["x-aspec-nonce"]; // a replica signs the request's nonce back
      const reply = await signReply<OpReply>((await weurKey()).secret, {
        ...(typeof nonce === "string" ? { nonce } : {}),
        kind: "op",
        opId: opIdOf(op),
        key: op.key,
        type: op.type,
        tentative,
        replica: "weur",
        certificate: null,
        certification: "none",
        uncertified: 1,
        duplicate: false,
        time: Date.now(),
      });
      res.end(JSON.stringify(reply));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    env: { ASPEC_ENDPOINT: url, ASPEC_KEY_FILE: join(dir, "key.json") },
  };
  return { code: await main(argv, io), out, err };
}

describe("aspec exit codes", () => {
  it("an op answered rejected (an overdrawing withdraw) exits 1 and prints the refusal", async () => {
    tentative = { status: "rejected", reason: "insufficient_funds", value: 10 };
    const r = await run(["account", "withdraw", "alice", "30", "--replica", "weur"]);
    expect(r.code).toBe(1);
    expect(r.out.join("\n")).toMatch(/^rejected \(insufficient_funds\): account "alice" = 10/);
    const j = await run(["account", "withdraw", "alice", "30", "--replica", "weur", "--json"]);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.out[0]!)).toMatchObject({ tentative: { status: "rejected" } });
  });

  it("a register write that lost to a later one says so, and exits 0 (it was applied)", async () => {
    tentative = { status: "ok", value: "newer", superseded: true };
    const r = await run(["register", "set", "title", '"mine"', "--replica", "weur"]);
    expect(r.code).toBe(0);
    expect(r.out.join("\n")).toMatch(/^ok, superseded \(.+\): register "title" = "newer"/);
  });

  it("an op answered ok exits 0", async () => {
    tentative = { status: "ok", value: 40 };
    const r = await run(["account", "deposit", "alice", "30", "--replica", "weur"]);
    expect(r.code, r.err.join("\n")).toBe(0);
    expect(r.out.join("\n")).toMatch(/^ok: account "alice" = 40/);
  });
});
