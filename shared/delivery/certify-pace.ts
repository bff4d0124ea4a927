/**
 * Backpressure from the PBFT nodes to an origin's re-submissions (the `certify` task): when the
 * nodes answer that their pools are full (`busy`), the origin waits longer before the next
 * re-submission (doubling, bounded) and sends fewer ops then (halving, bounded below); a run the
 * nodes took whole restores the pace step by step. Ops are never dropped by this: they stay in the
 * op log, uncertified, and are submitted again once the cluster catches up.
 * Pure. See docs/architecture.md ("Backpressure").
 */

/** The pace of one origin's re-submissions. */
export interface CertifyPace {
  /** Ops per re-submission at most. */
  limit: number;
  /** The wait added before the next re-submission (ms; 0: none, the task's own period only). */
  backoffMs: number;
  /** No re-submission before this time (ms since epoch). */
  notBefore: number;
}

export interface PaceBounds {
  /** Ops per re-submission at full pace (and at most). */
  limitMax: number;
  /** Ops per re-submission at most backed off (at least 1). */
  limitMin: number;
  /** The first backoff, then doubled per busy answer up to `backoffMaxMs`. */
  backoffBaseMs: number;
  backoffMaxMs: number;
}

export const fullPace = (b: PaceBounds): CertifyPace => ({ limit: b.limitMax, backoffMs: 0, notBefore: 0 });

/**
 * Whether the nodes' answers say the cluster is saturated: at least f + 1 nodes refused ops of this
 * submission because their pool was full, so at least one correct node did (one lying node alone
 * can't slow an origin down). Answers are hostile input: anything but a non-negative integer counts
 * as not busy.
 */
export function nodesBusy(answers: readonly unknown[], f: number): boolean {
  let busy = 0;
  for (const a of answers) {
    const n = typeof a === "object" && a !== null ? (a as { busy?: unknown }).busy : undefined;
    if (typeof n === "number" && Number.isSafeInteger(n) && n > 0) busy++;
  }
  return busy >= f + 1;
}

/** The pace after a re-submission at `nowMs` the nodes answered `busy` or not. */
export function nextPace(p: CertifyPace, busy: boolean, nowMs: number, b: PaceBounds): CertifyPace {
  if (busy) {
    const backoffMs = Math.min(b.backoffMaxMs, p.backoffMs === 0 ? b.backoffBaseMs : 2 * p.backoffMs);
    return { limit: Math.max(b.limitMin, Math.floor(p.limit / 2)), backoffMs, notBefore: nowMs + backoffMs };
  }
  const backoffMs = Math.floor(p.backoffMs / 2) < b.backoffBaseMs ? 0 : Math.floor(p.backoffMs / 2);
  return { limit: Math.min(b.limitMax, 2 * p.limit), backoffMs, notBefore: nowMs + backoffMs };
}

/** Whether a re-submission may run at `nowMs`. */
export const paceAllows = (p: CertifyPace, nowMs: number): boolean => nowMs >= p.notBefore;
