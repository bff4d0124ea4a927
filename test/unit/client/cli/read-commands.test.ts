// `aspec cluster`, `aspec verify OPID` and `aspec watch KEY`, run in-process (`main`) against the
// in-test deployment (real signatures, certificates and proofs), human and --json output.
import { describe, expect, it } from "vitest";
import { AspecClient } from "../../../../client/client.js";
import { main, type CliIo } from "../../../../client/cli.js";
import { parseCli, UsageError } from "../../../../client/cli/args.js";
import { clusterLines } from "../../../../client/cli/output.js";
import type { CertificateReply } from "../../../../shared/replies.js";
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
    expect(out).toContain("open namespaces (writable by anyone while unclaimed): * (every one)");
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

// What `aspec get`, `replicas`, `cluster` and `verify` print, run in-process (`main`) against the
// in-test deployment (real signatures, certificates and proofs): a user reading the human output
// must see the certified state as the SDK verified it, and `--json` must be the verified reply.
async function aspec(d: TestDeployment, argv: string[], replica = "weur") {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), env: {}, fetch: d.fetch };
  const code = await main([...argv, "--endpoint", "http://deployment.test", "--replica", replica], io);
  return { code, out, err };
}

const client = (d: TestDeployment, replica = "weur") =>
  AspecClient.connect(d.connectOptions({ replica, maxUncertified: Infinity }));

describe("aspec get", () => {
  it("shows the tentative value, its type and the certified value whose proof was checked", async () => {
    const d = await TestDeployment.create();
    await (await client(d)).counter("hits").add(5);
    const before = await aspec(d, ["get", "hits"]);
    expect(before).toEqual({
      code: 0,
      out: ['"hits" = 5  [counter, replica weur, no certificate yet]'],
      err: [],
    });
    await d.certify();
    const after = await aspec(d, ["get", "hits"]);
    expect(after.out).toEqual(['"hits" = 5  [counter, replica weur, certified 5 at seq 1, proof checked]']);
    const j = await aspec(d, ["get", "hits", "--json"]);
    expect(j.code).toBe(0);
    expect(j.out).toHaveLength(1);
    expect(JSON.parse(j.out[0]!)).toMatchObject({
      kind: "read",
      key: "hits",
      value: 5,
      replica: "weur",
      certified: { seq: 1, value: { value: 5 } },
    });
  });

  it("says a key was never written, rather than printing a type", async () => {
    const d = await TestDeployment.create();
    expect((await aspec(d, ["get", "nothing"])).out).toEqual([
      '"nothing" = null  [unwritten, replica weur, no certificate yet]',
    ]);
  });

  it("does not present a diverged or unproven replica's answer as certified", async () => {
    const d = await TestDeployment.create();
    await (await client(d)).counter("hits").add(5);
    await d.certify();
    d.lie = (path, r) => (path === "read" ? { ...r, certification: "diverged", certified: null } : r);
    expect((await aspec(d, ["get", "hits"])).out).toEqual([
      '"hits" = 5  [counter, replica weur, no certified value (replica diverged)]',
    ]);
    d.lie = (path, r) => (path === "read" ? { ...r, certified: null } : r);
    expect((await aspec(d, ["get", "hits"])).out).toEqual([
      '"hits" = 5  [counter, replica weur, certificate seq 1, no certified value]',
    ]);
  });
});

describe("aspec replicas", () => {
  it("lists every replica with its key, in aligned columns", async () => {
    const d = await TestDeployment.create(["weur", "enam-long"]);
    const r = await aspec(d, ["replicas"]);
    expect(r.code).toBe(0);
    const [weur, enam] = d.replicas.map((x) => x.key.publicKey);
    expect(r.out).toEqual([`weur       weur       ${weur}`, `enam-long  enam-long  ${enam}`]);
    // Listing replicas is how a user finds a valid --replica: a wrong one must not stop it.
    expect((await aspec(d, ["replicas"], "no-such-replica")).out).toEqual(r.out);
    const j = await aspec(d, ["replicas", "--json"]);
    expect(JSON.parse(j.out[0]!)).toEqual({
      replicas: [
        { name: "weur", region: "weur", publicKey: weur },
        { name: "enam-long", region: "enam-long", publicKey: enam },
      ],
    });
  });
});

describe("aspec cluster", () => {
  it("says when the replica holds no certificate, and prints no certificate fields then", async () => {
    const d = await TestDeployment.create();
    const r = await aspec(d, ["cluster"]);
    expect(r.code).toBe(0);
    expect(r.out.at(-1)).toBe("replica weur holds no certificate yet");
    expect(r.out).toHaveLength(1 + 4 + 1 + 1); // the cluster line, its four nodes, the open list, the no-certificate line
  });

  it("names a signer the listed nodes do not include by its index, never as 'undefined'", async () => {
    const d = await TestDeployment.create();
    await (await client(d)).counter("hits").add(1);
    await d.certify();
    const latest = { replica: "weur", certificate: d.latest() } as CertificateReply;
    const partial = { ...d.cluster.info, nodes: d.cluster.info.nodes.slice(0, 2) };
    expect(clusterLines(partial, latest)).toContain("  signed by pbft-0, pbft-1, node 2 (3 of 4, quorum 3)");
  });
});

describe("aspec verify", () => {
  it("shows a tentative ok that the certified order rejected as rolled back, with the reason and proof path", async () => {
    // A partition: weur and enam each accept a withdraw of the whole balance; certification orders
    // them and rejects the second.
    const d = await TestDeployment.create(["weur", "enam"]);
    await (await client(d)).account("acct").deposit(10);
    await d.certify();
    d.replicateTentative = false;
    await (await client(d)).account("acct").withdraw(10);
    const second = await (await client(d, "enam")).account("acct").withdraw(10);
    await d.certify();
    const r = await aspec(d, ["verify", second.opId], "enam");
    expect(r.code).toBe(0);
    expect(r.out[1]).toBe(
      "result: rejected (insufficient_funds), value 0  — the replica's tentative answer was ok 0: rolled back",
    );
    const proof = d.results.get(second.opId)!.proof;
    expect(proof.path).toHaveLength(1);
    expect(r.out.slice(-2)).toEqual([
      "result proof: leaf 1 of 2, 1 sibling hash(es) up to resultsRoot",
      `  0: ${proof.path[0]}`,
    ]);
  });

  it("with --json, an op not certified yet is reported as pending and exits 1", async () => {
    const d = await TestDeployment.create();
    const w = await (await client(d)).counter("hits").add(1);
    const r = await aspec(d, ["verify", w.opId, "--json"]);
    expect(r.code).toBe(1);
    expect(r.out).toHaveLength(1);
    expect(JSON.parse(r.out[0]!)).toMatchObject({
      verified: false,
      pending: true,
      reply: { opId: w.opId, certified: null },
    });
    expect(r.err).toEqual([]);
  });
});

describe("aspec get, certified absence", () => {
  it("a key the certified state does not hold reads as certified null (its absence proven)", async () => {
    const d = await TestDeployment.create();
    await (await client(d)).counter("hits").add(1);
    await d.certify();
    expect((await aspec(d, ["get", "nothing"])).out).toEqual([
      '"nothing" = null  [unwritten, replica weur, certified null at seq 1, proof checked]',
    ]);
  });
});

describe("aspec cluster, the certificate", () => {
  it("prints every node and the verified certificate's seq, view, op count, time, signers and roots", async () => {
    const d = await TestDeployment.create();
    await (await client(d)).counter("hits").add(1);
    await d.certify();
    const b = d.latest()!.body;
    const r = await aspec(d, ["cluster"]);
    expect(r.out.slice(1)).toEqual([
      ...d.cluster.info.nodes.map((n) => `  ${n.id}  test  ${n.publicKey}`),
      "open namespaces (writable by anyone while unclaimed): * (every one)",
      "newest certificate at replica weur (verified):",
      `  seq 1, view 0, 1 ops, time ${new Date(b.time).toISOString()}`,
      "  signed by pbft-0, pbft-1, pbft-2 (3 of 4, quorum 3)",
      `  stateRoot   ${b.stateRoot}`,
      `  resultsRoot ${b.resultsRoot}`,
      `  logRoot     ${b.logRoot}`,
    ]);
  });

  it("pads node ids to the longest, and states the quorum as 2f+1 for any f", async () => {
    const d = await TestDeployment.create();
    await (await client(d)).counter("hits").add(1);
    await d.certify();
    const latest = { replica: "weur", certificate: d.latest() } as CertificateReply;
    const nodes = d.cluster.info.nodes.map((n, i) => ({ ...n, id: i === 0 ? "a-long-node" : n.id }));
    const lines = clusterLines({ ...d.cluster.info, n: 7, f: 2, nodes }, latest);
    expect(lines[1]).toBe(`  a-long-node  test  ${nodes[0]!.publicKey}`);
    expect(lines[2]).toBe(`  pbft-1       test  ${nodes[1]!.publicKey}`);
    expect(lines).toContain("  signed by a-long-node, pbft-1, pbft-2 (3 of 7, quorum 5)");
  });
});

describe("aspec verify, tentative vs certified", () => {
  it("no rollback note when the certified result is the tentative one", async () => {
    const d = await TestDeployment.create();
    const w = await (await client(d)).counter("hits").add(5);
    await d.certify();
    const r = await aspec(d, ["verify", w.opId]);
    expect(r.out[1]).toBe("result: ok, value 5");
    expect(r.out[2]).toBe("certificate (aspec-test-cluster, 2f+1 valid signatures of pinned nodes):");
  });

  it("a certified value other than the tentative one (same status) is a rollback too", async () => {
    const d = await TestDeployment.create(["weur", "enam"]);
    d.replicateTentative = false; // each replica saw only its own add
    await (await client(d)).counter("hits").add(1);
    const second = await (await client(d, "enam")).counter("hits").add(1);
    await d.certify();
    expect((await aspec(d, ["verify", second.opId], "enam")).out[1]).toBe(
      "result: ok, value 2  — the replica's tentative answer was ok 1: rolled back",
    );
  });

  it("verifies at a replica that never saw the op tentatively (no tentative answer to compare)", async () => {
    const d = await TestDeployment.create(["weur", "enam"]);
    d.replicateTentative = false;
    const w = await (await client(d)).counter("hits").add(5);
    await d.certify();
    const r = await aspec(d, ["verify", w.opId], "enam");
    expect(r.code, r.err.join("\n")).toBe(0);
    expect(r.out[1]).toBe("result: ok, value 5");
  });
});

describe("aspec watch, reads and stopping", () => {
  const reads = (d: TestDeployment, key: string) =>
    d.requests.filter((q) => q.path === `/v1/kv/${key}`).length;

  async function watch(d: TestDeployment, argv: string[], onLine: (ac: AbortController) => void) {
    const ac = new AbortController();
    const out: string[] = [];
    const io: CliIo = {
      out: (l) => (out.push(l), onLine(ac)),
      err: (l) => out.push(l),
      env: {},
      fetch: d.fetch,
      signal: ac.signal,
    };
    const code = await main([...argv, "--endpoint", "http://deployment.test", "--replica", "weur"], io);
    return { code, out };
  }

  it("--count N makes exactly N reads", async () => {
    const d = await TestDeployment.create();
    const r = await watch(d, ["watch", "k", "--interval", "1", "--count", "2"], () => {});
    expect(r).toMatchObject({ code: 0, out: [expect.stringContaining("tentative null")] });
    expect(reads(d, "k")).toBe(2);
  });

  it("Ctrl-C while waiting for the next read ends it at once, without another read", async () => {
    const d = await TestDeployment.create();
    // an hour between reads: only the abort can end this test
    const r = await watch(
      d,
      ["watch", "k", "--interval", "3600000"],
      (ac) => void setTimeout(() => ac.abort(), 0),
    );
    expect(r.code).toBe(0);
    expect(r.out).toHaveLength(1);
    expect(reads(d, "k")).toBe(1);
  });

  it("Ctrl-C during a read ends it after that read, without waiting an interval", async () => {
    const d = await TestDeployment.create();
    const r = await watch(d, ["watch", "k", "--interval", "3600000"], (ac) => ac.abort());
    expect(r.out).toHaveLength(1);
    expect(reads(d, "k")).toBe(1);
  });
});
