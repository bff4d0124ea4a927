/**
 * Who may write, with the four PBFT nodes live (nothing hand-made: the certificates are the nodes'
 * own): two clients claim one namespace at two replicas at once; the nodes certify exactly one
 * claim, every replica's certified record (its Merkle proof checked) names that one owner, and the
 * other client's write there is then refused at every replica.
 */
import { describe, expect, it } from "vitest";
import { verifyResultProof, verifyStateProof } from "../../shared/certified/proofs.js";
import { opIdOf, type SignedOp } from "../../shared/ops.js";
import type { OpStatusReply, ReadReply } from "../../shared/replies.js";
import { REPLICAS, eventually, post, TestClient } from "../runtime/helpers.js";
import { get } from "./support.js";

const certifiedStatus = async (op: SignedOp, replica: string) =>
  (await (
    await get(`/v1/ops/${encodeURIComponent(opIdOf(op))}?replica=${replica}&wait=certified&timeoutMs=20000`)
  ).json()) as OpStatusReply;

describe("namespaces, certified by the live nodes", () => {
  it("a claim race at two replicas: exactly one certified owner everywhere; the other is namespace_taken and then refused", async () => {
    const a = await TestClient.create();
    const b = await TestClient.create();
    const ca = await a.sign("@cl-ns", "namespace", "claim", {});
    const cb = await b.sign("@cl-ns", "namespace", "claim", {});
    const [ra, rb] = await Promise.all([post(ca, "weur"), post(cb, "apac")]);
    expect([ra.status, rb.status]).toEqual([200, 200]); // ok or rejected, each as its replica saw it
    const results = [
      (await certifiedStatus(ca, "weur")).certified!,
      (await certifiedStatus(cb, "apac")).certified!,
    ];
    for (const x of results)
      expect(verifyResultProof(x.certificate.body.resultsRoot, x.result, x.proof)).toBe(true);
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
});
