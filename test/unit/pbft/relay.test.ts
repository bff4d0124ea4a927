/**
 * A backup's waiting ops (shared/pbft/timers.ts): relayed to the primary once its request timer
 * first expires (no progress for a timeout), each once per view, at most `relayOpsMax` a tick; and
 * while changing view, shared with every peer every `relayAfterTicks`, so that an op only one node
 * saw is not stuck with it.
 */
import { describe, expect, it } from "vitest";
import { MerkleStateMachine } from "../../../shared/certified/state-machine.js";
import { DEFAULT_PBFT_CONFIG } from "../../../shared/pbft/config.js";
import { proposalDigest } from "../../../shared/pbft/digest.js";
import type { Effects } from "../../../shared/pbft/effects.js";
import { PbftReplica } from "../../../shared/pbft/replica.js";
import { opIdOf, type SignedOp } from "../../../shared/ops.js";
import { CLUSTER, UNIT_CONFIG, makeOp } from "./harness.js";

const TICK = UNIT_CONFIG.tickMs!;
const config = { ...UNIT_CONFIG, relayAfterTicks: 5, relayOpsMax: 2, requestTimeoutTicks: 1_000 };
const backup = () => new PbftReplica({ cluster: CLUSTER, me: 1, config, sm: new MerkleStateMachine() });
/** The "ops" messages of a step, as [to, op ids]. */
const opsSent = (fx: Effects) =>
  fx.send
    .filter((o) => o.msg?.type === "ops")
    .map((o) => [o.to, (o.msg as { ops: SignedOp[] }).ops.map(opIdOf)]);
const ids = (...seqs: number[]) => seqs.map((q) => opIdOf(makeOp(q)));

describe("a backup's waiting ops", () => {
  it("go to the primary from the request timer's first expiry, at most relayOpsMax a tick, each once per view", () => {
    const r = backup();
    r.step({ kind: "tick", nowMs: 0 });
    r.step({ kind: "submit-many", ops: [makeOp(1), makeOp(2), makeOp(3)] });
    expect(opsSent(r.step({ kind: "tick", nowMs: 999 * TICK }))).toEqual([]); // not yet
    expect(opsSent(r.step({ kind: "tick", nowMs: 1_000 * TICK }))).toEqual([[[0], ids(1, 2)]]);
    expect(opsSent(r.step({ kind: "tick", nowMs: 1_001 * TICK }))).toEqual([[[0], ids(3)]]);
    expect(opsSent(r.step({ kind: "tick", nowMs: 1_002 * TICK }))).toEqual([]); // all relayed in this view
    expect(r.stats["op.relayed"]).toBe(3);
  });

  it("while changing view, are shared with every peer every relayAfterTicks, at most relayOpsMax", () => {
    const r = backup();
    r.step({ kind: "tick", nowMs: 0 });
    r.step({ kind: "submit-many", ops: [makeOp(1), makeOp(2), makeOp(3)] });
    r.step({ kind: "tick", nowMs: 1_000 * TICK }); // the request timer's first expiry: relayed
    r.step({ kind: "tick", nowMs: 2_000 * TICK }); // its second: a view change starts
    expect(r.state.normal).toBe(false);
    const shared = opsSent(r.step({ kind: "tick", nowMs: 2_005 * TICK }));
    expect(shared).toContainEqual([[0, 2, 3], ids(1, 2)]);
    expect(opsSent(r.step({ kind: "tick", nowMs: 2_006 * TICK }))).toEqual([]); // not again so soon
  });
});

describe("when a node asks to be ticked next", () => {
  const STATUS = DEFAULT_PBFT_CONFIG.statusIntervalTicks;
  it("idle: no wake-up (it sleeps until something arrives); with work (pooled ops, a slot in progress): the next tick", () => {
    const r = backup();
    r.step({ kind: "tick", nowMs: 100 * TICK });
    const idle = r.step({ kind: "tick", nowMs: 101 * TICK }); // sends its STATUS
    expect(r.state.lastStatusTick).toBe(101);
    expect(idle.wakeAtMs).toBeNull();
    expect(r.step({ kind: "submit", op: makeOp(1) }).wakeAtMs).toBe(102 * TICK); // pooled
    const p = { ops: [makeOp(2)], time: 100 * TICK, view: 0 };
    const inSlot = backup();
    inSlot.step({ kind: "tick", nowMs: 100 * TICK });
    inSlot.step({ kind: "tick", nowMs: 101 * TICK });
    const fx = inSlot.step({
      kind: "message",
      envelope: {
        from: 0,
        msg: { type: "pre-prepare", view: 0, seq: 1, digest: proposalDigest(p) },
        sig: "",
        proposal: p,
      },
    });
    expect([inSlot.state.pool.size, inSlot.state.slots.size]).toEqual([0, 1]);
    expect(fx.wakeAtMs).toBe(102 * TICK); // a slot in progress
  });
});
