/**
 * How a node fetches a checkpoint's state (shared/pbft/state-transfer.ts): it asks its source for
 * the subtrees it lacks — big chunks where it has no keys, small ones where it has keys (it lacks
 * only what changed) —, asks again a subtree not answered within `retransmitAfterTicks` (not
 * sooner), moves to the next source after twice that without progress or at once when the source
 * sends a chunk that does not verify; a bad chunk from another peer does not cost the source.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_PBFT_CONFIG } from "../../../shared/pbft/config.js";
import type { Effects } from "../../../shared/pbft/effects.js";
import type { Envelope } from "../../../shared/pbft/messages.js";
import { Harness, UNIT_CONFIG } from "./harness.js";

const R = DEFAULT_PBFT_CONFIG.retransmitAfterTicks;
const TICK = UNIT_CONFIG.tickMs!;

/** Node 3 cut off (after `shared` ops ordered with it) while 0..2 order up to seq 9, then offered node 0's checkpoint. */
function started(shared = 0) {
  const h = new Harness();
  h.tickAll(1_000);
  if (shared) h.order(1, shared);
  h.drop = (to, env) => to === 3 || env.from === 3;
  h.order(shared + 1, 9, [0, 1, 2]);
  h.drop = () => false;
  h.queue.length = 0;
  const s0 = h.nodes[0]!.state;
  expect(s0.stable.seq).toBe(8);
  const fx = h.step(3, {
    kind: "message",
    envelope: {
      from: 0,
      msg: { type: "state", checkpoint: s0.stable, header: s0.stableHeader },
      sig: "",
    } as Envelope,
  });
  const s = h.nodes[3]!.state;
  expect(s.transfer?.source).toBe(0);
  return { h, s, fx, t0: s.tick };
}
const fetches = (fx: Effects) =>
  fx.send.flatMap((o) => (o.msg?.type === "state-fetch" ? [{ to: o.to, paths: o.msg.paths }] : []));
const tickAt = (h: Harness, tick: number) => h.step(3, { kind: "tick", nowMs: tick * TICK });

describe("fetching a checkpoint's state", () => {
  it("asks the source for the root: big chunks with no keys here, small ones where it has keys", () => {
    const empty = started();
    expect(fetches(empty.fx)).toEqual([{ to: [0], paths: [["", DEFAULT_PBFT_CONFIG.stateChunkRecordsMax]] }]);
    const some = started(1);
    expect(fetches(some.fx)).toEqual([
      { to: [0], paths: [["", DEFAULT_PBFT_CONFIG.stateChunkRecordsPatch]] },
    ]);
  });

  it("asks again after retransmitAfterTicks, not sooner; changes source after twice that without progress", () => {
    const { h, s, t0 } = started();
    expect(fetches(tickAt(h, t0 + R - 1))).toEqual([]);
    expect(fetches(tickAt(h, t0 + R)).map((f) => f.to)).toEqual([[0]]);
    expect(s.transfer!.source).toBe(0);
    tickAt(h, t0 + 2 * R - 1);
    expect(s.transfer!.source).toBe(0);
    expect(fetches(tickAt(h, t0 + 2 * R)).map((f) => f.to)).toEqual([[1]]);
    expect(s.transfer!.source).toBe(1);
    expect(h.nodes[3]!.stats["state_transfer.source_changed"]).toBe(1);
  });

  it("a chunk that does not verify: from the source, the next source is asked; from another peer, nothing changes", () => {
    const { h, s } = started();
    const bad = (from: number): Envelope =>
      ({ from, msg: { type: "state-chunk", seq: 8, path: "", chunk: { records: [] } }, sig: "" }) as Envelope;
    h.step(3, { kind: "message", envelope: bad(2) });
    expect(s.transfer!.source).toBe(0);
    h.step(3, { kind: "message", envelope: bad(0) });
    expect(s.transfer!.source).toBe(1);
    const drops = Object.entries(h.nodes[3]!.stats).filter(([k]) => k.startsWith("drop.bad_chunk"));
    expect(drops.reduce((n, [, v]) => n + v, 0)).toBe(2);
  });
});
