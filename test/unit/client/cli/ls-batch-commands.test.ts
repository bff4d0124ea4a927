// `aspec ls [PREFIX]` and `aspec batch FILE`, parsed and run in-process (`main`) against the in-test
// deployment (real signatures and certificates): output, paging, the key file's seqs, exit codes.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main, type CliIo } from "../../../../client/cli.js";
import { parseCli, UsageError } from "../../../../client/cli/args.js";
import { TestDeployment } from "../../../support/sdk-deployment.js";

let dir: string;
beforeAll(async () => void (dir = await mkdtemp(join(tmpdir(), "aspec-cli-ls-batch-"))));
afterAll(() => rm(dir, { recursive: true, force: true }));

function io(d: TestDeployment) {
  const out: string[] = [];
  const err: string[] = [];
  const cli: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), env: {}, fetch: d.fetch };
  return { cli, out, err };
}
const at = (keyFile: string) => [
  "--endpoint",
  "http://deployment.test",
  "--replica",
  "weur",
  "--key-file",
  keyFile,
];
const lines = (ops: object[]) => ops.map((o) => JSON.stringify(o)).join("\n") + "\n";

describe("parsing", () => {
  it("ls takes an optional prefix and --limit; batch one file", () => {
    expect(parseCli(["ls"]).command).toEqual({ kind: "ls", prefix: "", limit: undefined });
    expect(parseCli(["ls", "w/", "--limit", "5"]).command).toEqual({ kind: "ls", prefix: "w/", limit: 5 });
    expect(parseCli(["batch", "ops.jsonl"]).command).toEqual({ kind: "batch", file: "ops.jsonl" });
    expect(() => parseCli(["ls", "a", "b"])).toThrow(UsageError);
    expect(() => parseCli(["ls", "--limit", "0"])).toThrow(UsageError);
    expect(() => parseCli(["get", "k", "--limit", "3"])).toThrow("--limit is only for ls");
    expect(() => parseCli(["batch"])).toThrow(UsageError);
  });
});

describe("aspec batch FILE, then aspec ls", () => {
  it("sends the file's ops in one request, prints one line each, and lists them page by page", async () => {
    const d = await TestDeployment.create();
    const keyFile = join(dir, "k1.json");
    const file = join(dir, "ops.jsonl");
    const keys = Array.from({ length: 12 }, (_, i) => `c/${String(i).padStart(2, "0")}`);
    await writeFile(file, lines(keys.map((key) => ({ key, type: "counter", op: "add", args: { n: 2 } }))));
    const b = io(d);
    expect(await main(["batch", file, ...at(keyFile)], b.cli)).toBe(0);
    expect(b.out).toHaveLength(12);
    expect(b.out[0]).toMatch(/^ok: counter "c\/00" = 2/);
    expect(d.requests.filter((r) => r.path === "/v1/ops/batch")).toHaveLength(1);
    expect(JSON.parse(await readFile(keyFile, "utf8")).nextSeq).toBe(13);

    await d.certify();
    const l = io(d);
    expect(await main(["ls", "c/", ...at(keyFile)], l.cli)).toBe(0);
    expect(l.out).toHaveLength(12);
    expect(l.out[0]).toBe('"c/00" = 2  [counter, certified 2 at seq 1]');
    const limited = io(d);
    expect(await main(["ls", "c/", "--limit", "5", "--json", ...at(keyFile)], limited.cli)).toBe(0);
    const page = JSON.parse(limited.out[0]!) as { kind: string; entries: { key: string }[]; cursor: string };
    expect(limited.out).toHaveLength(1);
    expect([page.kind, page.entries.map((e) => e.key)]).toEqual(["list", keys.slice(0, 5)]);
  });

  it("exits 1 when an op is answered rejected, 2 for a line that is no op", async () => {
    const d = await TestDeployment.create();
    const file = join(dir, "withdraw.jsonl");
    await writeFile(
      file,
      lines([
        { key: "acct", type: "account", op: "deposit", args: { n: 1 } },
        { key: "acct", type: "account", op: "withdraw", args: { n: 5 } },
      ]),
    );
    const r = io(d);
    expect(await main(["batch", file, "--json", ...at(join(dir, "k2.json"))], r.cli)).toBe(1);
    expect(r.out.map((l) => JSON.parse(l).tentative.status)).toEqual(["ok", "rejected"]);
    const bad = join(dir, "bad.jsonl");
    await writeFile(bad, '{"key":"k","type":"counter","op":"add","args":{"n":1}}\n{"key":"k"}\n');
    const e = io(d);
    expect(await main(["batch", bad, ...at(join(dir, "k3.json"))], e.cli)).toBe(2);
    expect(e.err[0]).toContain("bad.jsonl:2");
  });
});
