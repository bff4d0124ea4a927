/**
 * The replica's hybrid logical clock through one step (shared/hlc.ts): it starts at the host's
 * clock, absorbs the stamp of every effect applied here (own or another replica's), and writes each
 * advance to the store inside the step's transaction, so every later local write is stamped after
 * it. The host takes `now` back as its clock once the transaction committed.
 */
import { compareHlc, remoteStampVerdict, type Hlc } from "../hlc.js";
import { effectStamp } from "../materialize.js";
import type { ReplicatedOp } from "../replication.js";
import type { ReplicaStateStore } from "./store.js";

export class StepClock {
  constructor(
    private readonly store: ReplicaStateStore,
    private h: Hlc,
  ) {}

  get now(): Hlc {
    return this.h;
  }

  /** Absorb the stamp an applied effect carries (register writes; other types carry none). */
  absorb(type: ReplicatedOp["op"]["type"], effect: unknown): void {
    const s = effectStamp(type, effect);
    if (s === undefined || compareHlc(s, this.h) <= 0) return;
    this.store.putClock(s);
    this.h = s;
  }
}

/**
 * How far (ms) a remote entry's stamp is ahead of this replica's clock, if too far: such a stamp
 * would pin the register here (and drag this clock ahead), so the entry is refused, unrecorded, and
 * a later re-delivery can still apply it. Undefined: acceptable (or no stamp at all).
 */
export function stampAheadMs(e: ReplicatedOp, nowMs: number): number | undefined {
  const stamp = effectStamp(e.op.type, e.effect);
  const v = stamp ? remoteStampVerdict(stamp, nowMs) : undefined;
  return v && !v.ok ? v.aheadMs : undefined;
}
