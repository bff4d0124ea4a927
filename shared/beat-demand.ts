/**
 * Heartbeat on demand, the replica's side: the PBFT heartbeat runs only while clients are active
 * (shared/pbft/heartbeat.ts), so after a long quiet spell a replica's newest certificate is old.
 * A reader that finds it older than half the stale bound asks the nodes for a beat and waits a
 * little for the fresh certificate, so a client with the default bound does not fail over.
 * Bounded both ways: a replica asks at most once per `askEveryMs`, and once a wait went unanswered
 * (nodes down, queue stalled) readers are answered at once, without waiting, for `coolDownMs`.
 * Pure. See docs/costs.md.
 */

export interface BeatDemandBounds {
  /** Past this certificate age a reader asks for a beat (ms): half the stale bound. */
  askAfterAgeMs: number;
  /** A reader waits at most this long for a fresh certificate (ms). */
  waitMaxMs: number;
  /** At most one request to the nodes per this long, per replica instance (ms). */
  askEveryMs: number;
  /** After a wait that brought nothing, readers do not wait again for this long (ms). */
  coolDownMs: number;
}

/** Half of STALE_CERTIFICATE_MS's default (10 s, the SDK's bound); waits fit well inside a read. */
export const BEAT_DEMAND: BeatDemandBounds = {
  askAfterAgeMs: 5_000,
  waitMaxMs: 1_500,
  askEveryMs: 1_000,
  coolDownMs: 30_000,
};

/** What the replica remembers between reads (in memory). */
export interface BeatDemandState {
  /** When it last asked the nodes (ms; null: never). */
  askedAt: number | null;
  /** No waiting before this time (ms): the last wait went unanswered. */
  noWaitUntil: number;
}

export interface BeatDecision {
  /** Ask the nodes for a beat now. */
  ask: boolean;
  /** Wait (up to `waitMaxMs`) for a certificate newer than the one held. */
  wait: boolean;
}

/** For a read at `nowMs` whose replica's newest certificate has `certTime` (null: none yet). */
export function beatDecision(
  nowMs: number,
  certTime: number | null,
  st: BeatDemandState,
  b: BeatDemandBounds = BEAT_DEMAND,
): BeatDecision {
  if (certTime !== null && nowMs - certTime <= b.askAfterAgeMs) return { ask: false, wait: false };
  const ask = st.askedAt === null || nowMs - st.askedAt >= b.askEveryMs;
  // no certificate at all yet: a beat may bring the first, but it is no reason to hold a read
  return { ask, wait: certTime !== null && nowMs >= st.noWaitUntil };
}
