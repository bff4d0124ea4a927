/**
 * What a node sends a peer whose STATUS shows it behind (shared/pbft/state-transfer.ts `onStatus`):
 * the state when it is behind our stable checkpoint, our checkpoint proof when its stable
 * checkpoint is older, committed batches it has not executed, our NEW-VIEW when it is in an older
 * view — and nothing of that to a peer that is level with us. Re-sends need evidence of loss: the
 * peer's STATUSes show its progress unmoved for `retransmitAfterTicks` (and what we sent is that
 * old); each further re-send of the same thing to the same peer waits twice as long.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_PBFT_CONFIG, type PbftConfig } from "../../../shared/pbft/config.js";
import type { Effects } from "../../../shared/pbft/effects.js";
import type { Envelope, Status, ViewChange } from "../../../shared/pbft/messages.js";
import { Harness, makeOp, UNIT_CONFIG } from "./harness.js";

/** Node 0 after ordering 5 ops (stable checkpoint at 4), and what it answers node 3's STATUS with. */
function answer(
  status: Partial<Status>,
  h = ordered(),
  node = 0,
): { to: number[]; type: string; seq?: number; from?: number }[] {
  const me = h.nodes[node]!.state;
  const msg: Status = {
    type: "status",
    view: me.view,
    normal: true,
    lastExecuted: me.lastExecuted,
    stableSeq: me.stable.seq,
    uncertifiedFrom: me.uncertifiedFrom,
    ...status,
  };
  const fx: Effects = h.step(node, { kind: "message", envelope: { from: 3, msg, sig: "" } as Envelope });
  return fx.send.map((o) => {
    const m = (o.msg ?? o.forward!.msg) as { type: string; seq?: number };
    return {
      to: o.to,
      type: m.type,
      ...(m.seq !== undefined ? { seq: m.seq } : {}),
      ...(o.forward ? { from: o.forward.from } : {}),
    };
  });
}
function ordered(config: Partial<PbftConfig> = UNIT_CONFIG): Harness {
  const h = new Harness(config);
  h.tickAll(1_000);
  h.order(1, 5);
  expect(h.nodes[0]!.state.stable.seq).toBe(4);
  return h;
}
const types = (sends: { type: string }[]) => sends.map((s) => s.type).sort();
const R = DEFAULT_PBFT_CONFIG.retransmitAfterTicks;
/** Let `ticks` ticks pass at `node` (it runs its timers; what it sends is not looked at). */
const pass = (h: Harness, node: number, ticks: number) => {
  const s = h.nodes[node]!.state;
  h.step(node, { kind: "tick", nowMs: (s.tick + ticks) * UNIT_CONFIG.tickMs! });
};
/** The answer to a STATUS from a peer that reported the same `retransmitAfterTicks` ago (stalled). */
const stalled = (st: Partial<Status>, h: Harness, node = 0) => {
  answer(st, h, node);
  pass(h, node, R);
  return answer(st, h, node);
};

describe("answering a peer's STATUS", () => {
  it("a peer level with us gets nothing", () => {
    expect(answer({})).toEqual([]);
  });

  it("a stalled peer behind our stable checkpoint gets the state, our checkpoint proof and the batch past it", () => {
    const h = ordered();
    const behind = { lastExecuted: 0, stableSeq: 0, uncertifiedFrom: 1 };
    expect(answer(behind, h)).toEqual([]); // its first STATUS: it may be on its way
    pass(h, 0, R);
    const sends = answer(behind, h); // still there: stalled
    expect(sends.every((s) => s.to.length === 1 && s.to[0] === 3)).toBe(true);
    expect(sends.filter((s) => s.type === "state")).toHaveLength(1);
    expect(sends.filter((s) => s.type === "checkpoint" && s.seq === 4)).toHaveLength(3); // the proof: 2f+1
    expect(sends.filter((s) => s.type === "committed").map((s) => s.seq)).toEqual([5]);
  });

  it("a peer with an older stable checkpoint but every batch executed gets our proof only, on a second STATUS", () => {
    const h = ordered();
    expect(answer({ stableSeq: 2 }, h)).toEqual([]);
    pass(h, 0, R - 1);
    expect(answer({ stableSeq: 2 }, h)).toEqual([]);
    pass(h, 0, 1);
    expect(types(answer({ stableSeq: 2 }, h))).toEqual(["checkpoint", "checkpoint", "checkpoint"]);
  });

  it("a peer that executed up to our stable checkpoint gets the committed batch after it once it is old enough to be lost", () => {
    const h = ordered();
    expect(answer({ lastExecuted: 4 }, h)).toEqual([]); // just committed: it may be on its way
    pass(h, 0, R);
    const sends = answer({ lastExecuted: 4 }, h);
    expect(types(sends)).toEqual(["committed"]);
    expect(sends[0]!.seq).toBe(5);
  });

  it("the state is offered at most once per interval; a committed batch re-sent waits twice as long each time", () => {
    const h = ordered({ ...UNIT_CONFIG, stateTransferIntervalTicks: 1_000 });
    const behind = { lastExecuted: 0, stableSeq: 4 };
    expect(types(stalled(behind, h))).toEqual(["committed", "state"]);
    expect(types(answer(behind, h))).toEqual([]);
    pass(h, 0, 2 * R - 1);
    expect(types(answer(behind, h))).toEqual([]);
    pass(h, 0, 1);
    expect(types(answer(behind, h))).toEqual(["committed"]);
    pass(h, 0, 4 * R - 1);
    expect(types(answer(behind, h))).toEqual([]);
    pass(h, 0, 1);
    expect(types(answer(behind, h))).toEqual(["committed"]);
    expect(h.nodes[0]!.stats["retransmit"]).toBe(3);
  });

  it("a slow peer that keeps executing gets nothing again, however far behind (it has it queued)", () => {
    const h = ordered();
    for (const lastExecuted of [1, 2, 3, 4]) {
      expect(types(answer({ lastExecuted }, h)), `at ${lastExecuted}`).toEqual([]);
      pass(h, 0, R);
    }
    expect(h.nodes[0]!.stats["retransmit"] ?? 0).toBe(0);
  });

  it("a peer whose STATUS shows it has what we re-sent starts over: a stall is needed again", () => {
    const h = ordered();
    expect(types(stalled({ lastExecuted: 4 }, h))).toEqual(["committed"]);
    expect(types(answer({}, h))).toEqual([]); // it executed seq 5: the record is forgotten
    // behind at 5 again (e.g. it lost its writes): no backoff left over, but a stall again
    expect(types(answer({ lastExecuted: 4 }, h))).toEqual([]);
    pass(h, 0, R);
    expect(types(answer({ lastExecuted: 4 }, h))).toEqual(["committed"]);
  });
});

describe("answering a peer's STATUS: votes, view changes and the retransmit budget", () => {
  /** Seq 1 (and 2) prepared everywhere, every COMMIT lost: each slot holds its own votes only. */
  function inProgress(ops = 1, config: Partial<PbftConfig> = UNIT_CONFIG): Harness {
    const h = new Harness(config);
    h.drop = (_to, env) => env.msg.type === "commit";
    h.tickAll(1_000);
    for (let seq = 1; seq <= ops; seq++)
      for (let i = 0; i < 4; i++) h.step(i, { kind: "submit", op: makeOp(seq) });
    h.run();
    for (const node of h.nodes) expect(node.state.lastExecuted).toBe(0);
    return h;
  }
  /** Make every slot of `node` exactly `ticks` old. */
  const age = (h: Harness, node: number, ticks: number) => {
    const s = h.nodes[node]!.state;
    for (const slot of s.slots.values()) slot.sinceTick = s.tick - ticks;
  };
  const level = { lastExecuted: 0, stableSeq: 0, uncertifiedFrom: 1 };

  it("a slot in progress, to a stalled peer: the backup sends its PREPARE and COMMIT again, the primary its PRE-PREPARE too", () => {
    const h = inProgress();
    expect(stalled(level, h, 1).map(({ type, seq, from }) => [type, seq, from])).toEqual([
      ["prepare", 1, 1],
      ["commit", 1, 1],
    ]);
    expect(types(stalled(level, h, 0))).toEqual(["commit", "pre-prepare", "prepare"]);
  });

  it("not yet aged, or to a peer changing view: the votes are not sent again", () => {
    const h = inProgress();
    age(h, 1, R - 1);
    expect(answer(level, h, 1)).toEqual([]);
    age(h, 1, R);
    expect(answer({ ...level, normal: false }, h, 1)).toEqual([]);
    expect(answer({ ...level, view: 1 }, h, 1)).toEqual([]);
  });

  it("retransmitSlotsMax bounds the slots answered in one STATUS", () => {
    const h = inProgress(2, { ...UNIT_CONFIG, retransmitSlotsMax: 1 });
    expect(stalled(level, h, 1).map((x) => x.seq)).toEqual([1, 1]);
  });

  it("retransmitSlotsMax bounds the committed batches too; own votes for a checkpoint the peer lacks go along", () => {
    const h = new Harness({ ...UNIT_CONFIG, retransmitSlotsMax: 1 });
    // node 0 never hears the others' votes for checkpoint 6: it stays stable at 4, its own vote kept
    h.drop = (to, env) => to === 0 && env.from !== 0 && env.msg.type === "checkpoint" && env.msg.seq === 6;
    h.tickAll(1_000);
    h.order(1, 7);
    const s = h.nodes[0]!.state;
    expect([s.stable.seq, s.lastExecuted]).toEqual([4, 7]);
    const behind = { lastExecuted: 4, stableSeq: 4, uncertifiedFrom: 5 };
    const sends = stalled(behind, h);
    expect(sends.filter((x) => x.type === "committed").map((x) => x.seq)).toEqual([5]);
    expect(sends.filter((x) => x.type === "checkpoint").map((x) => [x.seq, x.from])).toEqual([[6, 0]]);
    const past = answer({ ...behind, stableSeq: 6 }, h);
    expect(past.filter((x) => x.type === "checkpoint")).toEqual([]);
  });

  it("certificates a peer lacks: from its uncertifiedFrom, at most retransmitSlotsMax, none it has not executed", () => {
    const h = new Harness({ ...UNIT_CONFIG, retransmitSlotsMax: 2, certificatesKeptMax: 64 });
    h.tickAll(1_000);
    h.order(1, 5);
    const me = h.nodes[0]!.state;
    expect([...me.certificates.keys()]).toEqual([1, 2, 3, 4, 5]);
    const sent = (st: Partial<Status>) => {
      const fx = h.step(0, {
        kind: "message",
        envelope: {
          from: 3,
          msg: {
            type: "status",
            view: 0,
            normal: true,
            lastExecuted: 5,
            stableSeq: 4,
            uncertifiedFrom: 1,
            ...st,
          },
          sig: "",
        } as Envelope,
      });
      return fx.send.flatMap((o) => (o.msg?.type === "certificate" ? [o.msg.certificate.body.seq] : []));
    };
    // Each on a second STATUS at least retransmitAfterTicks after the first that showed it lacking.
    const twice = (st: Partial<Status>) => {
      expect(sent(st), `first STATUS ${JSON.stringify(st)}`).toEqual([]);
      pass(h, 0, R);
      return sent(st);
    };
    expect(twice({ uncertifiedFrom: 1 })).toEqual([1, 2]);
    expect(sent({ uncertifiedFrom: 1 }), "backing off").toEqual([]);
    expect(twice({ uncertifiedFrom: 4 })).toEqual([4, 5]);
    expect(twice({ uncertifiedFrom: 2, lastExecuted: 2 })).toEqual([2]);
    expect(sent({ uncertifiedFrom: 6 })).toEqual([]);
  });

  it("a node changing view sends its VIEW-CHANGE to a peer in its view or an older one, not a newer", () => {
    const h = new Harness();
    h.tickAll(1_000);
    h.hearViewChanges(2, 1, [0, 3]); // f+1: node 2 joins view 1
    const s = h.nodes[2]!.state;
    expect([s.view, s.normal, s.viewChanges.get(2)?.msg.view]).toEqual([1, false, 1]);
    for (const [view, sent] of [
      [0, true],
      [1, true],
      [2, false],
    ] as const) {
      const got = answer({ ...level, view, normal: false }, h, 2).filter((x) => x.type === "view-change");
      expect(
        got.map((x) => x.from),
        `peer in view ${view}`,
      ).toEqual(sent ? [2] : []);
    }
  });
});

describe("a stable checkpoint learned from a VIEW-CHANGE", () => {
  it("a node that missed every CHECKPOINT vote becomes stable from the proof a VIEW-CHANGE carries", () => {
    const h = new Harness();
    h.drop = (to, env) => to === 2 && env.msg.type === "checkpoint";
    h.tickAll(1_000);
    h.order(1, 5);
    const behind = h.nodes[2]!.state;
    const proof = h.nodes[0]!.state.stable;
    // (its window ends at seq 4 until a checkpoint is stable: it executed that far)
    expect([behind.lastExecuted, behind.stable.seq, proof.seq]).toEqual([4, 0, 4]);
    const vc: ViewChange = { type: "view-change", view: 1, checkpoint: proof, prepared: [] };
    h.step(2, { kind: "message", envelope: { from: 3, msg: vc, sig: "" } as Envelope });
    expect(behind.stable.seq).toBe(4);
    expect(behind.stable.digest).toBe(proof.digest);
    expect(h.nodes[2]!.stats["checkpoint.stable"]).toBe(1);
  });
});
