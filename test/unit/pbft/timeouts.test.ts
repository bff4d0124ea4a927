/**
 * Timers of shared/pbft/timers.ts a node decides by alone:
 * - a batch that never got its certificate here is given up only below the stable checkpoint, after
 *   `uncertifiedGiveUpTicks`, and only once f+1 peers' STATUS say they are past it (time alone is no
 *   evidence: its signers may be slow, not gone);
 * - a view change that does not complete moves on to the next view at its deadline tick exactly.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_PBFT_CONFIG } from "../../../shared/pbft/config.js";
import type { Envelope, Status } from "../../../shared/pbft/messages.js";
import { Harness, UNIT_CONFIG } from "./harness.js";

const TICK = UNIT_CONFIG.tickMs!;
const GIVE_UP = DEFAULT_PBFT_CONFIG.uncertifiedGiveUpTicks;

/** Node 2 ordered seqs 1..5 but never got a share or certificate: all five wait (stable at 4). */
function waiting(): Harness {
  const h = new Harness();
  h.drop = (to, env) => to === 2 && (env.msg.type === "share" || env.msg.type === "certificate");
  h.tickAll(1_000);
  h.order(1, 5);
  const s = h.nodes[2]!.state;
  expect([s.stable.seq, [...s.uncertified.keys()]]).toEqual([4, [1, 2, 3, 4, 5]]);
  return h;
}
const status = (h: Harness, from: number, uncertifiedFrom: number): Envelope<Status> => {
  const s = h.nodes[from]!.state;
  return {
    from,
    msg: {
      type: "status",
      view: s.view,
      normal: s.normal,
      lastExecuted: s.lastExecuted,
      stableSeq: s.stable.seq,
      uncertifiedFrom,
    },
    sig: "",
  };
};
/** Tick node 2 at `ms` past the start and return the seqs it still waits for. */
const after = (h: Harness, ms: number): number[] => {
  h.step(2, { kind: "tick", nowMs: 1_000 + ms });
  return [...h.nodes[2]!.state.uncertified.keys()];
};

describe("giving up a certificate that never came", () => {
  it("time alone: kept, however long", () => {
    const h = waiting();
    expect(after(h, (GIVE_UP + 100) * TICK)).toEqual([1, 2, 3, 4, 5]);
    expect(h.nodes[2]!.stats["uncertified_abandoned"] ?? 0).toBe(0);
  });

  it("one peer past it (f): kept; f+1 peers past it, after the grace period: given up below the stable checkpoint", () => {
    const h = waiting();
    h.step(2, { kind: "message", envelope: status(h, 0, 6) });
    expect(after(h, (GIVE_UP + 100) * TICK)).toEqual([1, 2, 3, 4, 5]);
    h.step(2, { kind: "message", envelope: status(h, 1, 6) });
    expect(after(h, (GIVE_UP + 200) * TICK)).toEqual([5]); // seq 5 is above the stable checkpoint
    expect(h.nodes[2]!.stats["uncertified_abandoned"]).toBe(4);
  });

  it("f+1 peers past it, but within the grace period: kept", () => {
    const h = waiting();
    h.step(2, { kind: "message", envelope: status(h, 0, 6) });
    h.step(2, { kind: "message", envelope: status(h, 1, 6) });
    expect(after(h, (GIVE_UP / 2) * TICK)).toEqual([1, 2, 3, 4, 5]);
  });

  it("f+1 peers that still wait at seq 3 themselves: only seqs 1 and 2 are given up", () => {
    const h = waiting();
    h.step(2, { kind: "message", envelope: status(h, 0, 3) });
    h.step(2, { kind: "message", envelope: status(h, 1, 3) });
    expect(after(h, (GIVE_UP + 100) * TICK)).toEqual([3, 4, 5]);
  });
});

describe("a view change that does not complete", () => {
  it("moves to the next view at its deadline tick, not before", () => {
    const h = new Harness();
    h.tickAll(1_000);
    h.hearViewChanges(2, 1, [0, 3]); // f+1: node 2 joins view 1
    const s = h.nodes[2]!.state;
    const deadline = s.viewChangeDeadlineTick!;
    expect([s.view, s.normal, deadline > s.tick]).toEqual([1, false, true]);
    h.step(2, { kind: "tick", nowMs: (deadline - 1) * TICK });
    expect(s.view).toBe(1);
    h.step(2, { kind: "tick", nowMs: deadline * TICK });
    expect([s.view, s.normal]).toEqual([2, false]);
  });
});
