/**
 * Certified catch-up (durable-objects/certified-sync.ts) in the live cluster: replicas fetch the
 * certified batches they miss from the PBFT nodes' kept batches, one node per round in rotation,
 * through the replicas' one verifying entry point. No queue copy of the missed seqs exists in these
 * tests (node fault `noPost`: the nodes certify and keep batches but post none), so what heals the
 * gap is the fetch alone. Storage is shared by the tests of this file (keys differ; faults are
 * switched off after each test).
 */
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { PBFT_NODES } from "../../shared/cluster-config.js";
import type { OpReply, OpStatusReply } from "../../shared/replies.js";
import { opIdOf } from "../../shared/ops.js";
import { certifiedHeadOf } from "../../platform/pbft-node-stub.js";
import { setFaults } from "../runtime/delivery-helpers.js";
import { REPLICAS, eventually, post, stub, TestClient } from "../runtime/helpers.js";
import { allStatus, clearAllFaults, expectCertified, get, setNodeFaults } from "./support.js";

afterEach(async () => {
  await clearAllFaults();
  await Promise.all(REPLICAS.map((r) => setFaults(r, {})));
});

const nodeHeads = () => Promise.all(PBFT_NODES.map((n) => certifiedHeadOf(env, n)));
const replicaStats = () => Promise.all(REPLICAS.map((r) => stub(r).stats()));
/** Certificates the nodes posted so far (as poster and as fallback), all nodes together. */
const posted = async () =>
  (await allStatus()).reduce((a, s) => a + s.certificatesPosted + s.fallbacksPosted, 0);
/** Posts sent before a fault (heartbeats certify a seq every 2 s) settle first: they count as before. */
const settledPosts = () =>
  eventually(async () => expect((await allStatus()).map((s) => s.postsInFlight)).toEqual([0, 0, 0, 0]));
const allNodes = (f: Parameters<typeof setNodeFaults>[1]) =>
  Promise.all(PBFT_NODES.map((_, i) => setNodeFaults(i, f)));

/** Wait until every node keeps a certified batch past `seq` (its ops certified and kept). */
async function nodesPast(seq: number): Promise<number> {
  let heads: number[] = [];
  await eventually(async () => {
    heads = await nodeHeads();
    expect(Math.min(...heads)).toBeGreaterThan(seq);
  }, 30_000);
  return Math.max(...heads);
}

describe("certified catch-up from the PBFT nodes", () => {
  it("a replica that refused every certified batch for a while catches up after the fault is off, with no queue message", async () => {
    const [refusing] = REPLICAS.slice(-1) as [string];
    await allNodes({ noPost: true });
    await setFaults(refusing, { refuseCertified: true });
    await settledPosts();
    const postedBefore = await posted();
    const before = Math.max(...(await nodeHeads()));
    const c = await TestClient.create();
    const own = await c.sign("gf-refused/own", "counter", "add", { n: 5 });
    expect((await post(own, refusing)).status).toBe(200);
    const other = await c.sign("gf-refused/other", "counter", "add", { n: 7 });
    expect((await post(other, REPLICAS[0])).status).toBe(200);
    // the nodes certify and keep both; nothing is posted
    const head = await nodesPast(before);
    await eventually(
      async () => expect(Math.min(...(await nodeHeads()))).toBeGreaterThanOrEqual(head),
      30_000,
    );
    // the others fetch; the refusing replica tries, is refused by itself, and stays where it was
    await eventually(async () => {
      const s = await replicaStats();
      for (const [i, r] of REPLICAS.entries())
        if (r !== refusing) expect(s[i]!.certification.seq, r).toBeGreaterThanOrEqual(head);
      const mine = s[REPLICAS.indexOf(refusing)]!;
      expect(mine.certifiedSync.failures).toBeGreaterThan(0);
      expect(mine.certification.seq).toBeLessThanOrEqual(before);
    }, 30_000);
    await setFaults(refusing, {});
    // no new write, no queue copy: the fetch alone brings it to the nodes' head
    await eventually(async () => {
      const s = (await stub(refusing).stats()).certification;
      expect(s.seq).toBeGreaterThanOrEqual(head);
    }, 30_000);
    const mine = await stub(refusing).stats();
    expect(mine.certifiedSync.applied).toBeGreaterThan(0);
    expect(mine.certification.certification).toBe("ok");
    expect(await posted()).toBe(postedBefore);
    // its own op is certified there, with its proof, and the client has nothing left uncertified
    const status = (await (
      await get(`/v1/ops/${encodeURIComponent(opIdOf(own))}?replica=${refusing}`)
    ).json()) as OpStatusReply;
    expect(status.certified?.result).toMatchObject({ opId: opIdOf(own) });
    expect(status.pending).toBe(false);
    const again = (await (await post(own, refusing)).json()) as OpReply;
    expect(again.duplicate).toBe(true);
    expect(again.uncertified).toBe(0);
    await expectCertified(["gf-refused/own", "gf-refused/other"], (i) => [5, 7][i]!, 30_000);
  });

  it("every queued copy of a seq lost, later seqs posted as usual: the replicas fetch the lost one", async () => {
    await allNodes({ noPost: true });
    await settledPosts();
    const postedBefore = await posted();
    const before = Math.max(...(await nodeHeads()));
    const c = await TestClient.create();
    expect((await post(await c.sign("gf-lost/k0", "counter", "add", { n: 1 }), REPLICAS[0])).status).toBe(
      200,
    );
    await nodesPast(before);
    expect(await posted()).toBe(postedBefore); // no copy of that seq exists anywhere
    // later seqs are posted again: a replica that gets one before it fetched the lost seq buffers it
    // (a gap: the next catch-up round comes sooner)
    await clearAllFaults();
    expect((await post(await c.sign("gf-lost/k1", "counter", "add", { n: 2 }), REPLICAS[1])).status).toBe(
      200,
    );
    await expectCertified(["gf-lost/k0", "gf-lost/k1"], (i) => i + 1, 40_000);
    for (const s of await replicaStats()) {
      expect(s.certifiedSync.applied).toBeGreaterThan(0);
      expect(s.certification.certification).toBe("ok");
    }
  });

  it("a node serving forged batches is refused; the replicas catch up from the other nodes", async () => {
    await allNodes({ noPost: true, forgeBatches: true });
    const start = await replicaStats();
    const before = Math.max(...(await nodeHeads()));
    const c = await TestClient.create();
    expect((await post(await c.sign("gf-forged/k0", "counter", "add", { n: 3 }), REPLICAS[2])).status).toBe(
      200,
    );
    const head = await nodesPast(before);
    // every node forges: each replica asks, refuses what it gets, and applies none of it
    await eventually(async () => {
      for (const [i, s] of (await replicaStats()).entries()) {
        expect(s.certifiedSync.refused, REPLICAS[i]).toBeGreaterThan(start[i]!.certifiedSync.refused);
        expect(s.certification.seq, REPLICAS[i]).toBeLessThan(head);
      }
    }, 30_000);
    for (const s of await replicaStats()) {
      expect(s.certification.certification).not.toBe("diverged");
      expect(s.certification.rootMismatches).toBe(0);
    }
    // pbft-1 keeps forging; the others serve what they certified
    const forger = 1;
    await Promise.all(
      PBFT_NODES.map((_, i) =>
        setNodeFaults(i, i === forger ? { noPost: true, forgeBatches: true } : { noPost: true }),
      ),
    );
    await expectCertified(["gf-forged/k0"], () => 3, 40_000);
    for (const s of await replicaStats()) {
      expect(s.certification.seq).toBeGreaterThanOrEqual(head);
      expect(s.certification.certification).toBe("ok");
    }
  });
});
