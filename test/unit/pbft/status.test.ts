/**
 * What a node sends a peer whose STATUS shows it behind (shared/pbft/state-transfer.ts `onStatus`):
 * the state when it is behind our stable checkpoint, our checkpoint proof when its stable
 * checkpoint is older, committed batches it has not executed, our NEW-VIEW when it is in an older
 * view — and nothing of that to a peer that is level with us.
 */
import { describe, expect, it } from "vitest";
import type { Effects } from "../../../shared/pbft/effects.js";
import type { Envelope, Status, ViewChange } from "../../../shared/pbft/messages.js";
import { Harness, makeOp } from "./harness.js";

/** Node 0 after ordering 5 ops (stable checkpoint at 4), and what it answers node 3's STATUS with. */
function answer(status: Partial<Status>, h = ordered()): { to: number[]; type: string; seq?: number }[] {
  const me = h.nodes[0]!.state;
  const msg: Status = {
    type: "status",
    view: me.view,
    normal: true,
    lastExecuted: me.lastExecuted,
    stableSeq: me.stable.seq,
    uncertifiedFrom: me.uncertifiedFrom,
    ...status,
  };
  const fx: Effects = h.step(0, { kind: "message", envelope: { from: 3, msg, sig: "" } as Envelope });
  return fx.send.map((o) => {
    const m = (o.msg ?? o.forward!.msg) as { type: string; seq?: number };
    return { to: o.to, type: m.type, ...(m.seq !== undefined ? { seq: m.seq } : {}) };
  });
}
function ordered(): Harness {
  const h = new Harness();
  h.tickAll(1_000);
  h.order(1, 5);
  expect(h.nodes[0]!.state.stable.seq).toBe(4);
  return h;
}
const types = (sends: { type: string }[]) => sends.map((s) => s.type).sort();

describe("answering a peer's STATUS", () => {
  it("a peer level with us gets nothing", () => {
    expect(answer({})).toEqual([]);
  });

  it("a peer behind our stable checkpoint gets the state, our checkpoint proof and the batch past it", () => {
    const sends = answer({ lastExecuted: 0, stableSeq: 0, uncertifiedFrom: 1 });
    expect(sends.every((s) => s.to.length === 1 && s.to[0] === 3)).toBe(true);
    expect(sends.filter((s) => s.type === "state")).toHaveLength(1);
    expect(sends.filter((s) => s.type === "checkpoint" && s.seq === 4)).toHaveLength(3); // the proof: 2f+1
    expect(sends.filter((s) => s.type === "committed").map((s) => s.seq)).toEqual([5]);
  });

  it("a peer with an older stable checkpoint but every batch executed gets our proof only", () => {
    const sends = answer({ stableSeq: 2 });
    expect(types(sends)).toEqual(["checkpoint", "checkpoint", "checkpoint"]);
  });

  it("a peer that executed up to our stable checkpoint gets the committed batch after it, not the state", () => {
    const sends = answer({ lastExecuted: 4 });
    expect(types(sends)).toEqual(["committed"]);
    expect(sends[0]!.seq).toBe(5);
  });

  it("the state is offered at most once per interval", () => {
    const h = ordered();
    expect(types(answer({ lastExecuted: 0, stableSeq: 4 }, h))).toEqual(["committed", "state"]);
    expect(types(answer({ lastExecuted: 0, stableSeq: 4 }, h))).toEqual(["committed"]);
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
