/**
 * The EdgeReplica's one alarm, multiplexed: each task has a deadline (kept in storage), the alarm is
 * set to the earliest, and each run does every task that is due. An alarm may run more than once,
 * or early (tests drive it): every task is idempotent and a task not yet due is not run.
 * Pure. See docs/architecture.md ("Delivery and anti-entropy").
 */

/**
 * drain: send new outbox ops; antiEntropy: pull peers' logs; resend: unconfirmed ops; gc: the op
 * log; certify: submit own ops still uncertified after a while to the PBFT nodes again;
 * certifiedSync: fetch certified batches this replica misses from a PBFT node.
 */
export const TASKS = ["drain", "antiEntropy", "resend", "gc", "certify", "certifiedSync"] as const;
export type Task = (typeof TASKS)[number];
export type Deadlines = Partial<Record<Task, number>>;

/** The periodic tasks (drain is set by writes) and their periods, ms. */
const PERIODIC = TASKS.filter((t): t is Exclude<Task, "drain"> => t !== "drain");
export interface Periods {
  antiEntropy: number;
  resend: number;
  gc: number;
  certify: number;
  certifiedSync: number;
}

export function periodsFrom(antiEntropyMs: number): Periods {
  return {
    antiEntropy: antiEntropyMs,
    resend: 3 * antiEntropyMs,
    gc: 5 * antiEntropyMs,
    certify: 3 * antiEntropyMs,
    certifiedSync: 2 * antiEntropyMs,
  };
}

export const dueTasks = (d: Deadlines, nowMs: number): Task[] =>
  TASKS.filter((t) => d[t] !== undefined && d[t]! <= nowMs);

/** The earliest deadline, or null when none is set. */
export function nextAlarm(d: Deadlines): number | null {
  let min: number | null = null;
  for (const t of TASKS) if (d[t] !== undefined && (min === null || d[t]! < min)) min = d[t]!;
  return min;
}

/** A task that threw (a queue refusing sends, a peer down) is tried again this long after, ms. */
export const retryDelayMs = (p: Periods): number => Math.min(1_000, p.antiEntropy);

/**
 * Deadlines after running `ran` at `nowMs`: drain cleared (writes set it), periodic ones re-armed;
 * `more` (stopped at a bound) is due again at once; `failed` (threw) again after `retryDelayMs`,
 * never at once, so a refusing queue can't spin the alarm, and a failure never leaves a task with
 * no deadline (the alarm, not the platform's retry of a thrown handler, brings it back).
 */
export function afterRun(
  d: Deadlines,
  ran: readonly Task[],
  nowMs: number,
  p: Periods,
  more: readonly Task[] = [],
  failed: readonly Task[] = [],
): Deadlines {
  const out: Deadlines = { ...d };
  for (const t of ran) {
    if (t === "drain") delete out.drain;
    else out[t] = nowMs + p[t];
  }
  for (const t of more) out[t] = nowMs;
  for (const t of failed) out[t] = nowMs + retryDelayMs(p);
  return out;
}

/** Periodic deadlines that are missing (a fresh replica, or state from before they existed). */
export function withPeriodic(d: Deadlines, nowMs: number, p: Periods): Deadlines {
  const out: Deadlines = { ...d };
  for (const t of PERIODIC) out[t] ??= nowMs + p[t];
  return out;
}
