/**
 * A replica that diverged comes back by a certified state transfer: the real driver
 * (durable-objects/certified-transfer.ts) in the real replica Durable Object, its SQLite, the real
 * certificate verifier, against nodes serving a hand-crafted certified state through the nodes' own
 * answer builders (shared/certified/transfer-wire.ts) — one tampering with chunks, one silent, one
 * with a forged certificate, one correct. CERTIFY is "off" here (no live cluster), so the test runs
 * the transfer the `certifiedSync` alarm task runs; test/cluster/ has the live, alarm-driven one.
 * Its own file: the replica is made diverged first.
 */
import { certifiedBatchText } from "../../shared/wire/certified-batch.js";
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { CertifiedTransfer, type TransferSource } from "../../durable-objects/certified-transfer.js";
import type { ReplicaParts } from "../../durable-objects/replica-parts.js";
import type { EdgeReplica } from "../../durable-objects/edge-replica.js";
import { verifyStateProof } from "../../shared/certified/proofs.js";
import { chunkRequest, chunksText, pointText, refusalText } from "../../shared/certified/transfer-wire.js";
import type { Certificate } from "../../shared/certified/types.js";
import { opIdOf } from "../../shared/ops.js";
import type { ReadReply } from "../../shared/replies.js";
import { certifiedMarks, TestCluster } from "./cert-helpers.js";
import { post, stub, TestClient } from "./helpers.js";
import { restartAll } from "./state-digest.js";
import { env, SELF } from "cloudflare:test";

const readAt = async (key: string, replica: string) =>
  (await (
    await SELF.fetch(`https://edge.test/v1/kv/${encodeURIComponent(key)}?replica=${replica}`)
  ).json()) as ReadReply;

const weur = () => env.EDGE_REPLICA.get(env.EDGE_REPLICA.idFromName("weur"));

/** Run the transfer in weur as its alarm task would (deadline: 200 ms per call). */
function runTransfer(source: TransferSource): Promise<{ more: boolean; active: boolean }> {
  return runInDurableObject(weur(), async (instance: EdgeReplica, state) => {
    const delivery = (instance as unknown as { parts: ReplicaParts }).parts.delivery;
    const t = new CertifiedTransfer(state, source, 200);
    const more = await t.run("weur", delivery.transferTarget!);
    return { more, active: t.active() };
  });
}

/** The same answer with every chunk changed: a split's first hash, a record's state. */
function tamper(text: string): string {
  const a = JSON.parse(text) as { chunks?: { chunk: { split?: string[]; records?: unknown[][] } }[] };
  for (const c of a.chunks ?? []) {
    if (c.chunk.split) c.chunk.split[0] = "f".repeat(64);
    if (c.chunk.records?.[0]) c.chunk.records[0][2] = { forged: true };
  }
  return JSON.stringify(a);
}

/** Four nodes: 0 tampers with chunks, 1 never answers, 2 forges its certificate, 3 is correct. */
function nodes(cluster: TestCluster, cert: Certificate, correctCallsMax = Infinity) {
  const h = cluster.sm.handle();
  const seq = cert.body.seq;
  let correctCalls = 0;
  const serve = (askSeq: number, paths: string[], records: number) =>
    askSeq === seq
      ? chunksText(cluster.sm, h, seq, chunkRequest(paths, records)!)
      : refusalText("not_stable", seq);
  const never = () => new Promise<string>(() => {});
  const calls = [0, 0, 0, 0];
  const source: TransferSource = {
    ids: ["pbft-0", "pbft-1", "pbft-2", "pbft-3"],
    point: async (i) => {
      calls[i]!++;
      if (i === 1) return never();
      if (i === 2) return pointText({ ...cert, body: { ...cert.body, stateRoot: "cd".repeat(32) } });
      if (i === 3 && ++correctCalls > correctCallsMax) return never();
      return pointText(cert);
    },
    chunks: async (i, askSeq, paths, records) => {
      calls[i]!++;
      if (i === 1) return never();
      const text = serve(askSeq, paths, records);
      if (i === 0 || i === 2) return tamper(text);
      if (++correctCalls > correctCallsMax) return never();
      return text;
    },
  };
  return { source, calls };
}

afterEach(() => vi.restoreAllMocks());

describe("certified state transfer to a replica", () => {
  it("a diverged replica recovers: resumable, hostile nodes left, certified reads with proofs, tentative state in line", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const cluster = await TestCluster.create();
    const c = await TestClient.create();
    const a = await c.sign("xf/acct", "account", "deposit", { n: 10 });
    expect((await post(a, "weur")).status).toBe(200);
    // enough keys that the state comes in several chunks
    const many = await Promise.all(
      Array.from({ length: 60 }, (_, i) => c.sign(`xf/k${i}`, "counter", "add", { n: i + 1 })),
    );
    const s1 = await cluster.certify([a, ...many]);
    expect(await stub("weur").receiveCertified("weur", certifiedBatchText(s1.message))).toMatchObject({
      outcome: "applied",
    });

    // seq 2: a certificate whose root weur's execution does not give → diverged, halted
    const b = await c.sign("xf/acct", "account", "withdraw", { n: 4 });
    expect((await post(b, "weur")).status).toBe(200);
    const bad = await cluster.certify([b], { stateRoot: "ab".repeat(32) });
    expect(await stub("weur").receiveCertified("weur", certifiedBatchText(bad.message))).toMatchObject({
      outcome: "root_mismatch",
    });
    // the cluster's real state executed b at seq 2; seq 3 holds ops weur never saw
    const cOp = await c.sign("xf/acct", "account", "deposit", { n: 5 });
    const eOp = await c.sign("xf/new", "counter", "add", { n: 7 });
    const s3 = await cluster.certify([cOp, eOp]);
    // an op weur holds that no certificate has yet
    const d = await c.sign("xf/other", "counter", "add", { n: 100 });
    expect((await post(d, "weur")).status).toBe(200);
    expect(await stub("weur").receiveCertified("weur", certifiedBatchText(s3.message))).toMatchObject({
      outcome: "halted",
    });
    expect(await readAt("xf/acct", "weur")).toMatchObject({
      certification: "diverged",
      certified: null,
      value: 6,
    });

    // first run: the correct node goes silent after three answers; every node then fails → wait
    const cut = nodes(cluster, s3.certificate, 3);
    const first = await runTransfer(cut.source);
    expect(first).toEqual({ more: false, active: true });
    expect(await readAt("xf/acct", "weur")).toMatchObject({ certification: "diverged" });
    const rows = await runInDurableObject(
      weur(),
      (_i, state) =>
        state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM cert_xfer_paths").one().n,
    );
    expect(rows).toBeGreaterThan(0);

    // evicted and restarted: the transfer resumes from storage, completes against the hostile nodes
    await restartAll();
    const all = nodes(cluster, s3.certificate);
    const second = await runTransfer(all.source);
    expect(second).toEqual({ more: true, active: false });
    expect(all.calls[3]).toBeGreaterThan(0);
    const k9 = await readAt("xf/k9", "weur");
    expect(k9).toMatchObject({ value: 10, certified: { value: { value: 10 } } });
    expect(verifyStateProof(s3.body.stateRoot, "xf/k9", k9.certified!.value, k9.certified!.proof)).toBe(true);

    const acct = await readAt("xf/acct", "weur");
    expect(acct.certification).toBe("ok");
    expect(acct.certificate).toEqual(s3.certificate);
    expect(acct.certified).toMatchObject({ seq: 3, stateRoot: s3.body.stateRoot, value: { value: 11 } });
    expect(verifyStateProof(s3.body.stateRoot, "xf/acct", acct.certified!.value, acct.certified!.proof)).toBe(
      true,
    );
    expect(acct.value).toBe(11); // tentative: b and c certified, nothing pending
    const fresh = await readAt("xf/new", "weur");
    expect(fresh).toMatchObject({ value: 7, certified: { value: { value: 7 } } });
    expect(
      verifyStateProof(s3.body.stateRoot, "xf/new", fresh.certified!.value, fresh.certified!.proof),
    ).toBe(true);
    const other = await readAt("xf/other", "weur");
    expect(other).toMatchObject({ value: 100, certified: { value: null } });
    expect(await certifiedMarks("weur", [opIdOf(a), opIdOf(b), opIdOf(d)])).toEqual([1, 1, 0]);
    expect((await stub("weur").stats()).certification).toMatchObject({
      certification: "ok",
      seq: 3,
      opCount: s3.body.opCount,
      diverged: null,
    });

    // and the next batch applies as normal
    const s4 = await cluster.certify([d]);
    expect(await stub("weur").receiveCertified("weur", certifiedBatchText(s4.message))).toMatchObject({
      outcome: "applied",
      head: 4,
    });
    const after = await readAt("xf/other", "weur");
    expect(after).toMatchObject({
      value: 100,
      certification: "ok",
      certified: { seq: 4, value: { value: 100 } },
    });
    expect(await certifiedMarks("weur", [opIdOf(d)])).toEqual([1]);
  });
});
