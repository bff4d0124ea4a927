/**
 * A deployment that opens one namespace (`OPEN_NAMESPACES: "open"`, this project's binding), with
 * the four PBFT nodes live: the nodes and the replicas run the same list (it is part of the cluster
 * configuration every certificate names), a stranger's write to an unclaimed closed namespace is
 * refused at the edge, a claim is certified and its owner's writes too, and the open namespace takes
 * anyone's write.
 */
import { describe, expect, it } from "vitest";
import { verifyResultProof } from "../../shared/certified/proofs.js";
import type { ClusterInfo } from "../../shared/cluster-config.js";
import { opIdOf, type SignedOp } from "../../shared/ops.js";
import type { OpStatusReply } from "../../shared/replies.js";
import { REPLICAS, post, TestClient } from "../runtime/helpers.js";
import { get } from "../cluster/support.js";

const certified = async (op: SignedOp, replica: string) => {
  const path = `/v1/ops/${encodeURIComponent(opIdOf(op))}?replica=${replica}&wait=certified&timeoutMs=20000`;
  const c = ((await (await get(path)).json()) as OpStatusReply).certified!;
  expect(verifyResultProof(c.certificate.body.resultsRoot, c.result, c.proof)).toBe(true);
  return c.result;
};

describe("a deployment with one open namespace", () => {
  it("GET /v1/cluster names the list the nodes certify under", async () => {
    const info = (await (await get("/v1/cluster")).json()) as ClusterInfo;
    expect(info.openNamespaces).toEqual(["open"]);
  });

  it("an unclaimed closed namespace: refused at every replica; claimed, its owner's writes are certified", async () => {
    const owner = await TestClient.create();
    for (const r of REPLICAS) {
      const res = await post(await owner.sign("shop/cart", "counter", "add", { n: 1 }), r);
      expect([r, res.status]).toEqual([r, 403]);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_authorized");
    }
    const claim = await owner.sign("@shop", "namespace", "claim", {});
    expect((await post(claim, "weur")).status).toBe(200);
    expect(await certified(claim, "weur")).toMatchObject({ status: "ok" });
    // every replica certified the claim before the write goes to the last one
    const write = await owner.sign("shop/cart", "counter", "add", { n: 2 });
    for (const r of REPLICAS) await certified(claim, r);
    expect((await post(write, "apac")).status).toBe(200);
    expect(await certified(write, "apac")).toMatchObject({ status: "ok" });
    const stranger = await TestClient.create();
    const res = await post(await stranger.sign("shop/cart", "counter", "add", { n: 1 }), "enam");
    expect(res.status).toBe(403);
  });

  it("the open namespace takes anyone's write, certified", async () => {
    const c = await TestClient.create();
    const op = await c.sign("open/hits", "counter", "add", { n: 1 });
    expect((await post(op, "enam")).status).toBe(200);
    expect(await certified(op, "enam")).toMatchObject({ status: "ok" });
  });
});
