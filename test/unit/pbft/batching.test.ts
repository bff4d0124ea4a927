/**
 * Batches that grow with load (shared/pbft/normal-case.ts `maybePropose`): the primary proposes a
 * partial batch (on a tick) only while fewer than `partialInFlightMax` of its batches are in flight;
 * a full one (`batchSizeMax` ops or the byte bound) at once while fewer than `batchesInFlightMax`
 * are; and counts what it proposed, so the mean batch size can be reported.
 */
import { describe, expect, it } from "vitest";
import { MerkleStateMachine } from "../../../shared/certified/state-machine.js";
import type { Effects } from "../../../shared/pbft/effects.js";
import type { Proposal } from "../../../shared/pbft/messages.js";
import { PbftReplica } from "../../../shared/pbft/replica.js";
import { meanBatchSize } from "../../../shared/pbft/stats.js";
import { CLUSTER, makeOp, UNIT_CONFIG } from "./harness.js";

const TICK = UNIT_CONFIG.tickMs!;
const config = {
  ...UNIT_CONFIG,
  batchSizeMax: 3,
  logWindowSeqs: 8,
  partialInFlightMax: 2,
  batchesInFlightMax: 3,
};
/** Op seqs of each batch the step proposed. */
const proposed = (fx: Effects) =>
  fx.send.flatMap((o) =>
    o.msg?.type === "pre-prepare" && "proposal" in o
      ? [(o.proposal as Proposal).ops.map((op) => op.seq)]
      : [],
  );

describe("the primary's batches", () => {
  it("partial only while fewer than partialInFlightMax are in flight; full ones up to batchesInFlightMax", () => {
    // Alone, so nothing it proposes executes: every batch stays in flight.
    const r = new PbftReplica({ cluster: CLUSTER, me: 0, config, sm: new MerkleStateMachine() });
    r.step({ kind: "tick", nowMs: 0 });
    expect(proposed(r.step({ kind: "submit", op: makeOp(1) }))).toEqual([]); // partial waits for a tick
    expect(proposed(r.step({ kind: "tick", nowMs: TICK }))).toEqual([[1]]);
    r.step({ kind: "submit", op: makeOp(2) });
    expect(proposed(r.step({ kind: "tick", nowMs: 2 * TICK }))).toEqual([[2]]);
    r.step({ kind: "submit", op: makeOp(3) });
    expect(proposed(r.step({ kind: "tick", nowMs: 3 * TICK }))).toEqual([]); // 2 in flight: wait
    expect(proposed(r.step({ kind: "submit-many", ops: [makeOp(4), makeOp(5)] }))).toEqual([[3, 4, 5]]);
    expect(proposed(r.step({ kind: "submit-many", ops: [6, 7, 8].map((q) => makeOp(q)) }))).toEqual([]);
    expect(proposed(r.step({ kind: "tick", nowMs: 4 * TICK }))).toEqual([]); // 3 in flight: the cap
    expect(r.state.nextSeq - 1 - r.state.lastExecuted).toBe(3);
    expect([r.stats["batch.partial"], r.stats["batch.full"], r.stats["batch.ops"]]).toEqual([2, 1, 5]);
    expect(meanBatchSize(r.stats)).toBeCloseTo(5 / 3);
  });

  it("meanBatchSize is 0 before any batch", () => {
    expect(meanBatchSize({})).toBe(0);
  });
});
