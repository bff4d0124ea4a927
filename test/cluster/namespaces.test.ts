/**
 * Who may write, with the four PBFT nodes live (nothing hand-made: the certificates are the nodes'
 * own): two clients claim one namespace at two replicas at once; the nodes certify exactly one
 * claim, every replica's certified record (its Merkle proof checked) names that one owner, and the
 * other client's write there is then refused at every replica.
 */
import { describe, expect, it } from "vitest";
import { verifyStateProof } from "../../shared/certified/proofs.js";
import type { ReadReply } from "../../shared/replies.js";
import { REPLICAS, eventually, post, TestClient } from "../runtime/helpers.js";
import { certifiedStatus, get, raceCertified } from "./support.js";

describe("namespaces, certified by the live nodes", () => {
  it("a claim race at two replicas: exactly one certified owner everywhere; the other is namespace_taken and then refused", async () => {
    const a = await TestClient.create();
    const b = await TestClient.create();
    const ca = await a.sign("@cl-ns", "namespace", "claim", {});
    const cb = await b.sign("@cl-ns", "namespace", "claim", {});
    const results = await raceCertified(ca, cb);
    expect(results.map((x) => x.result.status).sort()).toEqual(["ok", "rejected"]);
    expect(results.find((x) => x.result.status === "rejected")!.result.reason).toBe("namespace_taken");
    const [owner, loser] = results[0]!.result.status === "ok" ? [a, b] : [b, a];
    await eventually(async () => {
      for (const r of REPLICAS) {
        const read = (await (await get(`/v1/kv/%40cl-ns?replica=${r}`)).json()) as ReadReply;
        expect(read.certified?.value?.value, r).toEqual({ [owner.key.publicKey]: "owner" });
        expect(read.value, `${r} tentative`).toEqual({ [owner.key.publicKey]: "owner" });
        const c = read.certified!;
        expect(verifyStateProof(c.stateRoot, "@cl-ns", c.value, c.proof)).toBe(true);
      }
    }, 20_000);
    for (const r of REPLICAS) {
      const res = await post(await loser.sign("cl-ns/doc", "counter", "add", { n: 1 }), r);
      expect([r, res.status, ((await res.json()) as { error: { code: string } }).error.code]).toEqual([
        r,
        403,
        "not_authorized",
      ]);
    }
  });

  it("a CAS race at two replicas: exactly one certified ok, the other certified cas_failed", async () => {
    const c = await TestClient.create();
    const init = await c.sign("cl-cas/slot", "register", "set", { v: "free" });
    expect((await post(init, "weur")).status).toBe(200);
    for (const r of REPLICAS) await certifiedStatus(init, r); // every replica holds "free" certified
    const a = await TestClient.create();
    const b = await TestClient.create();
    const ca = await a.sign("cl-cas/slot", "register", "cas", { expected: "free", v: "a" });
    const cb = await b.sign("cl-cas/slot", "register", "cas", { expected: "free", v: "b" });
    const results = await raceCertified(ca, cb);
    expect(results.map((x) => x.result.status).sort()).toEqual(["ok", "rejected"]);
    expect(results.find((x) => x.result.status === "rejected")!.result.reason).toBe("cas_failed");
    const winner = results[0]!.result.status === "ok" ? "a" : "b";
    await eventually(async () => {
      for (const r of REPLICAS) {
        const read = (await (await get(`/v1/kv/cl-cas%2Fslot?replica=${r}`)).json()) as ReadReply;
        expect([r, read.certified?.value?.value, read.value]).toEqual([r, winner, winner]);
      }
    }, 20_000);
  });

  it("a write racing its writer's revocation: certified ok exactly when ordered before the revoke", async () => {
    const owner = await TestClient.create();
    const writer = await TestClient.create();
    const claim = await owner.sign("@cl-rv", "namespace", "claim", {});
    const grant = await owner.sign("@cl-rv", "namespace", "grant", {
      publicKey: writer.key.publicKey,
      role: "writer",
    });
    expect((await post(claim, "weur")).status).toBe(200);
    expect((await post(grant, "weur")).status).toBe(200);
    for (const r of REPLICAS) await certifiedStatus(grant, r);
    const revoke = await owner.sign("@cl-rv", "namespace", "revoke", { publicKey: writer.key.publicKey });
    const write = await writer.sign("cl-rv/doc", "counter", "add", { n: 1 });
    const [rr, rw] = await Promise.all([post(revoke, "weur"), post(write, "apac")]);
    expect(rr.status).toBe(200);
    if (rw.status === 403) return; // apac had the revocation already: refused at the edge, nothing to certify
    expect(rw.status).toBe(200);
    const rc = (await certifiedStatus(revoke, "weur")).certified!;
    const wc = (await certifiedStatus(write, "apac")).certified!;
    const [ws, rs] = [wc.certificate.body.seq, rc.certificate.body.seq];
    const before = ws < rs || (ws === rs && wc.proof.index < rc.proof.index);
    expect(wc.result).toMatchObject(
      before ? { status: "ok" } : { status: "rejected", reason: "not_authorized" },
    );
    // and afterwards, at every replica, the writer is refused
    for (const r of REPLICAS) await certifiedStatus(revoke, r);
    const again = await post(await writer.sign("cl-rv/doc", "counter", "add", { n: 1 }), "enam");
    expect(again.status).toBe(403);
  });
});
