/**
 * A hybrid logical clock (Kulkarni et al.): what orders `register` writes between replicas.
 *
 * The origin replica stamps each register write with `tick(last, now)`: the larger of its own wall
 * clock and the greatest stamp it has seen (its own, and every stamp in effects it applied from other
 * replicas), plus a logical counter. So a write made at a replica wins over everything that replica
 * had seen, and the client's own `ts` orders nothing: no client can pin a register.
 *
 * A stamp from another replica is accepted only if it is at most `HLC_AHEAD_MAX_MS` ahead of the
 * receiver's clock (`remoteStampVerdict`), so a faulty replica can't pin a register either: an honest
 * write at any replica loses to a concurrent one for at most that long (plus propagation) after the
 * concurrent write's wall time. Pure: the clock reading is an argument.
 */
import * as z from "./zod.js";

export interface Hlc {
  /** Milliseconds: the greatest wall clock reading this stamp has absorbed. */
  readonly wall: number;
  /** Orders stamps with the same `wall`. */
  readonly logical: number;
}

/** How far ahead of a receiver's clock another replica's stamp may be (ms); beyond it, refused. */
export const HLC_AHEAD_MAX_MS = 2_000;
/** The logical counter's cap: past it, a tick moves `wall` on by 1 ms (keeps counters small and safe). */
export const HLC_LOGICAL_MAX = 1_000_000;

export const HLC_ZERO: Hlc = { wall: 0, logical: 0 };

export const hlcSchema: z.ZodMiniType<Hlc> = z.strictObject({
  wall: z.int().check(z.minimum(0), z.maximum(Number.MAX_SAFE_INTEGER - 1)),
  logical: z.int().check(z.minimum(0), z.maximum(HLC_LOGICAL_MAX)),
});

/** Negative, zero, positive as `a` is before, equal to, after `b`. */
export const compareHlc = (a: Hlc, b: Hlc): number =>
  a.wall !== b.wall ? a.wall - b.wall : a.logical - b.logical;

export const maxHlc = (a: Hlc, b: Hlc): Hlc => (compareHlc(a, b) >= 0 ? a : b);

/** The next stamp: greater than `last`, and at least the wall clock `nowMs`. */
export function tick(last: Hlc, nowMs: number): Hlc {
  const now = Math.floor(nowMs);
  if (now > last.wall) return { wall: now, logical: 0 };
  if (last.logical < HLC_LOGICAL_MAX) return { wall: last.wall, logical: last.logical + 1 };
  return { wall: last.wall + 1, logical: 0 };
}

export type StampVerdict = { ok: true } | { ok: false; drop: "stamp_ahead"; aheadMs: number };

/** Is another replica's stamp acceptable at a receiver whose clock reads `nowMs`? */
export function remoteStampVerdict(stamp: Hlc, nowMs: number): StampVerdict {
  const aheadMs = stamp.wall - Math.floor(nowMs);
  return aheadMs > HLC_AHEAD_MAX_MS ? { ok: false, drop: "stamp_ahead", aheadMs } : { ok: true };
}

/** The clock as persisted (a replica's own meta row; absent: never ticked). Throws if corrupt. */
export const parseHlc = (text: string | undefined): Hlc =>
  text === undefined ? HLC_ZERO : hlcSchema.parse(JSON.parse(text));

export const formatHlc = (h: Hlc): string => JSON.stringify({ wall: h.wall, logical: h.logical });
