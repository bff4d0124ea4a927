/**
 * A replica's one alarm, multiplexed over its delivery tasks: each task's deadline kept in storage
 * (shared/delivery/timers.ts decides them), the alarm set to the earliest, the idle level that
 * stretches the periods of a quiet replica (shared/delivery/idle-backoff.ts), and the run loop that
 * gives every due task its own deadline and re-arms in `finally`. What each task does is the
 * caller's (durable-objects/delivery.ts).
 */
import { ALARM_TASK_DEADLINE_MS, periodsOf, type DeliveryKnobs } from "../shared/delivery/settings.js";
import { idleGraceMs, idlePeriods, nextIdleLevel, wakeDeadlines } from "../shared/delivery/idle-backoff.js";
import { afterRun, dueTasks, nextAlarm, withPeriodic, type Task } from "../shared/delivery/timers.js";
import { withDeadline } from "../shared/deadline.js";
import type { AlarmStats } from "../shared/rpc/replica-stats.js";
import type { DeliveryStore } from "./delivery-store.js";

/** Where the idle level persists (so an evicted idle replica stays backed off). */
export interface MetaStore {
  getMeta(name: string): string | undefined;
  setMeta(name: string, value: string): void;
}

export interface AlarmTasks {
  /** One task; true when it stopped at a bound and has more to do at once. */
  run(t: Task): Promise<boolean>;
  /** After a drain: own ops still unsent (written during the run). */
  unsent(): boolean;
}

export class DeliveryClock {
  private drainScheduled = false;
  private timersChecked = false;
  /** Alarm runs of this instance and the last one's time (what idling costs). */
  private readonly runs = { runs: 0, lastAt: null as number | null };
  /** The idle level (meta `idle_level`), cached. */
  private level: number | undefined;
  /** Set by a task of the current run that found something to do (resets the idle level). */
  private workFound = false;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly knobs: DeliveryKnobs,
    private readonly book: DeliveryStore,
    private readonly meta: MetaStore,
  ) {}

  /** A task of the current run found work: the replica is not idle. */
  readonly noteWork = (): void => {
    this.workFound = true;
  };

  /**
   * Ask for a drain `drainDelayMs` from now unless one is already due. Deadline and alarm are
   * written under the same output gate as the write, so a replica evicted right after replying
   * still drains when it comes back.
   */
  async scheduleDrain(delayMs: number): Promise<void> {
    await this.wake();
    if (this.drainScheduled) return;
    const at = Date.now() + delayMs;
    const d = this.book.deadlines();
    if (d.drain === undefined || d.drain > at) this.book.putDeadlines({ ...d, drain: at });
    await this.alarmBy(Math.min(at, d.drain ?? at));
    this.drainScheduled = true;
  }

  /** Have `task` run within `delayMs` (sooner if already due sooner). */
  async soon(task: Task, delayMs: number): Promise<void> {
    const d = this.book.deadlines();
    const at = Date.now() + delayMs;
    if (d[task] !== undefined && d[task] <= at) return;
    this.book.putDeadlines({ ...d, [task]: at });
    await this.alarmBy(at);
  }

  /**
   * Traffic (a local write, an op received from a peer): back to the busy pace at once, with every
   * periodic deadline within one base period. Nothing to do (no write) while already busy.
   */
  async wake(): Promise<void> {
    if (this.idleLevel() === 0) return;
    this.setIdleLevel(0);
    const d = wakeDeadlines(this.book.deadlines(), Date.now(), periodsOf(this.knobs));
    this.book.putDeadlines(d);
    await this.alarmBy(nextAlarm(d)!);
  }

  /** On first contact after start: make sure the periodic tasks have deadlines and the alarm is set. */
  async ensureTimers(): Promise<void> {
    if (this.timersChecked) return;
    const d = withPeriodic(this.book.deadlines(), Date.now(), periodsOf(this.knobs));
    this.book.putDeadlines(d);
    await this.alarmBy(nextAlarm(d)!);
    this.timersChecked = true;
  }

  /**
   * Run every task that is due; re-arm; set the alarm to the earliest deadline. Idempotent. Each
   * task is independent: one that throws or passes ALARM_TASK_DEADLINE_MS (a peer that never
   * answers) is logged and retried later by this same alarm, the others still run, and the alarm is
   * re-armed in `finally` (a thrown alarm would leave the retry to the platform's backoff).
   */
  async alarm(me: string, tasks: AlarmTasks): Promise<void> {
    const base = periodsOf(this.knobs);
    const level = this.idleLevel();
    const periods = idlePeriods(base, level);
    const start = Date.now();
    this.runs.runs++;
    this.runs.lastAt = start;
    // idle: tasks due within the grace run now with the others (one run per period, not per task)
    const due = dueTasks(
      withPeriodic(this.book.deadlines(), start, periods),
      start + idleGraceMs(base, level),
    );
    this.workFound = false;
    const more: Task[] = [];
    const failed: Task[] = [...due];
    try {
      for (const t of due) {
        if (t === "drain") this.drainScheduled = false;
        try {
          if (await withDeadline(tasks.run(t), ALARM_TASK_DEADLINE_MS, `alarm task ${t}`)) more.push(t);
          failed.splice(failed.indexOf(t), 1);
        } catch (e) {
          console.error({ event: "alarm_task_failed", replica: me, task: t, error: String(e) });
        }
      }
      if (due.includes("drain") && !failed.includes("drain") && tasks.unsent()) more.push("drain");
    } finally {
      const now = Date.now();
      // a write during the awaits may have woken the replica (level 0) meanwhile: it wins
      const ranPeriodic = due.some((t) => t !== "drain");
      const next =
        this.idleLevel() < level ? 0 : nextIdleLevel(level, { ranPeriodic, foundWork: this.workFound }, base);
      this.setIdleLevel(next);
      const after = idlePeriods(base, next);
      // re-read: a write during the awaits may have set a drain deadline
      const d = afterRun(withPeriodic(this.book.deadlines(), now, after), due, now, after, more, failed);
      this.book.putDeadlines(d);
      await this.storage.setAlarm(nextAlarm(d)!);
      this.timersChecked = true;
    }
  }

  status(): AlarmStats {
    const level = this.idleLevel();
    return {
      ...this.runs,
      idleLevel: level,
      antiEntropyMs: idlePeriods(periodsOf(this.knobs), level).antiEntropy,
    };
  }

  /** Set the alarm to `at` unless it is set sooner already. */
  private async alarmBy(at: number): Promise<void> {
    const alarm = await this.storage.getAlarm();
    if (alarm === null || alarm > at) await this.storage.setAlarm(at);
  }

  private idleLevel(): number {
    if (this.level === undefined) {
      const v = Number(this.meta.getMeta("idle_level") ?? "0");
      this.level = Number.isSafeInteger(v) && v >= 0 ? v : 0;
    }
    return this.level;
  }

  private setIdleLevel(level: number): void {
    if (level === this.idleLevel()) return;
    this.meta.setMeta("idle_level", String(level));
    this.level = level;
  }
}
