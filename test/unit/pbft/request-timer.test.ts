/**
 * The request timer (shared/pbft/timers.ts), one rule per test:
 * - a backup's timer restarts whenever a batch executes ops it waited for: a deep pool while
 *   batches execute (overload) never expires it;
 * - an empty batch is no progress (a primary cannot hold the timer off with heartbeats);
 * - f+1 peers reporting they executed past this node is progress (this node is behind);
 * - the primary runs none;
 * - the first expiry relays the waiting ops to the primary (never those in flight), the second
 *   starts a view change;
 * - leaving a view that a view change brought, without progress, doubles the timeouts; progress
 *   in a view resets them.
 */
import { describe, expect, it } from "vitest";
import { MerkleStateMachine } from "../../../shared/certified/state-machine.js";
import { proposalDigest } from "../../../shared/pbft/digest.js";
import type { Effects } from "../../../shared/pbft/effects.js";
import type { Envelope } from "../../../shared/pbft/messages.js";
import { PbftReplica } from "../../../shared/pbft/replica.js";
import { requestTimeoutNow } from "../../../shared/pbft/timers.js";
import { opIdOf, type SignedOp } from "../../../shared/ops.js";
import { CLUSTER, Harness, makeOp, UNIT_CONFIG } from "./harness.js";

const TICK = UNIT_CONFIG.tickMs!;
const T = 5; // requestTimeoutTicks in these tests
const config = { ...UNIT_CONFIG, requestTimeoutTicks: T, viewChangeTimeoutTicks: T, relayOpsMax: 10 };
const replica = (me: number) =>
  new PbftReplica({ cluster: CLUSTER, me, config, sm: new MerkleStateMachine() });
const opsSent = (fx: Effects) =>
  fx.send
    .filter((o) => o.msg?.type === "ops")
    .map((o) => [o.to, (o.msg as { ops: SignedOp[] }).ops.map(opIdOf)]);
const ids = (...seqs: number[]) => seqs.map((q) => opIdOf(makeOp(q)));

describe("the request timer measures progress, not queueing", () => {
  it("a backup's deep pool while batches keep executing: no relay, no view change, for many timeouts", () => {
    const h = new Harness(config);
    h.tickAll(0);
    // Every backup pools ten ops at once; the primary gets one every 3 ticks (< T), so one batch
    // executes every 3 ticks while the last op waits 30 ticks (6 timeouts).
    for (let q = 1; q <= 10; q++) for (const i of [1, 2, 3]) h.step(i, { kind: "submit", op: makeOp(q) });
    for (let t = 1; t <= 31; t++) {
      if (t % 3 === 0) h.step(0, { kind: "submit", op: makeOp(t / 3) });
      h.tickAll(t * TICK);
      h.run();
    }
    for (const node of h.nodes) {
      expect(node.state.lastExecuted).toBe(10);
      expect([node.state.view, node.state.normal]).toEqual([0, true]);
      expect(node.stats["request_timeout.relay"] ?? 0).toBe(0);
    }
  });

  it("progress is no alibi for ever: a primary that executes other ops while it never proposes one is replaced", () => {
    const h = new Harness(config);
    const held = opIdOf(makeOp(99));
    // the primary never gets op 99 (submitted to the backups; their relays of it to the primary lost)
    h.drop = (to, env) =>
      to === 0 &&
      env.msg.type === "ops" &&
      (env.msg as { ops: SignedOp[] }).ops.some((o) => opIdOf(o) === held);
    h.tickAll(0);
    for (const i of [1, 2, 3]) h.step(i, { kind: "submit", op: makeOp(99) });
    const factor = config.requestAgeMaxFactor ?? 8;
    for (let t = 1; t <= (factor + 3) * T; t++) {
      // other ops keep executing: one every 3 ticks, at every node
      if (t % 3 === 0) for (const i of [0, 1, 2, 3]) h.step(i, { kind: "submit", op: makeOp(t) });
      h.tickAll(t * TICK);
      h.run();
    }
    expect(h.nodes[1]!.state.lastExecuted).toBeGreaterThan(factor);
    expect(h.nodes[1]!.stats["request_timeout"]).toBeGreaterThanOrEqual(1);
    expect(Math.max(...h.nodes.map((n) => n.state.view))).toBeGreaterThanOrEqual(1);
  });

  it("empty batches are no progress: a primary that only beats while backups wait is replaced", () => {
    const h = new Harness({ ...config, heartbeatTicks: 2 });
    // The primary never gets the ops (submitted to the backups, relays to it lost) and beats.
    h.drop = (to, env) => to === 0 && env.msg.type === "ops";
    h.tickAll(0);
    for (const i of [1, 2, 3]) h.step(i, { kind: "submit", op: makeOp(1) });
    for (let t = 1; t <= 4 * T; t++) {
      h.tickAll(t * TICK);
      h.run();
    }
    const s = h.nodes[1]!.state;
    expect(h.nodes[0]!.stats["batch.heartbeat"]).toBeGreaterThanOrEqual(2);
    expect(s.view).toBeGreaterThanOrEqual(1);
    expect(h.nodes[1]!.stats["request_timeout"]).toBeGreaterThanOrEqual(1);
  });

  it("f+1 peers executing past this node is progress (it is behind, not the primary): the timer starts over", () => {
    const r = replica(1);
    r.step({ kind: "tick", nowMs: 0 });
    r.step({ kind: "submit", op: makeOp(1) });
    r.step({ kind: "tick", nowMs: (T - 1) * TICK });
    for (const from of [0, 2]) {
      const status = {
        type: "status",
        view: 0,
        normal: true,
        lastExecuted: 3,
        stableSeq: 2,
        uncertifiedFrom: 4,
      };
      r.step({ kind: "message", envelope: { from, msg: status, sig: "" } as Envelope });
    }
    expect(opsSent(r.step({ kind: "tick", nowMs: T * TICK }))).toEqual([]);
    expect(opsSent(r.step({ kind: "tick", nowMs: (2 * T - 2) * TICK }))).toEqual([]);
    expect(opsSent(r.step({ kind: "tick", nowMs: (2 * T - 1) * TICK }))).toEqual([[[0], ids(1)]]);
  });

  it("the primary runs none: its own unexecuted proposals and pool never make it suspect itself", () => {
    const r = replica(0); // alone: nothing it proposes ever commits
    r.step({ kind: "tick", nowMs: 0 });
    r.step({ kind: "submit-many", ops: [makeOp(1), makeOp(2), makeOp(3)] });
    for (let t = 1; t <= 10 * T; t++) {
      const fx = r.step({ kind: "tick", nowMs: t * TICK });
      expect(opsSent(fx)).toEqual([]);
    }
    expect([r.state.view, r.state.normal, r.state.pool.size]).toEqual([0, true, 3]);
    expect(r.stats["request_timeout"] ?? 0).toBe(0);
  });
});

describe("the request timer's two expiries", () => {
  it("the first relays the waiting ops to the primary, the second (no progress since) starts a view change", () => {
    const r = replica(1);
    r.step({ kind: "tick", nowMs: 0 });
    r.step({ kind: "submit-many", ops: [makeOp(1), makeOp(2)] });
    expect(opsSent(r.step({ kind: "tick", nowMs: (T - 1) * TICK }))).toEqual([]);
    expect(opsSent(r.step({ kind: "tick", nowMs: T * TICK }))).toEqual([[[0], ids(1, 2)]]);
    expect([r.state.view, r.state.normal]).toEqual([0, true]);
    r.step({ kind: "tick", nowMs: (2 * T - 1) * TICK });
    expect([r.state.view, r.state.normal]).toEqual([0, true]);
    r.step({ kind: "tick", nowMs: 2 * T * TICK });
    expect([r.state.view, r.state.normal]).toEqual([1, false]);
    expect(r.stats["request_timeout.relay"]).toBe(1);
    expect(r.stats["request_timeout"]).toBe(1);
  });

  it("ops the primary proposed (in flight) are not relayed", () => {
    const r = replica(1);
    r.step({ kind: "tick", nowMs: 0 });
    r.step({ kind: "submit-many", ops: [makeOp(1), makeOp(2)] });
    const p = { ops: [makeOp(1)], time: 0, view: 0 };
    r.step({
      kind: "message",
      envelope: {
        from: 0,
        msg: { type: "pre-prepare", view: 0, seq: 1, digest: proposalDigest(p) },
        sig: "",
        proposal: p,
      },
    });
    expect(opsSent(r.step({ kind: "tick", nowMs: T * TICK }))).toEqual([[[0], ids(2)]]);
  });
});

describe("the timeouts' backoff", () => {
  it("leaving a view change's view without progress doubles both timeouts; progress resets them", () => {
    const h = new Harness(config);
    // Node 0 is dead; view 1's primary (node 1) has its proposals lost; view 2's NEW-VIEW is held
    // back from node 3 until the test has looked.
    let hold = true;
    h.drop = (to, env) =>
      env.from === 0 ||
      to === 0 ||
      (env.msg.type === "pre-prepare" && env.msg.view === 1) ||
      (hold && to === 3 && env.msg.type === "new-view" && env.msg.view === 2);
    h.tickAll(0);
    for (const i of [1, 2, 3]) h.step(i, { kind: "submit", op: makeOp(1) });
    const s = h.nodes[3]!.state;
    let t = 0;
    const until = (done: () => boolean) => {
      while (!done() && t < 400) {
        t++;
        h.tickAll(t * TICK);
        h.run();
      }
    };
    until(() => s.view === 1 && s.normal);
    // Leaving view 0 (the first view) does not back off.
    expect([s.viewChangeTimeoutTicks, requestTimeoutNow(s)]).toEqual([T, T]);
    until(() => s.view === 2);
    expect([s.normal, s.lastExecuted]).toEqual([false, 0]);
    expect([s.viewChangeTimeoutTicks, requestTimeoutNow(s)]).toEqual([2 * T, 2 * T]);
    hold = false;
    until(() => s.lastExecuted === 1);
    expect(s.view).toBe(2);
    expect([s.viewChangeTimeoutTicks, requestTimeoutNow(s)]).toEqual([T, T]);
  });
});
