/**
 * Freshness at the edge, in workerd with real replicas: every reply kind (and a signed refusal)
 * carries the request's `x-aspec-nonce` under the replica's signature, a bad nonce is `400
 * invalid_nonce` and changes nothing, the dev fault `replayOld` (an old signed read served again)
 * is refused by the SDK as `reply_replayed`, and `GET /v1/replicas` marks a replica whose newest
 * certificate is older than the bound as stale (hand-crafted certificates, CERTIFY=off).
 */
import { certifiedBatchText } from "../../shared/wire/certified-batch.js";
import { SELF, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { AspecClient } from "../../client/client.js";
import { ReplyVerificationError } from "../../client/errors.js";
import { freshNonce } from "../../client/nonce.js";
import { toB64u } from "../../shared/bytes.js";
import { opIdOf, type SignedOp } from "../../shared/ops.js";
import {
  verifyErrorReply,
  verifyReply,
  type ErrorReply,
  type ReplicaInfo,
  type ReplicaReply,
} from "../../shared/replies.js";
import { replicaInfos } from "../../platform/keys.js";
import { TestCluster } from "./cert-helpers.js";
import { setFaults } from "./delivery-helpers.js";
import { TestClient, stub } from "./helpers.js";

const BASE = "https://edge.test";

const call = (path: string, nonce: string | undefined, init: RequestInit = {}) =>
  SELF.fetch(`${BASE}${path}`, {
    ...init,
    headers: {
      "content-type": "application/json",
      ...(nonce === undefined ? {} : { "x-aspec-nonce": nonce }),
    },
  });
const postOp = (op: SignedOp, replica: string, nonce: string | undefined) =>
  call(`/v1/ops?replica=${replica}`, nonce, { method: "POST", body: JSON.stringify(op) });

async function keyOf(name: string): Promise<string> {
  return (await replicaInfos(env)).find((r: ReplicaInfo) => r.name === name)!.publicKey;
}

describe("replies carry the request's nonce, signed", () => {
  it("in every reply kind and in a signed refusal; absent when the request had none, or the reply is the edge cache's", async () => {
    const cluster = await TestCluster.create();
    const c = await TestClient.create();
    const op = await c.sign("fresh/n", "counter", "add", { n: 2 });
    const key = await keyOf("weur");
    const signedBack = async (res: Response, nonce: string | undefined) => {
      const body = (await res.json()) as ReplicaReply & { nonce?: string };
      expect(body.nonce).toBe(nonce);
      expect(await verifyReply(key, body)).toBe(true);
      expect(await verifyReply(key, { ...body, nonce: freshNonce() })).toBe(false); // the nonce is signed
      return body;
    };
    let n = freshNonce();
    expect((await signedBack(await postOp(op, "weur", n), n)).kind).toBe("op");
    await stub("weur").receiveCertified("weur", certifiedBatchText((await cluster.certify([op])).message));
    const paths = [
      "/v1/kv/fresh%2Fn?replica=weur",
      `/v1/ops/${encodeURIComponent(opIdOf(op))}?replica=weur`,
      "/v1/certificates/latest?replica=weur",
      "/v1/certificates/1?replica=weur",
      `/v1/clients/${c.key.publicKey}/evidence?replica=weur`,
    ];
    const kinds: string[] = [];
    for (const path of paths) {
      n = freshNonce();
      kinds.push((await signedBack(await call(path, n), n)).kind);
    }
    expect(kinds).toEqual(["read", "op-status", "certificate", "certificate", "evidence"]);
    // a 32-byte nonce, the longest, is taken too
    n = toB64u(crypto.getRandomValues(new Uint8Array(32)));
    await signedBack(await call("/v1/kv/fresh%2Fn?replica=weur", n), n);
    // a signed refusal
    n = freshNonce();
    const refused = await call(`/v1/ops/${encodeURIComponent(`${c.key.publicKey}:99`)}?replica=weur`, n);
    expect(refused.status).toBe(404);
    const err = (await refused.json()) as ErrorReply;
    expect(err).toMatchObject({ error: { code: "unknown_op_id" }, kind: "error", nonce: n });
    expect(await verifyErrorReply(key, err)).toBe(true);
    expect(await verifyErrorReply(key, { ...err, nonce: freshNonce() })).toBe(false);
    // no nonce sent (plain curl): none in the reply
    await signedBack(await call("/v1/kv/fresh%2Fn?replica=weur", undefined), undefined);
    // a certified read through the edge cache carries none either: it answers every reader
    for (const state of ["miss", "hit"]) {
      const res = await call("/v1/kv/fresh%2Fn?replica=weur&view=certified", freshNonce());
      expect(res.headers.get("x-aspec-cache")).toBe(state);
      expect((await signedBack(res, undefined)).kind).toBe("certified-read");
    }
  });

  it("a bad nonce is 400 invalid_nonce, before any replica sees the request: nothing changes", async () => {
    const c = await TestClient.create();
    const bad = [
      "short",
      toB64u(new Uint8Array(15)), // 15 bytes
      toB64u(new Uint8Array(33)), // 33 bytes
      `${freshNonce()}==`, // padded
      freshNonce().replace(/.$/, "+"), // not base64url
    ];
    const before = await stub("enam").stats();
    const op = await c.sign("fresh/bad", "counter", "add", { n: 1 });
    for (const nonce of bad) {
      const res = await postOp(op, "enam", nonce);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: { code: "invalid_nonce", message: expect.any(String) } });
      const read = await call("/v1/kv/fresh%2Fbad?replica=enam", nonce);
      expect(read.status).toBe(400);
    }
    expect((await stub("enam").stats()).head).toBe(before.head); // no own op logged
    const status = await call(`/v1/ops/${encodeURIComponent(opIdOf(op))}?replica=enam`, undefined);
    expect(status.status).toBe(404); // never applied
    // the same op with a good nonce is new to the replica: its seq was never consumed
    const n = freshNonce();
    const ok = await postOp(op, "enam", n);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ kind: "op", duplicate: false, nonce: n });
  });
});

describe("the replica's own check of the nonce the edge passes", () => {
  it("a nonce that is not one is refused invalid_nonce and never signed back", async () => {
    await call("/v1/kv/fresh%2Fn?replica=weur", undefined); // the replica knows its name
    const r = await stub("weur").read("weur", "fresh/n", "not a nonce");
    expect(r.ok).toBe(false);
    expect(r).toMatchObject({ error: { code: "invalid_nonce" } });
    expect(r).not.toHaveProperty("nonce");
  });
});

describe("replayOld (dev fault): an old signed read served again", () => {
  it("is refused by the SDK as reply_replayed: no evidence, the replica is not left", async () => {
    const c = await TestClient.create();
    expect(
      (await postOp(await c.sign("fresh/replay", "counter", "add", { n: 1 }), "apac", undefined)).status,
    ).toBe(200);
    const fetch = (input: RequestInfo | URL, init?: RequestInit) => SELF.fetch(input, init);
    const client = await AspecClient.connect({ endpoint: BASE, replica: "apac", fetch, failover: false });
    await setFaults("apac", { replayOld: true });
    try {
      const first = await client.get("fresh/replay"); // kept by the replica as it signed it
      expect(first.value).toBe(1);
      const e = await client.get("fresh/replay").catch((x: unknown) => x);
      expect(e).toBeInstanceOf(ReplyVerificationError);
      expect((e as ReplyVerificationError).reason).toBe("reply_replayed");
      expect((e as ReplyVerificationError).reply).toMatchObject({ nonce: first.nonce });
      await client.reported();
      expect(client.leftReplicas).toEqual([]);
      expect(client.restingReplicas).toEqual([]); // no failover asked: nothing to rest from
    } finally {
      await setFaults("apac", {});
      client.close();
    }
    const fresh = await AspecClient.connect({ endpoint: BASE, replica: "apac", fetch, failover: false });
    expect((await fresh.get("fresh/replay")).value).toBe(1); // fault off: fresh replies again
    fresh.close();
  });
});

describe("GET /v1/replicas: freshness", () => {
  it("shows each replica's newest certified seq and its age, and marks one whose certificate is stale", async () => {
    const cluster = await TestCluster.create();
    const c = await TestClient.create();
    const op = await c.sign("fresh/stale", "counter", "add", { n: 1 });
    for (const r of ["weur", "enam", "apac"]) expect((await postOp(op, r, undefined)).status).toBe(200);
    cluster.time = Date.now() - 60_000;
    const old = await cluster.certify([op]); // a minute old
    const fresh = await cluster.certify([], { time: Date.now() });
    for (const r of ["enam", "apac"]) {
      expect((await stub(r).certifiedHead(r)).seq).toBe(0);
      await stub(r).receiveCertified(r, certifiedBatchText(old.message));
    }
    await stub("enam").receiveCertified("enam", certifiedBatchText(fresh.message)); // apac stops receiving certificates
    const res = await SELF.fetch(`${BASE}/v1/replicas`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      staleAfterMs: number;
      freshness: Record<string, { seq: number; ageMs: number | null; behind: number; stale: boolean } | null>;
    };
    expect(body.staleAfterMs).toBe(10_000);
    expect(body.freshness.enam).toMatchObject({ seq: fresh.body.seq, behind: 0, stale: false });
    expect(body.freshness.enam!.ageMs).toBeLessThan(10_000);
    expect(body.freshness.apac).toMatchObject({ seq: old.body.seq, behind: 1, stale: true });
    expect(body.freshness.apac!.ageMs).toBeGreaterThanOrEqual(60_000);
  });
});
