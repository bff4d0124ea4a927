/**
 * A replica applying a certified batch does not verify its ops' client signatures again: 2f+1
 * nodes verified each op before they certified it, and the certificate (verified here, real
 * Ed25519) covers them. The replicate path (uncertified ops from peers) still verifies each op:
 * test/runtime/replication.test.ts, "an op whose client signature does not verify is dropped".
 * Its own file: it certifies an op no client signed.
 */
import { describe, expect, it } from "vitest";
import { verifyOp } from "../../shared/ops.js";
import { certifiedBatchText } from "../../shared/wire/certified-batch.js";
import { TestCluster } from "./cert-helpers.js";
import { REPLICAS, stub, TestClient } from "./helpers.js";

describe("certified batches at a replica", () => {
  it("ops under a valid certificate are applied without verifying their client signatures again", async () => {
    const cluster = await TestCluster.create();
    const c = await TestClient.create();
    const signed = await c.sign("trust/n", "counter", "add", { n: 5 });
    // The same op under another client's signature: it does not verify, but it is what was certified.
    const other = await (await TestClient.create()).sign("trust/n", "counter", "add", { n: 5 });
    const op = { ...signed, sig: other.sig };
    expect(await verifyOp(op)).toBe(false);
    const made = await cluster.certify([op]);
    const r = REPLICAS[0]!;
    expect(await stub(r).receiveCertified(r, certifiedBatchText(made.message))).toMatchObject({
      outcome: "applied",
      seq: 1,
    });
    expect((await stub(r).certificationStats()).seq).toBe(1);
  });
});
