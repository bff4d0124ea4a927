/**
 * The replica side of certification, in workerd with real SQLite-backed replicas and real Ed25519:
 * certified batches made as the PBFT nodes make them (test/runtime/cert-helpers.ts) reach every
 * replica through the certificates queue's consumer (or its RPC), in order, buffered, duplicated
 * or forged. The tests of this file share one certified history (seq 1, 2, 3, ...), in order.
 */
import { certifiedBatchText } from "../../shared/wire/certified-batch.js";
import { SELF, env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import type { CertificationStats } from "../../durable-objects/certified-replica.js";
import { verifyCertificate } from "../../shared/certified/certificate.js";
import { verifyStateProof } from "../../shared/certified/proofs.js";
import { clusterId, configDigest, PBFT_NODES } from "../../shared/cluster-config.js";
import { devKeyPair } from "../../shared/crypto/keys.js";
import { opIdOf } from "../../shared/ops.js";
import type { CertificateReply, OpReply, ReadReply } from "../../shared/replies.js";
import { certifiedMarks, deliverCertified, TestCluster, type Made } from "./cert-helpers.js";
import { setFaults } from "./delivery-helpers.js";
import { CERTIFICATE_MESSAGE_BYTES_MAX, publishCertified } from "../../workers/certificates-publish.js";
import { REPLICAS, eventually, post, stub, TestClient } from "./helpers.js";
import { digestAll, settled } from "./state-digest.js";

const get = (path: string) => SELF.fetch(`https://edge.test${path}`);
const readAt = async (key: string, replica: string) =>
  (await (await get(`/v1/kv/${encodeURIComponent(key)}?replica=${replica}`)).json()) as ReadReply;
const certStats = async (name: string): Promise<CertificationStats> =>
  (await stub(name).stats()).certification;

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await TestCluster.create();
});

describe("GET /v1/cluster", () => {
  it("four nodes in their regions, f = 1, the dev keys, and the config's digest", async () => {
    const res = await get("/v1/cluster");
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      cluster: string;
      n: number;
      f: number;
      nodes: { id: string; region: string; publicKey: string }[];
      configDigest: string;
    };
    expect(body.n).toBe(4);
    expect(body.f).toBe(1);
    expect(body.nodes.map((n) => [n.id, n.region])).toEqual([
      ["pbft-0", "wnam"],
      ["pbft-1", "enam"],
      ["pbft-2", "weur"],
      ["pbft-3", "apac"],
    ]);
    for (const [i, n] of PBFT_NODES.entries())
      expect(body.nodes[i]!.publicKey).toBe((await devKeyPair(env.DEV_SEED, n.id)).publicKey);
    expect(body.configDigest).toBe(configDigest(cluster.config));
    expect(body.configDigest).toMatch(/^[0-9a-f]{64}$/);
  });

  it("deployed without a node's secret: 503 not_configured naming PBFT_KEY_PBFT_0", async () => {
    const { default: worker } = await import("../../workers/index.js");
    const { createExecutionContext } = await import("cloudflare:test");
    const res = await worker.fetch(
      new Request("https://edge.test/v1/cluster"),
      { ...env, ENVIRONMENT: "production" },
      createExecutionContext(),
    );
    expect(res.status).toBe(503);
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe("not_configured");
    expect(error.message).toContain("PBFT_KEY_PBFT_0");
  });
});

describe("certified batches at the replicas", () => {
  const client = { c: undefined as unknown as TestClient };
  let first: Made;

  it("ops written at a replica, then their certified batch: replies carry the certificate, uncertified drops to 0, certified reads prove", async () => {
    const c = (client.c = await TestClient.create());
    const a = await c.sign("cert/hits", "counter", "add", { n: 2 });
    const b = await c.sign("cert/hits", "counter", "add", { n: 5 });
    const ra = (await (await post(a, "weur")).json()) as OpReply;
    expect(ra).toMatchObject({ certificate: null, certification: "none", uncertified: 1 });
    const rb = (await (await post(b, "weur")).json()) as OpReply;
    expect(rb).toMatchObject({ certificate: null, certification: "none", uncertified: 2 });
    expect((await readAt("cert/hits", "weur")).certified).toBeNull();

    first = await cluster.certify([a, b]);
    expect(await verifyCertificate(first.certificate, cluster.config)).toEqual({ ok: true });
    const result = await deliverCertified([first.message]);
    expect(result.explicitAcks.length).toBe(1);
    expect(result.retryMessages).toEqual([]);

    // the same op again (a retry): its stored outcome, now with the certificate and nothing uncertified
    const again = (await (await post(b, "weur")).json()) as OpReply;
    expect(again).toMatchObject({ duplicate: true, certification: "ok", uncertified: 0 });
    expect(again.certificate).toEqual(first.certificate);
    expect(await certifiedMarks("weur", [opIdOf(a), opIdOf(b)])).toEqual([1, 1]);

    // a new op: the certificate, and only itself uncertified
    const d = await c.sign("cert/hits", "counter", "add", { n: 1 });
    const rd = (await (await post(d, "weur")).json()) as OpReply;
    expect(rd).toMatchObject({ certification: "ok", uncertified: 1 });
    expect(rd.certificate!.body.seq).toBe(1);

    // every replica proves the certified value (7) against the certificate's stateRoot
    for (const r of REPLICAS) {
      const read = await readAt("cert/hits", r);
      expect(read.certification).toBe("ok");
      expect(read.certificate).toEqual(first.certificate);
      expect(read.certified).toMatchObject({ seq: 1, stateRoot: first.body.stateRoot });
      expect(read.certified!.value).toMatchObject({ type: "counter", value: 7 });
      expect(
        verifyStateProof(first.body.stateRoot, "cert/hits", read.certified!.value, read.certified!.proof),
      ).toBe(true);
      // a proof does not verify for another value
      expect(
        verifyStateProof(
          first.body.stateRoot,
          "cert/hits",
          { ...read.certified!.value!, value: 8 },
          read.certified!.proof,
        ),
      ).toBe(false);
    }
    // a key the certified state lacks: a proof of its absence
    const absent = await readAt("cert/never", "apac");
    expect(absent.certified!.value).toBeNull();
    expect(verifyStateProof(first.body.stateRoot, "cert/never", null, absent.certified!.proof)).toBe(true);
    (client as { d?: unknown }).d = d;
  });

  it("GET /v1/certificates/latest and /:seq; one the replica doesn't hold is 404 unknown_certificate", async () => {
    const latest = (await (await get("/v1/certificates/latest?replica=enam")).json()) as CertificateReply;
    expect(latest).toMatchObject({ kind: "certificate", replica: "enam", certification: "ok" });
    expect(latest.certificate).toEqual(first.certificate);
    const one = await get("/v1/certificates/1?replica=apac");
    expect(one.status).toBe(200);
    expect(((await one.json()) as CertificateReply).certificate).toEqual(first.certificate);
    const missing = await get("/v1/certificates/999?replica=apac");
    expect(missing.status).toBe(404);
    const err = (await missing.json()) as { error: { code: string }; kind: string; sig: string };
    expect(err.error.code).toBe("unknown_certificate");
    expect(err.kind).toBe("error"); // signed by the replica, like its other refusals
    for (const bad of ["0", "-1", "abc", "1.5"]) {
      const res = await get(`/v1/certificates/${bad}?replica=apac`);
      expect(res.status, bad).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_request");
    }
  });

  let second: Made, third: Made;

  it("out of order: seq 3 before seq 2 is buffered, then both apply", async () => {
    const c = client.c;
    const d = (client as { d?: unknown }).d as Awaited<ReturnType<TestClient["sign"]>>;
    const e = await c.sign("cert/set", "set", "add", { x: "a" });
    second = await cluster.certify([d]);
    third = await cluster.certify([e]);
    for (const r of REPLICAS)
      expect(await stub(r).receiveCertified(r, certifiedBatchText(third.message))).toMatchObject({
        outcome: "buffered",
        seq: 3,
        head: 1,
      });
    expect((await certStats("enam")).buffered).toBe(1);
    expect((await readAt("cert/hits", "enam")).certificate!.body.seq).toBe(1);
    for (const r of REPLICAS)
      expect(await stub(r).receiveCertified(r, certifiedBatchText(second.message))).toMatchObject({
        outcome: "applied",
        seq: 2,
        applied: 2,
        head: 3,
      });
    expect(await certStats("enam")).toMatchObject({ seq: 3, opCount: 4, buffered: 0 });
    const read = await readAt("cert/hits", "enam");
    expect(read.certificate).toEqual(third.certificate);
    expect(read.certified!.value).toMatchObject({ value: 8 });
    expect(
      verifyStateProof(third.body.stateRoot, "cert/hits", read.certified!.value, read.certified!.proof),
    ).toBe(true);
    // d was accepted at weur: certified by seq 2, so nothing of this client is uncertified there
    const dup = (await (await post(d, "weur")).json()) as OpReply;
    expect(dup).toMatchObject({ duplicate: true, uncertified: 0 });
  });

  it("a duplicate delivery changes nothing (every table of every replica) and is counted", async () => {
    const before = await settled();
    const dropped = (await certStats("weur")).dropped.duplicate;
    const result = await deliverCertified([third.message, first.message, second.message]);
    expect(result.explicitAcks.length).toBe(3);
    for (const r of REPLICAS)
      expect(await stub(r).receiveCertified(r, certifiedBatchText(second.message))).toMatchObject({
        outcome: "duplicate",
      });
    expect(await digestAll()).toEqual(before);
    expect((await certStats("weur")).dropped.duplicate).toBe(dropped + 4);
  });

  it("only 2 signatures, one bad signature, a wrong cluster, swapped ops: dropped, counted, nothing changes", async () => {
    const c = client.c;
    const op = await c.sign("cert/acct", "account", "deposit", { n: 10 });
    const fourth = await cluster.certify([op]);
    const [s0, s1, s2] = fourth.certificate.sigs;
    const other = await cluster.sign({ ...fourth.body, time: fourth.body.time + 1 }, [1]);
    const wrongCluster = { ...fourth.body, cluster: "someone-else" };
    const forged = [
      { certificate: { body: fourth.body, sigs: [s0!, s1!] }, ops: fourth.ops },
      {
        certificate: { body: fourth.body, sigs: [s0!, { node: 1, sig: other[0]!.sig }, s2!] },
        ops: fourth.ops,
      },
      {
        certificate: {
          body: wrongCluster,
          sigs: (await cluster.sign(wrongCluster, [0, 1, 2])).map((s) => ({ node: s.node, sig: s.sig })),
        },
        ops: fourth.ops,
      },
      { certificate: { body: fourth.body, sigs: [s0!, s0!, s1!] }, ops: fourth.ops },
    ];
    const swapped = {
      certificate: fourth.certificate,
      ops: [await c.sign("cert/acct", "account", "deposit", { n: 99 })],
    };
    const before = await settled();
    const stats0 = await certStats("apac");
    const reasons = [];
    for (const m of forged)
      reasons.push((await stub("apac").receiveCertified("apac", certifiedBatchText(m))).reason);
    expect(reasons).toEqual(["too_few_signatures", "bad_signature", "wrong_cluster", "duplicate_node"]);
    expect(await stub("apac").receiveCertified("apac", certifiedBatchText(swapped))).toMatchObject({
      outcome: "ops_mismatch",
    });
    const queued = await deliverCertified([...forged, swapped]);
    expect(queued.explicitAcks.length).toBe(5); // every replica took (and dropped) each: nothing to retry
    expect(await digestAll()).toEqual(before);
    const stats1 = await certStats("apac");
    expect(stats1.dropped.invalid - stats0.dropped.invalid).toBe(8);
    expect(stats1.dropped.opsMismatch - stats0.dropped.opsMismatch).toBe(2);
    expect(stats1).toMatchObject({ seq: 3, certification: "ok", rootMismatches: 0 });
    // the genuine one still applies
    for (const r of REPLICAS)
      expect(await stub(r).receiveCertified(r, certifiedBatchText(fourth.message))).toMatchObject({
        outcome: "applied",
        head: 4,
      });
    const replicas = (await (await get("/v1/replicas")).json()) as {
      certification: Record<string, CertificationStats | null>;
    };
    for (const r of REPLICAS) expect(replicas.certification[r]).toMatchObject({ seq: 4, rootMismatches: 0 });
  });

  it("the consumer retries a batch a replica refuses (not acked), acks once every replica took it", async () => {
    const c = client.c;
    const fifth = await cluster.certify([await c.sign("cert/reg", "register", "set", { v: "x" })]);
    await setFaults("apac", { refuseCertified: true });
    try {
      const first = await deliverCertified([fifth.message], 1);
      expect(first.explicitAcks).toEqual([]);
      expect(first.retryMessages.length).toBe(1);
      expect((await certStats("weur")).seq).toBe(5); // the replicas that took it
      expect((await certStats("apac")).seq).toBe(4);
    } finally {
      await setFaults("apac", {});
    }
    const retried = await deliverCertified([fifth.message], 2);
    expect(retried.explicitAcks.length).toBe(1);
    expect(retried.retryMessages).toEqual([]);
    for (const r of REPLICAS) expect((await certStats(r)).seq).toBe(5);
    await eventually(async () => {
      const read = await readAt("cert/reg", "apac");
      expect(read.certified!.value).toMatchObject({ type: "register" });
    });
  });

  it("on its last attempt a batch still refused is dead-lettered and acked", async () => {
    const sixth = await cluster.certify([]);
    await setFaults("enam", { refuseCertified: true });
    try {
      const last = await deliverCertified([sixth.message], 10);
      expect(last.retryMessages).toEqual([]);
      expect(last.explicitAcks.length).toBe(1);
    } finally {
      await setFaults("enam", {});
    }
    expect(await stub("enam").receiveCertified("enam", certifiedBatchText(sixth.message))).toMatchObject({
      outcome: "applied",
    });
  });
  it("an op whose certificate came first is stored certified: never counted as uncertified", async () => {
    const c = client.c;
    const x = await c.sign("cert/early", "counter", "add", { n: 3 });
    const seventh = await cluster.certify([x]);
    const result = await deliverCertified([seventh.message]);
    expect(result.explicitAcks.length).toBe(1);
    const reply = (await (await post(x, "weur")).json()) as OpReply;
    expect(reply).toMatchObject({ duplicate: false, uncertified: 0, certification: "ok" });
    expect(reply.certificate!.body.seq).toBe(7);
    expect(await certifiedMarks("weur", [opIdOf(x)])).toEqual([1]);
    await eventually(async () => expect(await certifiedMarks("apac", [opIdOf(x)])).toEqual([1]));
  });
  it("a buffered copy with wrong ops under a good certificate does not block the right copy", async () => {
    const c = client.c;
    const eighth = await cluster.certify([await c.sign("cert/late", "counter", "add", { n: 1 })]);
    const ninth = await cluster.certify([await c.sign("cert/late", "counter", "add", { n: 2 })]);
    const wrong = { certificate: ninth.certificate, ops: eighth.ops };
    expect(await stub("enam").receiveCertified("enam", certifiedBatchText(wrong))).toMatchObject({
      outcome: "buffered",
    });
    expect(await stub("enam").receiveCertified("enam", certifiedBatchText(ninth.message))).toMatchObject({
      outcome: "buffered",
    });
    expect((await certStats("enam")).buffered).toBe(2);
    expect(await stub("enam").receiveCertified("enam", certifiedBatchText(eighth.message))).toMatchObject({
      outcome: "applied",
      applied: 2,
      head: 9,
    });
    expect((await certStats("enam")).buffered).toBe(0);
    expect((await readAt("cert/late", "enam")).certified!.value).toMatchObject({ value: 3 });
    // the other replicas, through the queue (in seq order within a queue batch, whatever the order sent)
    expect((await deliverCertified([ninth.message, eighth.message])).explicitAcks.length).toBe(2);
    for (const r of REPLICAS) expect((await certStats(r)).seq).toBe(9);
  });
  it("publishing: a batch that fits goes through the real queue, a larger one by RPC to every replica", async () => {
    const c = client.c;
    const small = await cluster.certify([await c.sign("cert/pub", "counter", "add", { n: 1 })]);
    expect(await publishCertified(env, small)).toEqual({ via: "queue" });
    await eventually(async () => {
      for (const r of REPLICAS) expect((await certStats(r)).seq).toBe(10);
    });
    // 30 register values of 4,000 bytes: past a queue message's bound
    const big = [];
    for (let i = 0; i < 30; i++)
      big.push(await c.sign(`cert/big/${i}`, "register", "set", { v: "y".repeat(4000) }));
    const large = await cluster.certify(big);
    expect(JSON.stringify(large.message).length).toBeGreaterThan(CERTIFICATE_MESSAGE_BYTES_MAX);
    expect(await publishCertified(env, large)).toEqual({ via: "rpc", failed: [] });
    for (const r of REPLICAS) expect((await certStats(r)).seq).toBe(11);
    const read = await readAt("cert/big/29", "apac");
    expect(
      verifyStateProof(large.body.stateRoot, "cert/big/29", read.certified!.value, read.certified!.proof),
    ).toBe(true);
  });

  it("a certificate of another configuration (node 0's key rotated, or another deployment name) is refused as wrong_cluster, even signed only by nodes whose keys both share", async () => {
    const c = client.c;
    const next = await cluster.certify([await c.sign("cert/rotated", "counter", "add", { n: 1 })]);
    const node0 = {
      id: PBFT_NODES[0]!.id,
      publicKey: (await devKeyPair("rotated", PBFT_NODES[0]!.id)).publicKey,
    };
    const rotated = { ...cluster.config, nodes: [node0, ...cluster.config.nodes.slice(1)] };
    const renamed = { ...cluster.config, cluster: "another-deployment" };
    const before = await settled();
    for (const other of [rotated, renamed]) {
      const body = { ...next.body, cluster: clusterId(other) };
      const sigs = (await cluster.sign(body, [1, 2, 3])).map(({ node, sig }) => ({ node, sig }));
      // a good certificate where it was signed: only the configuration differs
      expect(await verifyCertificate({ body, sigs }, other)).toEqual({ ok: true });
      for (const r of REPLICAS)
        expect(
          await stub(r).receiveCertified(
            r,
            certifiedBatchText({ certificate: { body, sigs }, ops: next.ops }),
          ),
        ).toMatchObject({
          outcome: "invalid",
          reason: "wrong_cluster",
        });
    }
    expect(await digestAll()).toEqual(before);
    for (const r of REPLICAS)
      expect(await stub(r).receiveCertified(r, certifiedBatchText(next.message))).toMatchObject({
        outcome: "applied",
        head: 12,
      });
  });

  it("an empty batch (a heartbeat) applies: a new seq and time, the same state root and op count", async () => {
    const prev = (await certStats("weur")).seq;
    const last = (await readAt("cert/rotated", "weur")).certificate!;
    const beat = await cluster.certify([]);
    expect(beat.body).toMatchObject({
      seq: prev + 1,
      stateRoot: last.body.stateRoot,
      opCount: last.body.opCount,
    });
    expect(beat.body.time).toBeGreaterThan(last.body.time);
    await deliverCertified([beat.message]);
    for (const r of REPLICAS) {
      expect(await certStats(r)).toMatchObject({ seq: prev + 1, certification: "ok", rootMismatches: 0 });
      const read = await readAt("cert/rotated", r);
      expect(read.certificate!.body).toEqual(beat.body);
      expect(read.certified!.value).toMatchObject({ value: 1 });
    }
  });
});
