/**
 * Backpressure, live: the four nodes run with pools of one batch (POOL_SIZE_MAX = 100, this
 * project's binding), and one replica takes a burst several times larger. The edge answers every
 * write at once; the nodes refuse what their pools can't hold (counted `drop.pool_full`, answered
 * `busy`); the origin keeps the refused ops in its op log, backs off and submits them again as the
 * cluster catches up, until every op is certified.
 */
import { describe, expect, it } from "vitest";
import { PBFT_NODES } from "../../shared/cluster-config.js";
import { REPLICAS, eventually, post, stub, TestClient } from "../runtime/helpers.js";
import { allStatus, expectCertified } from "../cluster/support.js";

const CLIENTS = 8;
const OPS_PER_CLIENT = 38; // 304 ops in all: three pools
const KEYS = 4;

describe("backpressure from the PBFT nodes to the origin", () => {
  it("a burst past the nodes' pools is all certified; pool_full drops are counted and the origin backs off", async () => {
    const origin = REPLICAS[0]!;
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => TestClient.create()));
    const ops = [];
    for (let i = 0; i < OPS_PER_CLIENT; i++)
      for (const [j, c] of clients.entries())
        ops.push(await c.sign(`bp/k${(i * CLIENTS + j) % KEYS}`, "counter", "add", { n: 1 }));
    // The EC path answers every write, pools full or not.
    const statuses = await Promise.all(ops.map(async (op) => (await post(op, origin)).status));
    expect(statuses.filter((s) => s !== 200)).toEqual([]);

    const keys = Array.from({ length: KEYS }, (_, k) => `bp/k${k}`);
    await expectCertified(keys, () => ops.length / KEYS, 120_000);

    // Nothing was dropped silently: the nodes counted what their full pools refused.
    const nodes = await allStatus();
    expect(nodes).toHaveLength(PBFT_NODES.length);
    const poolFull = nodes.map((s) => s.stats["drop.pool_full"] ?? 0);
    expect(poolFull.filter((n) => n > 0).length, `pool_full per node ${poolFull}`).toBeGreaterThanOrEqual(
      PBFT_NODES.length - 1,
    );
    for (const s of nodes) expect(s.pool, s.id).toBeLessThanOrEqual(100);

    // The origin heard the nodes were busy, backed off, and has nothing left waiting.
    await eventually(async () => {
      const { certify } = await stub(origin).stats();
      expect(certify.waiting).toBe(0);
    }, 30_000);
    const { certify } = await stub(origin).stats();
    expect(certify.busy, JSON.stringify(certify)).toBeGreaterThanOrEqual(1);
    expect(certify.resubmitted).toBeGreaterThan(0);
  });
});
