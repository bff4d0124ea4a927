/**
 * A replica further behind than every node keeps certified batches (CERTIFIED_KEPT_SEQS, set low in
 * this project, with a fast heartbeat, so that "far behind" takes seconds, not hours): its catch-up
 * finds every node past the seq it needs but lacking it (`certified_gap_unrecoverable`), and it comes
 * back by itself through a certified state transfer from the nodes, then follows the batches again.
 * The live cluster, in workerd.
 */
import { env } from "cloudflare:test";
import { afterAll, describe, expect, it } from "vitest";
import { PBFT_NODES } from "../../shared/cluster-config.js";
import { certifiedHeadOf } from "../../platform/pbft-node-stub.js";
import { setFaults } from "../runtime/delivery-helpers.js";
import { REPLICAS, eventually, stub } from "../runtime/helpers.js";
import { allStatus, setNodeFaults, writeAndCertify } from "../cluster/support.js";

const kept = Number(env.CERTIFIED_KEPT_SEQS);
const nodeHeads = () => Promise.all(PBFT_NODES.map((n) => certifiedHeadOf(env, n)));

// Quiet the nodes before the pool tears the Worker down: with heartbeats every 100 ms a node is always
// handing a batch to the edge's entrypoint, and a call still in flight at teardown fails the run with
// vitest's "Closing rpc while 'resolve' was pending" (seen once in a clean-clone CI run).
afterAll(async () => {
  await Promise.all(PBFT_NODES.map((_, i) => setNodeFaults(i, { noPost: true })));
  await eventually(async () => {
    for (const s of await allStatus()) expect(s.postsInFlight).toBe(0);
  }, 10_000);
});

describe("a replica behind the nodes' retention", () => {
  it(
    "comes back to ok by itself (state transfer), then follows new batches",
    { timeout: 150_000 },
    async () => {
      expect(kept).toBeGreaterThanOrEqual(16);
      const x = REPLICAS[REPLICAS.length - 1]!;
      await writeAndCertify("ret-warm");
      await setFaults(x, { dropCertified: true }); // every copy lost: nothing is retried
      // x's head once the fault holds: a heartbeat batch (every 100 ms) may still land between
      // the write above and the fault, so read it only when it stops moving
      let headX = -1;
      await eventually(async () => {
        const before = (await stub(x).stats()).certification.seq;
        await new Promise((r) => setTimeout(r, 500));
        headX = (await stub(x).stats()).certification.seq;
        expect(headX).toBe(before);
      }, 10_000);
      // the heartbeat certifies empty batches: wait until the nodes hold none of x's next seqs
      await eventually(
        async () => expect(Math.min(...(await nodeHeads()))).toBeGreaterThan(headX + kept + 16),
        90_000,
      );
      expect((await stub(x).stats()).certification.seq).toBe(headX);
      await setFaults(x, {});
      await eventually(async () => {
        const s = await stub(x).stats();
        expect(s.certification).toMatchObject({ certification: "ok", diverged: null });
        expect(s.certification.seq).toBeGreaterThan(headX + kept);
      }, 60_000);
      expect((await stub(x).stats()).certifiedTransfer.adopted).toBeGreaterThan(0);
      // and it follows the batches again: new ops certified at every replica, x included
      await writeAndCertify("ret-after");
    },
  );
});
