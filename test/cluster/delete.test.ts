/**
 * Delete with the four PBFT nodes live (nothing hand-made: the certificates are the nodes' own): a
 * key written, then deleted, is certified absent at every replica, with a proof of absence against
 * the certificate's state root; the tentative read agrees.
 */
import { describe, expect, it } from "vitest";
import { verifyResultProof, verifyStateProof } from "../../shared/certified/proofs.js";
import type { ReadReply } from "../../shared/replies.js";
import { REPLICAS, eventually, post, TestClient } from "../runtime/helpers.js";
import { certifiedStatus, get } from "./support.js";

describe("delete, certified by the live nodes", () => {
  it("write then delete: every replica's certified read proves the key absent", async () => {
    const c = await TestClient.create();
    const add = await c.sign("cl-del/hits", "counter", "add", { n: 3 });
    expect((await post(add, "weur")).status).toBe(200);
    expect((await certifiedStatus(add, "weur")).certified!.result.status).toBe("ok");
    const del = await c.sign("cl-del/hits", "counter", "delete", {});
    expect((await post(del, "enam")).status).toBe(200);
    const certified = (await certifiedStatus(del, "enam")).certified!;
    expect(certified.result).toMatchObject({ status: "ok", value: 0 });
    expect(verifyResultProof(certified.certificate.body.resultsRoot, certified.result, certified.proof)).toBe(
      true,
    );
    await eventually(async () => {
      for (const r of REPLICAS) {
        const read = (await (await get(`/v1/kv/cl-del%2Fhits?replica=${r}`)).json()) as ReadReply;
        expect(read.certified, r).not.toBeNull();
        expect(read.certified!.seq, r).toBeGreaterThanOrEqual(certified.seq);
        expect(read.certified!.value, r).toBeNull();
        expect(verifyStateProof(read.certified!.stateRoot, "cl-del/hits", null, read.certified!.proof)).toBe(
          true,
        );
        expect({ type: read.type, value: read.value }, `${r} tentative`).toEqual({ type: null, value: null });
      }
    }, 20_000);
  });
});
