/**
 * `delete` end to end in workerd, with real SQLite-backed replicas and real Ed25519: a tentative read
 * of a deleted key answers as a never-written one; a certified batch holding the delete (made as the
 * PBFT nodes make it, cert-helpers.ts) removes the key from every replica's certified state, and
 * `?view=certified` proves its absence as the SDK (client/verify.ts) checks it. The tests of this
 * file share one certified history (seq 1, 2, …), in order.
 */
import { SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { AspecClient } from "../../client/client.js";
import { verifyStateProof } from "../../shared/certified/proofs.js";
import { opIdOf } from "../../shared/ops.js";
import type { CertifiedReadReply, OpReply, OpStatusReply, ReadReply } from "../../shared/replies.js";
import { deliverCertified, TestCluster } from "./cert-helpers.js";
import { REPLICAS, eventually, post, TestClient } from "./helpers.js";

const BASE = "https://edge.test";
const get = (path: string) => SELF.fetch(`${BASE}${path}`);
const readAt = async (key: string, replica: string) =>
  (await (await get(`/v1/kv/${encodeURIComponent(key)}?replica=${replica}`)).json()) as ReadReply;
const fetch = (input: RequestInfo | URL, init?: RequestInit) => SELF.fetch(input, init);

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await TestCluster.create();
});

describe("delete at the edge", () => {
  it("write, delete: the tentative read at every replica is a never-written key's", async () => {
    const c = await TestClient.create();
    const set = await c.sign("del/r", "register", "set", { v: "x" });
    const del = await c.sign("del/r", "register", "delete", {});
    expect((await post(set, "weur")).status).toBe(200);
    const r = (await (await post(del, "weur")).json()) as OpReply;
    expect(r).toMatchObject({ type: "register", tentative: { status: "ok", value: null } });
    const never = await readAt("del/never-written", "weur");
    for (const replica of REPLICAS)
      await eventually(async () => {
        const read = await readAt("del/r", replica);
        expect({ type: read.type, value: read.value }).toEqual({ type: never.type, value: never.value });
      });
  });

  it("the SDK's handles delete: counter, set, account (an account only at 0: rejected not_empty)", async () => {
    // k = ∞: nothing waits for certificates (no nodes run here)
    const client = await AspecClient.connect({
      endpoint: BASE,
      replica: "enam",
      fetch,
      failover: false,
      maxUncertified: Infinity,
    });
    try {
      await client.counter("del/c").add(3);
      expect((await client.counter("del/c").delete()).tentative).toMatchObject({ status: "ok", value: 0 });
      expect(await client.get("del/c")).toMatchObject({ type: null, value: null });
      await client.set("del/s").add("a");
      await client.set("del/s").delete();
      expect(await client.get("del/s")).toMatchObject({ type: null, value: null });
      await client.account("del/a").deposit(2);
      const refused = await client.account("del/a").delete();
      expect(refused.tentative).toMatchObject({ status: "rejected", reason: "not_empty", value: 2 });
      expect((await client.get("del/a")).value).toBe(2);
    } finally {
      client.close();
    }
  });

  it("a delete with args, or of a namespace record, is refused with the one error shape; nothing written", async () => {
    const c = await TestClient.create();
    const bad = await c.sign("del/bad", "counter", "delete", { n: 1 });
    const res = await post(bad, "weur");
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_args" } });
    const ns = await c.sign("@delns", "namespace", "delete", {});
    const nsRes = await post(ns, "weur");
    expect(nsRes.status).toBe(400);
    expect(await nsRes.json()).toMatchObject({ error: { code: "unknown_op" } });
    expect(await readAt("del/bad", "weur")).toMatchObject({ type: null, value: null });
  });
});

describe("delete in the certified order", () => {
  it("a certified delete removes the key: ?view=certified proves absence, and the SDK accepts it", async () => {
    const c = await TestClient.create();
    const add = await c.sign("del/cert", "counter", "add", { n: 7 });
    const keep = await c.sign("del/kept", "counter", "add", { n: 1 });
    for (const op of [add, keep]) expect((await post(op, "weur")).status).toBe(200);
    cluster.time = Date.now(); // the SDK refuses a certificate older than its bound
    const first = await cluster.certify([add, keep]);
    await deliverCertified([first.message]);
    const had = (await readAt("del/cert", "apac")).certified!.value!;
    expect(had).toMatchObject({ value: 7 });

    const del = await c.sign("del/cert", "counter", "delete", {});
    expect((await post(del, "weur")).status).toBe(200);
    const second = await cluster.certify([del]);
    expect(cluster.sm.get("del/cert")).toBeUndefined();
    await deliverCertified([second.message]);

    const client = await AspecClient.connect({ endpoint: BASE, replica: "apac", fetch, failover: false });
    try {
      for (const replica of REPLICAS) {
        const res = await get(`/v1/kv/del%2Fcert?view=certified&replica=${replica}`);
        expect(res.status).toBe(200);
        const reply = (await res.json()) as CertifiedReadReply;
        expect(reply.certificate.body.seq).toBe(2);
        expect(reply.certified).toMatchObject({ seq: 2, stateRoot: second.body.stateRoot, value: null });
        expect(verifyStateProof(second.body.stateRoot, "del/cert", null, reply.certified.proof)).toBe(true);
        // the same proof does not pass for the value the key had
        expect(verifyStateProof(second.body.stateRoot, "del/cert", had, reply.certified.proof)).toBe(false);
        // the tentative read, rebuilt on the certified state, is absent too; the other key is kept
        expect(await readAt("del/cert", replica)).toMatchObject({ type: null, value: null });
        expect((await readAt("del/kept", replica)).certified!.value).toMatchObject({ value: 1 });
      }
      // the SDK verifies the certificate and the absence proof (client/verify.ts)
      const verified = await client.getCertified("del/cert");
      expect(verified.certified).toMatchObject({ seq: 2, value: null });
    } finally {
      client.close();
    }
  });

  it("an account delete accepted at a replica that had not seen a deposit is certified rejected not_empty", async () => {
    const c = await TestClient.create();
    const dep = await c.sign("del/acct", "account", "deposit", { n: 5 });
    const del = await c.sign("del/acct", "account", "delete", {});
    // the delete reaches apac first: balance 0 there, accepted tentatively
    const tentative = (await (await post(del, "apac")).json()) as OpReply;
    expect(tentative.tentative).toMatchObject({ status: "ok" });
    expect((await post(dep, "weur")).status).toBe(200);
    // the certified order puts the deposit first
    const made = await cluster.certify([dep, del]);
    await deliverCertified([made.message]);
    const status = (await (
      await get(`/v1/ops/${encodeURIComponent(opIdOf(del))}?replica=apac`)
    ).json()) as OpStatusReply;
    expect(status.tentative).toMatchObject({ status: "ok" });
    expect(status.certified!.result).toMatchObject({ status: "rejected", reason: "not_empty", value: 5 });
    expect((await readAt("del/acct", "apac")).certified!.value).toMatchObject({ value: 5 });
  });
});
