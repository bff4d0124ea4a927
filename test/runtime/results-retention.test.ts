/**
 * An op's certified result stays answerable long after its batch: `GET /v1/ops/:id` proves it for
 * RESULTS_KEPT_MS of the cluster's clock, however many seqs come after (heartbeats certify an empty
 * batch every 2 s, so a window counted in seqs would forget a result within minutes of idling, and
 * under load within seconds: the op would read `pending` for good).
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { CERTS_KEPT, RESULTS_KEPT_MS } from "../../durable-objects/certified-replica.js";
import { verifyResultProof } from "../../shared/certified/proofs.js";
import { opIdOf } from "../../shared/ops.js";
import type { OpStatusReply } from "../../shared/replies.js";
import { deliverCertified, TestCluster } from "./cert-helpers.js";
import { REPLICAS, post, stub, TestClient } from "./helpers.js";

const opStatus = async (id: string, r: string) =>
  (await (
    await SELF.fetch(`https://edge.test/v1/ops/${encodeURIComponent(id)}?replica=${r}`)
  ).json()) as OpStatusReply;

describe("certified results are kept by time, not by seq", () => {
  it(
    "an op certified, then more than CERTS_KEPT seqs: still certified, with its proof",
    { timeout: 60_000 },
    async () => {
      const cluster = await TestCluster.create();
      const c = await TestClient.create();
      const op = await c.sign("rr/k", "counter", "add", { n: 1 });
      expect((await post(op, "weur")).status).toBe(200);
      const first = await cluster.certify([op]);
      await deliverCertified([first.message]);
      // heartbeats: empty batches, 1 ms of cluster clock apart
      for (let i = 0; i < CERTS_KEPT + 8; i += 16)
        await deliverCertified(
          await Promise.all(Array.from({ length: 16 }, () => cluster.certify([]).then((m) => m.message))),
        );
      for (const r of REPLICAS) {
        expect((await stub(r).stats()).certification.seq).toBeGreaterThan(CERTS_KEPT + 1);
        const s = await opStatus(opIdOf(op), r);
        expect(s.pending, r).toBe(false);
        expect(s.certified!.seq).toBe(1);
        expect(s.certified!.certificate).toEqual(first.certificate);
        expect(verifyResultProof(first.body.resultsRoot, s.certified!.result, s.certified!.proof)).toBe(true);
      }
      // past RESULTS_KEPT_MS of the cluster's clock (the op log's horizon too), the result is collected
      cluster.time += RESULTS_KEPT_MS;
      await deliverCertified([(await cluster.certify([])).message]);
      expect((await opStatus(opIdOf(op), "enam")).certified).toBeNull();
    },
  );
});
