/**
 * Overload under the CPU model (cpu.ts): clients offer twice what the model's capacity certifies.
 * The origin keeps at most `OUTSTANDING` ops uncertified at the cluster (backpressure: the rest wait
 * at the origin, as the replicas hold theirs), enough that ops queue at every node for several
 * request timeouts. Without faults: no view change, certified throughput within 10% of capacity
 * (in the sim's own time), mostly full batches, and every op certified once the load falls.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { useNativeSha256 } from "../../shared/hash.js";
import { opIdOf, type SignedOp } from "../../shared/ops.js";
import type { PbftConfig } from "../../shared/pbft/config.js";
import { meanBatchSize } from "../../shared/pbft/stats.js";
import { certifiedCapacityOpsPerSec, CPU_COSTS } from "./cpu.js";
import { all, SCENARIO_CONFIG } from "./scenario-kit.js";
import { World } from "./world.js";

useNativeSha256((d) => new Uint8Array(createHash("sha256").update(d).digest()));

const BATCH = 20;
const CONFIG: Partial<PbftConfig> = {
  ...SCENARIO_CONFIG,
  batchSizeMax: BATCH,
  poolSizeMax: 5_000,
  // Past the queueing at a saturated node (~5 ticks here): at 5, re-sends of what slow peers
  // still have queued cost ~11% of capacity.
  retransmitAfterTicks: 10,
};
const TICK_MS = 10; // the world's tick
/** Ops the origin keeps uncertified at the cluster: ~100 ticks of work, 2.5 request timeouts. */
const OUTSTANDING = 1_000;
const WARM_UP_TICKS = 100;
const OVERLOAD_TICKS = 400;

describe("PBFT under overload (CPU model)", () => {
  it("at 2× capacity: no view change, certified throughput within 10% of capacity, every op certified once load falls", async () => {
    const w = await World.create({ seed: 77, config: CONFIG, cpu: CPU_COSTS, deepInvariantsEvery: 500 });
    const capacity = certifiedCapacityOpsPerSec(CPU_COSTS, w.n, BATCH, CONFIG.checkpointIntervalSeqs!);
    const offeredPerTick = (2 * capacity * TICK_MS) / 1000;
    const origin: SignedOp[] = [];
    const offered: string[] = [];
    let due = 0;
    let submitted = 0;
    const certified = () => w.checker.certifiedOps.size;
    const feed = async (offering: boolean) => {
      if (offering)
        for (due += offeredPerTick; due >= 1; due--) {
          const op = await w.makeOp(`k${offered.length % 500}`);
          origin.push(op);
          offered.push(opIdOf(op));
        }
      while (origin.length > 0 && submitted - certified() < OUTSTANDING) {
        await w.submit(origin.shift()!, all(w));
        submitted++;
      }
    };

    let atWarmUp = 0;
    for (let t = 1; t <= OVERLOAD_TICKS; t++) {
      await feed(true);
      await w.runTick();
      if (t === WARM_UP_TICKS) atWarmUp = certified();
    }
    const throughput = ((certified() - atWarmUp) * 1000) / ((OVERLOAD_TICKS - WARM_UP_TICKS) * TICK_MS);
    const primary = w.nodes[0]!.replica!;
    const views = w.nodes.reduce((a, n) => a + (n.replica!.stats["view_change.started"] ?? 0), 0);
    const report = `capacity ${capacity.toFixed(0)} ops/s, certified ${throughput.toFixed(0)} ops/s, mean batch ${meanBatchSize(primary.stats).toFixed(1)}, origin backlog ${origin.length}, pools ${w.nodes.map((n) => n.replica!.state.pool.size).join("/")}`;
    expect(views, report).toBe(0);
    expect(throughput / capacity, report).toBeGreaterThanOrEqual(0.9);
    expect(throughput / capacity, report).toBeLessThanOrEqual(1.1);
    expect(origin.length, "the load was more than the cluster certified").toBeGreaterThan(1_000);
    expect(meanBatchSize(primary.stats), report).toBeGreaterThan(0.9 * BATCH);

    // The load falls: the origin's backlog drains, then every op offered is certified.
    for (let t = 0; certified() < offered.length; t++) {
      if (t > 3_000) throw new Error(`not drained: ${certified()}/${offered.length}\n${w.summary()}`);
      await feed(false);
      await w.runTick();
    }
    for (const id of offered) expect(w.checker.certifiedOps.has(id)).toBe(true);
    expect(w.uncertifiedOwed()).toEqual([]);
    expect(w.nodes.reduce((a, n) => a + (n.replica!.stats["view_change.started"] ?? 0), 0)).toBe(0);
  }, 600_000);
});
