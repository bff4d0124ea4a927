// `aspec cluster`, `aspec verify OPID` and `aspec watch KEY`, run in-process (`main`) against the
// in-test deployment (real signatures, certificates and proofs), human and --json output.
import { describe, expect, it } from "vitest";
import { AspecClient } from "../../../../client/client.js";
import { main, type CliIo } from "../../../../client/cli.js";
import { parseCli, UsageError } from "../../../../client/cli/args.js";
import { TestDeployment } from "../../../support/sdk-deployment.js";

function io(d: TestDeployment, signal?: AbortSignal) {
  const out: string[] = [];
  const err: string[] = [];
  const cli: CliIo = {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    env: {},
    fetch: d.fetch,
    ...(signal ? { signal } : {}),
  };
  return { cli, out, err };
}

// The CLI fetches the directory and cluster from the endpoint, like any client without pins.
const ENDPOINT = ["--endpoint", "http://deployment.test", "--replica", "weur"];

async function certifiedOp(d: TestDeployment) {
  const c = await AspecClient.connect(d.connectOptions({ replica: "weur", maxUncertified: Infinity }));
  const w = await c.counter("hits").add(5);
  await d.certify();
  return w.opId;
}

describe("aspec verify", () => {
  it("prints the proof chain of a certified op and exits 0", async () => {
    const d = await TestDeployment.create();
    const opId = await certifiedOp(d);
    const { cli, out } = io(d);
    expect(await main(["verify", opId, ...ENDPOINT], cli)).toBe(0);
    const text = out.join("\n");
    expect(text).toContain(`op ${opId}: certified, verified`);
    expect(text).toContain("signed by pbft-0, pbft-1, pbft-2 (3 of 4, quorum 3)");
    expect(text).toContain(`resultsRoot ${d.certificates[0]!.body.resultsRoot}`);
    expect(text).toContain("result proof: leaf 0 of 1");
    const j = io(d);
    expect(await main(["verify", opId, "--json", ...ENDPOINT], j.cli)).toBe(0);
    expect(JSON.parse(j.out[0]!)).toMatchObject({ verified: true, reply: { certified: { seq: 1 } } });
  });

  it("exits 1 for an op not certified yet, and for a result that does not verify", async () => {
    const d = await TestDeployment.create();
    const c = await AspecClient.connect(d.connectOptions({ replica: "weur", maxUncertified: Infinity }));
    const w = await c.counter("hits").add(1);
    const pending = io(d);
    expect(await main(["verify", w.opId, ...ENDPOINT], pending.cli)).toBe(1);
    expect(pending.err.join("\n")).toContain("not certified");
    await d.certify();
    d.lie = (path, reply) => {
      if (path === "op-status") (reply.certified as { proof: { index: number } }).proof.index = 1;
      return reply;
    };
    const lying = io(d);
    expect(await main(["verify", w.opId, "--json", ...ENDPOINT], lying.cli)).toBe(1);
    expect(JSON.parse(lying.out[0]!)).toMatchObject({
      error: { code: "reply_unverified", details: { reason: "bad_result_proof", replica: "weur" } },
    });
  });
});

describe("aspec cluster", () => {
  it("prints the pinned cluster and the newest certificate, verified", async () => {
    const d = await TestDeployment.create();
    await certifiedOp(d);
    const { cli, out } = io(d);
    expect(await main(["cluster", ...ENDPOINT], cli)).toBe(0);
    expect(out[0]).toBe(
      `cluster aspec-test-cluster: n = 4, f = 1, config digest ${d.cluster.info.configDigest}`,
    );
    expect(out.join("\n")).toContain("newest certificate at replica weur (verified):");
    const j = io(d);
    expect(await main(["cluster", "--json", ...ENDPOINT], j.cli)).toBe(0);
    expect(JSON.parse(j.out[0]!)).toMatchObject({
      cluster: d.cluster.info,
      latest: { certificate: { body: { seq: 1 } } },
    });
  });
});

describe("aspec watch", () => {
  it("prints a line per change of the tentative or certified value, and stops after --count", async () => {
    const d = await TestDeployment.create();
    const c = await AspecClient.connect(d.connectOptions({ replica: "weur", maxUncertified: Infinity }));
    await c.counter("w").add(1);
    let reads = 0;
    const base = d.fetch;
    const fetch: typeof base = async (u, init) => {
      const res = await base(u, init);
      if (new URL(u).pathname === "/v1/kv/w" && ++reads === 2) await d.certify(); // between reads 2 and 3
      return res;
    };
    const { cli, out } = io(Object.assign(Object.create(d) as TestDeployment, { fetch }));
    expect(await main(["watch", "w", "--interval", "1", "--count", "3", ...ENDPOINT], cli)).toBe(0);
    expect(out).toHaveLength(2); // read 2 = read 1; read 3 has the certified value
    expect(out[0]).toMatch(/tentative 1 {2}no certificate yet/);
    expect(out[1]).toMatch(/tentative 1 {2}certified 1 at seq 1, proof checked/);
  });

  it("ends when its signal aborts (what Ctrl-C does)", async () => {
    const d = await TestDeployment.create();
    const ac = new AbortController();
    const { cli, out } = io(d, ac.signal);
    const print = cli.out;
    cli.out = (l) => (print(l), ac.abort()); // Ctrl-C once the first line is out
    // no --count: only the signal ends it
    expect(await main(["watch", "nothing", "--interval", "5", "--json", ...ENDPOINT], cli)).toBe(0);
    expect(out).toHaveLength(1);
    expect(JSON.parse(out[0]!)).toMatchObject({ kind: "read", key: "nothing", type: null });
  });

  it("parses its options, and refuses them elsewhere", () => {
    expect(parseCli(["watch", "k", "--interval", "250", "--count", "2"]).command).toEqual({
      kind: "watch",
      key: "k",
      intervalMs: 250,
      count: 2,
    });
    expect(() => parseCli(["watch", "k", "--interval", "0"])).toThrow(UsageError);
    expect(() => parseCli(["get", "k", "--count", "2"])).toThrow(UsageError);
    expect(() => parseCli(["verify", "not-an-op-id"])).toThrow(UsageError);
    // a client key may start with "-" (base64url): still an op id, not an option
    const dashed = `-${"A".repeat(42)}:7`;
    expect(parseCli(["verify", dashed]).command).toEqual({ kind: "verify", opId: dashed });
  });
});
