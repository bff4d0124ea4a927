// `aspec del KEY [--type T]`, run in-process (`main`) against the in-test deployment (real
// signatures, certificates and proofs): the type from --type or from a read, exit 1 when refused,
// and afterwards reads show absence, certified with a proof of it.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AspecClient } from "../../../../client/client.js";
import { main, type CliIo } from "../../../../client/cli.js";
import { parseCli, UsageError } from "../../../../client/cli/args.js";
import { TestDeployment } from "../../../support/sdk-deployment.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "aspec-cli-del-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ENDPOINT = ["--endpoint", "http://deployment.test", "--replica", "weur"];

async function aspec(d: TestDeployment, argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const cli: CliIo = {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    env: { ASPEC_KEY_FILE: join(dir, "key.json") },
    fetch: d.fetch,
  };
  return { code: await main([...argv, ...ENDPOINT], cli), out, err };
}

describe("aspec del", () => {
  it("parses KEY and --type; refuses another type, a missing key, and --type elsewhere", () => {
    expect(parseCli(["del", "hits"]).command).toEqual({ kind: "del", key: "hits", type: undefined });
    expect(parseCli(["del", "hits", "--type", "counter"]).command).toEqual({
      kind: "del",
      key: "hits",
      type: "counter",
    });
    expect(() => parseCli(["del", "hits", "--type", "namespace"])).toThrow(UsageError);
    expect(() => parseCli(["del"])).toThrow(new UsageError("usage: aspec del KEY [--type T]"));
    expect(() => parseCli(["get", "hits", "--type", "counter"])).toThrow(UsageError);
  });

  it("without --type deletes as the type the replica reads; then reads are absent, certified with a proof", async () => {
    const d = await TestDeployment.create();
    expect((await aspec(d, ["counter", "add", "hits", "3"])).code).toBe(0);
    const del = await aspec(d, ["del", "hits", "--json"]);
    expect(del.code, del.err.join("\n")).toBe(0);
    expect(JSON.parse(del.out[0]!)).toMatchObject({ type: "counter", tentative: { status: "ok", value: 0 } });
    const c = await AspecClient.connect(d.connectOptions({ replica: "weur", maxUncertified: Infinity }));
    expect(await c.get("hits")).toMatchObject({ type: null, value: null });
    await d.certify();
    // the SDK verified the certificate and the proof of absence
    expect((await c.getCertified("hits")).certified).toMatchObject({ value: null });
    c.close();
    // nothing left to name a type: exit 1, nothing sent
    const again = await aspec(d, ["del", "hits"]);
    expect(again.code).toBe(1);
    expect(again.err.join("\n")).toContain("holds nothing");
  });

  it("an account above 0: answered rejected (not_empty), exit 1; --type names the type without a read", async () => {
    const d = await TestDeployment.create();
    expect((await aspec(d, ["account", "deposit", "alice", "4"])).code).toBe(0);
    const r = await aspec(d, ["del", "alice", "--type", "account"]);
    expect(r.code).toBe(1);
    expect(r.out.join("\n")).toContain("not_empty");
    const reads = d.requests.filter((q) => q.method === "GET" && q.path.startsWith("/v1/kv/"));
    expect(reads).toEqual([]);
  });
});
