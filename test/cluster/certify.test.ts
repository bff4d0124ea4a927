/**
 * The four PBFT nodes live inside workerd (real SQLite-backed Durable Objects, real alarms, real
 * local queues, real Ed25519): ops written at the edge reach the nodes through the replicate queue,
 * are ordered and executed, and their certified batches reach every replica through the
 * certificates queue. Nothing here is hand-made: the certificates are the nodes' own.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { verifyCertificate } from "../../shared/certified/certificate.js";
import { verifyStateProof } from "../../shared/certified/proofs.js";
import { PBFT_NODES } from "../../shared/cluster-config.js";
import {
  verifyReply,
  type CertificateReply,
  type CertifiedReadReply,
  type OpReply,
  type OpStatusReply,
  type ReadReply,
} from "../../shared/replies.js";
import { verifyResultProof } from "../../shared/certified/proofs.js";
import { opIdOf } from "../../shared/ops.js";
import { nodesOf } from "../../platform/pbft-node-stub.js";
import { REPLICAS, eventually, post, TestClient } from "../runtime/helpers.js";
import { clusterConfig, get } from "./support.js";

describe("the PBFT cluster on four Durable Objects", () => {
  it("ops written at all three replicas are certified by the nodes and every replica holds the certificate", async () => {
    const c = await TestClient.create();
    const ops = [];
    for (const [i, r] of REPLICAS.entries()) {
      const op = await c.sign(`cl/k${i}`, "counter", "add", { n: i + 1 });
      ops.push(op);
      expect((await post(op, r)).status).toBe(200);
    }
    const config = await clusterConfig();
    // Every replica ends up with a certificate covering all three ops, signed by 2f+1 nodes.
    await eventually(async () => {
      for (const r of REPLICAS) {
        const reply = (await (await get(`/v1/certificates/latest?replica=${r}`)).json()) as CertificateReply;
        expect(reply.certificate, r).not.toBeNull();
        expect(reply.certificate!.body.opCount, r).toBeGreaterThanOrEqual(3);
        expect(await verifyCertificate(reply.certificate!, config)).toMatchObject({ ok: true });
      }
    }, 30_000);
    // Certified reads: the value with a proof against the certificate's state root.
    for (const [i, r] of REPLICAS.entries()) {
      const read = (await (await get(`/v1/kv/cl%2Fk${i}?replica=${r}`)).json()) as ReadReply;
      expect(read.certified, r).toBeTruthy();
      const root = read.certificate!.body.stateRoot;
      expect(verifyStateProof(root, `cl/k${i}`, read.certified!.value, read.certified!.proof)).toBe(true);
      expect(read.certified!.value).toMatchObject({ type: "counter", value: i + 1 });
    }
    // The nodes agree on what they executed.
    const status = await Promise.all(PBFT_NODES.map((n) => nodesOf(env).status(n.id)));
    for (const s of status) expect(s.lastExecuted).toBeGreaterThanOrEqual(1);
    expect(status.reduce((a, s) => a + s.certificatesPosted, 0)).toBeGreaterThanOrEqual(1);
  });
});

describe("account decided in the BFT order", () => {
  it("two withdraws of the last funds at two replicas: both tentatively ok, exactly one certified ok", async () => {
    const c = await TestClient.create();
    const deposit = await c.sign("cl/acct", "account", "deposit", { n: 10 });
    expect((await post(deposit, "weur")).status).toBe(200);
    // wait until both other replicas saw the deposit (tentatively: balance 10 everywhere)
    const status = async (opId: string, r: string, wait = false) =>
      (await (
        await get(`/v1/ops/${opId}?replica=${r}${wait ? "&wait=certified&timeoutMs=20000" : ""}`)
      ).json()) as OpStatusReply;
    await eventually(async () => {
      for (const r of ["enam", "apac"])
        expect((await status(opIdOf(deposit), r)).tentative?.status).toBe("ok");
    });
    const w1 = await c.sign("cl/acct", "account", "withdraw", { n: 7 });
    const w2 = await c.sign("cl/acct", "account", "withdraw", { n: 7 });
    const [r1, r2] = await Promise.all([post(w1, "enam"), post(w2, "apac")]);
    const t1 = (await r1.json()) as OpReply;
    const t2 = (await r2.json()) as OpReply;
    expect([t1.tentative.status, t2.tentative.status]).toEqual(["ok", "ok"]); // each saw 10
    const s1 = await status(opIdOf(w1), "enam", true);
    const s2 = await status(opIdOf(w2), "apac", true);
    const certified = [s1.certified!, s2.certified!];
    for (const x of certified) {
      expect(x, "certified within the wait").toBeTruthy();
      expect(verifyResultProof(x.certificate.body.resultsRoot, x.result, x.proof)).toBe(true);
    }
    const statuses = certified.map((x) => x.result.status).sort();
    expect(statuses).toEqual(["ok", "rejected"]);
    expect(certified.find((x) => x.result.status === "rejected")!.result.reason).toBe("insufficient_funds");
    // The certified balance is 3 everywhere, whatever each replica said at first, and so is the
    // tentative one (tentative = certified + nothing uncertified): the rejected withdraw left it.
    await eventually(async () => {
      for (const r of REPLICAS) {
        const read = (await (await get(`/v1/kv/cl%2Facct?replica=${r}`)).json()) as ReadReply;
        expect(read.certified?.value?.value, r).toBe(3);
        expect(read.value, `${r} tentative`).toBe(3);
      }
    }, 20_000);
  });

  it("GET /v1/ops/:id: an unknown op is 404 unknown_op_id; a malformed id or wait is 400", async () => {
    const c = await TestClient.create();
    const unknown = await get(`/v1/ops/${c.key.publicKey}:99?replica=weur`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe("unknown_op_id");
    for (const bad of [
      "x:1",
      `${c.key.publicKey}:0`,
      `${c.key.publicKey}:1?wait=forever`,
      `${c.key.publicKey}:1?wait=certified&timeoutMs=30001`,
    ]) {
      const res = await get(`/v1/ops/${bad}${bad.includes("?") ? "&" : "?"}replica=weur`);
      expect(res.status, bad).toBe(400);
    }
  });
});

describe("certified reads through the edge cache", () => {
  it("a miss then hits for one certified seq; a newer certificate misses; a hit verifies like the miss", async () => {
    const c = await TestClient.create();
    const config = await clusterConfig();
    const write = async (n: number) => {
      const op = await c.sign("cl/cached", "counter", "add", { n });
      expect((await post(op, "weur")).status).toBe(200);
      const s = await (await get(`/v1/ops/${opIdOf(op)}?replica=weur&wait=certified&timeoutMs=20000`)).json();
      expect((s as OpStatusReply).pending).toBe(false);
    };
    await write(5);
    const readCertified = async () => {
      const res = await get("/v1/kv/cl%2Fcached?replica=weur&view=certified");
      expect(res.status).toBe(200);
      return {
        cache: res.headers.get("x-aspec-cache"),
        seq: Number(res.headers.get("x-aspec-certified-seq")),
        body: await res.text(),
      };
    };
    const first = await readCertified();
    const second = await readCertified();
    expect(first.cache).toBe("miss");
    expect(second.cache).toBe("hit");
    expect(second.seq).toBe(first.seq);
    expect(second.body).toBe(first.body); // the replica's signed bytes, as stored
    for (const r of [first, second]) {
      const reply = JSON.parse(r.body) as CertifiedReadReply;
      expect(reply.certified.seq).toBe(r.seq); // never a newer seq than the entry was stored with
      expect(await verifyCertificate(reply.certificate, config)).toMatchObject({ ok: true });
      expect(
        verifyStateProof(
          reply.certificate.body.stateRoot,
          "cl/cached",
          reply.certified.value,
          reply.certified.proof,
        ),
      ).toBe(true);
      expect(reply.certified.value).toMatchObject({ value: 5 });
      const replicas = (await (await get("/v1/replicas")).json()) as {
        replicas: { name: string; publicKey: string }[];
      };
      const pub = replicas.replicas.find((x) => x.name === "weur")!.publicKey;
      expect(await verifyReply(pub, reply)).toBe(true); // signed by the replica, hit or miss
      expect(await verifyReply(pub, { ...reply, time: reply.time + 1 })).toBe(false);
    }
    await write(2); // a newer certificate: the next read misses, then hits again
    const third = await readCertified();
    expect(third.seq).toBeGreaterThan(first.seq);
    expect(third.cache).toBe("miss");
    expect((JSON.parse(third.body) as CertifiedReadReply).certified.value).toMatchObject({ value: 7 });
    expect((await readCertified()).cache).toBe("hit");
    const bad = await get("/v1/kv/cl%2Fcached?replica=weur&view=everything");
    expect(bad.status).toBe(400);
  });
});

describe("heartbeat", () => {
  it("with nothing written, the cluster keeps certifying: every replica's newest certificate moves on, same state, later time", async () => {
    const config = await clusterConfig();
    const latest = async (r: string) =>
      ((await (await get(`/v1/certificates/latest?replica=${r}`)).json()) as CertificateReply).certificate;
    // the nodes run (earlier tests wrote); wait for a first certificate at every replica
    await eventually(async () => {
      for (const r of REPLICAS) expect(await latest(r), r).not.toBeNull();
    }, 30_000);
    const before = await Promise.all(REPLICAS.map(latest));
    await eventually(async () => {
      for (const [i, r] of REPLICAS.entries()) {
        const now = (await latest(r))!;
        expect(now.body.seq, r).toBeGreaterThanOrEqual(before[i]!.body.seq + 2);
      }
    }, 30_000);
    for (const [i, r] of REPLICAS.entries()) {
      const now = (await latest(r))!;
      expect(await verifyCertificate(now, config)).toEqual({ ok: true });
      expect(now.body.opCount, r).toBe(before[i]!.body.opCount);
      expect(now.body.stateRoot, r).toBe(before[i]!.body.stateRoot);
      expect(now.body.time, r).toBeGreaterThan(before[i]!.body.time);
    }
  });
});
