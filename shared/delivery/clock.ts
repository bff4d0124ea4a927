/**
 * The delivery core's clock steps: one alarm multiplexed over the tasks (deadlines in the state,
 * timers.ts decides them), and the idle level that stretches a quiet replica's periods
 * (idle-backoff.ts). A local write, an op received, first contact, a certified gap and the alarm's
 * start and end each move the deadlines and say when the alarm must ring. Pure.
 */
import { alarmBy, capOf, type Ctx } from "./context.js";
import { idleGraceMs, idlePeriods, nextIdleLevel, wakeDeadlines } from "./idle-backoff.js";
import { drainDelayMs, GAP_SYNC_DELAY_MS, periodsOf } from "./settings.js";
import { afterRun, dueTasks, nextAlarm, withPeriodic, type Periods, type Task } from "./timers.js";

const base = (cx: Ctx): Periods => periodsOf(cx.config.knobs);

export function idleLevel(cx: Pick<Ctx, "state">): number {
  const v = cx.state.mark("idle_level");
  return Number.isSafeInteger(v) && v >= 0 ? v : 0;
}

function setIdleLevel(cx: Ctx, level: number): void {
  if (level !== idleLevel(cx)) cx.state.putMark("idle_level", level);
}

/** Traffic: back to the busy pace, every periodic deadline within one base period. */
export function onWake(cx: Ctx, nowMs: number): void {
  if (idleLevel(cx) === 0) return;
  setIdleLevel(cx, 0);
  const d = wakeDeadlines(cx.state.deadlines(), nowMs, base(cx));
  cx.state.putDeadlines(d);
  alarmBy(cx, nextAlarm(d)!);
}

/**
 * A local write: wake, then a drain `drainDelayMs` from now unless one is due already. The deadline
 * is written in the write's own transaction, so a replica evicted right after replying still drains.
 */
export function onWritten(cx: Ctx, nowMs: number): void {
  onWake(cx, nowMs);
  if (!cx.mem.drainScheduled) {
    const at = nowMs + drainDelayMs(cx.config.knobs);
    const d = cx.state.deadlines();
    if (d.drain === undefined || d.drain > at) cx.state.putDeadlines({ ...d, drain: at });
    alarmBy(cx, Math.min(at, d.drain ?? at));
    cx.mem.drainScheduled = true;
  }
  onContact(cx, nowMs);
}

/** First contact of this instance: every periodic task has a deadline, the alarm is set. */
export function onContact(cx: Ctx, nowMs: number): void {
  if (cx.mem.timersChecked) return;
  const d = withPeriodic(cx.state.deadlines(), nowMs, base(cx));
  cx.state.putDeadlines(d);
  alarmBy(cx, nextAlarm(d)!);
  cx.mem.timersChecked = true;
}

/** A gap below a buffered certified batch: the catch-up soon (the queue usually fills it first). */
export function onGap(cx: Ctx, nowMs: number): void {
  if (!cx.config.certify) return;
  const d = cx.state.deadlines();
  const at = nowMs + Math.min(GAP_SYNC_DELAY_MS, base(cx).certifiedSync);
  if (d.certifiedSync !== undefined && d.certifiedSync <= at) return;
  cx.state.putDeadlines({ ...d, certifiedSync: at });
  alarmBy(cx, at);
}

/** The alarm rang: the tasks due (idle: those due within the grace too, one run per period). */
export function onAlarm(cx: Ctx, nowMs: number): void {
  const level = idleLevel(cx);
  const periods = idlePeriods(base(cx), level, capOf(cx.config));
  cx.mem.runs.runs++;
  cx.mem.runs.lastAt = nowMs;
  const grace = idleGraceMs(base(cx), level, capOf(cx.config));
  const due = dueTasks(withPeriodic(cx.state.deadlines(), nowMs, periods), nowMs + grace);
  cx.mem.workFound = false;
  cx.mem.run = { level, due };
  cx.fx.due = due;
}

/**
 * Every due task ran (`more`: stopped at a bound; `failed`: threw): the next idle level, the
 * deadlines re-armed, the alarm set to the earliest. A drain that left own ops unsent runs again.
 */
export function onAlarmDone(cx: Ctx, nowMs: number, more: readonly Task[], failed: readonly Task[]): void {
  const { level, due } = cx.mem.run ?? { level: idleLevel(cx), due: [] };
  const again = [...more];
  const drained = due.includes("drain") && !failed.includes("drain");
  if (drained && cx.log.head() > cx.state.mark("sent_pos") && !again.includes("drain")) again.push("drain");
  const ranPeriodic = due.some((t) => t !== "drain");
  const cap = capOf(cx.config);
  // a write during the run's awaits may have woken the replica (level 0) meanwhile: it wins
  const next =
    idleLevel(cx) < level
      ? 0
      : nextIdleLevel(level, { ranPeriodic, foundWork: cx.mem.workFound }, base(cx), cap);
  setIdleLevel(cx, next);
  const after = idlePeriods(base(cx), next, cap);
  const d = afterRun(withPeriodic(cx.state.deadlines(), nowMs, after), due, nowMs, after, again, failed);
  cx.state.putDeadlines(d);
  cx.fx.alarmAt = nextAlarm(d);
  cx.mem.timersChecked = true;
  cx.mem.run = null;
}
