/**
 * Idle backoff of the EdgeReplica's periodic tasks: a replica nobody writes to should cost next to
 * nothing. Each alarm run that finds nothing to do (no peer ahead of our cursor, nothing to re-send,
 * nothing to certify again, no certified batch to fetch) doubles every periodic task's period, up
 * to IDLE_PERIOD_MAX_MS; any sign of traffic (a local write, an op received, a peer whose head is
 * past our cursor, a run that found work) puts the periods back to their base at once. At the cap
 * every task has the same period and the tasks run together (`idleGraceMs`), so an idle replica
 * wakes about once a minute instead of about twice a second.
 * Pure. See docs/costs.md.
 */
import type { Deadlines, Periods } from "./timers.js";

/** The longest period an idle replica's tasks back off to (ms). */
export const IDLE_PERIOD_MAX_MS = 60_000;

const PERIODIC = ["antiEntropy", "resend", "gc", "certify", "certifiedSync"] as const;

/** The highest level that still lengthens the anti-entropy period (0 when its base is at the cap). */
export function idleLevelMax(base: Periods, capMs = IDLE_PERIOD_MAX_MS): number {
  if (base.antiEntropy >= capMs) return 0;
  return Math.ceil(Math.log2(capMs / base.antiEntropy));
}

/**
 * The level after an alarm run: 0 when the run found work, one more when it ran a periodic task and
 * found nothing (up to `idleLevelMax`), unchanged when no periodic task was due (a forced or early
 * run says nothing about traffic).
 */
export function nextIdleLevel(
  level: number,
  run: { ranPeriodic: boolean; foundWork: boolean },
  base: Periods,
  capMs = IDLE_PERIOD_MAX_MS,
): number {
  if (run.foundWork) return 0;
  if (!run.ranPeriodic) return level;
  return Math.min(level + 1, idleLevelMax(base, capMs));
}

/**
 * The periods in force at `level`: each task's base period doubled `level` times, capped at
 * `capMs` (never below its base: a base past the cap, as in tests, is left alone).
 */
export function idlePeriods(base: Periods, level: number, capMs = IDLE_PERIOD_MAX_MS): Periods {
  const factor = 2 ** Math.max(0, Math.min(level, 30));
  const out = { ...base };
  for (const t of PERIODIC) out[t] = Math.max(base[t], Math.min(capMs, base[t] * factor));
  return out;
}

/**
 * How far ahead of its deadline a task may run with the others (ms): half the backoff added to the
 * anti-entropy period, so tasks whose deadlines drifted apart fall in step once idle (one alarm run
 * per period, not one per task). 0 at level 0: a busy replica runs each task on time.
 */
export function idleGraceMs(base: Periods, level: number, capMs = IDLE_PERIOD_MAX_MS): number {
  return Math.floor((idlePeriods(base, level, capMs).antiEntropy - base.antiEntropy) / 2);
}

/**
 * Traffic while idle: every periodic deadline pulled in to at most one base period from now (one
 * already sooner is kept), so the replica is back at its busy pace within a base period.
 */
export function wakeDeadlines(d: Deadlines, nowMs: number, base: Periods): Deadlines {
  const out: Deadlines = { ...d };
  for (const t of PERIODIC) out[t] = Math.min(out[t] ?? Infinity, nowMs + base[t]);
  return out;
}
