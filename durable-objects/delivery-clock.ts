/**
 * A replica's one alarm, as I/O: the delivery core (shared/delivery/clock.ts) decides the deadlines,
 * the idle level and which tasks are due; this sets the alarm the core's effects name, and runs an
 * alarm: every due task under its own deadline, one that throws or overruns logged and left to the
 * core to retry, and the alarm re-armed in `finally` (a thrown alarm would leave the retry to the
 * platform's backoff). What each task does is the caller's (durable-objects/delivery.ts).
 */
import { withDeadline } from "../shared/deadline.js";
import type { DeliveryEffects, DeliveryInput } from "../shared/delivery/effects.js";
import { ALARM_TASK_DEADLINE_MS } from "../shared/delivery/settings.js";
import type { Task } from "../shared/delivery/timers.js";

/** One delivery step of replica `me`, committed (durable-objects/delivery.ts `step`). */
export type Step = (input: DeliveryInput) => DeliveryEffects;

/** Set the alarm a step's effects name: `alarmAt` exactly, `alarmBy` unless one is set sooner. */
export async function applyAlarm(storage: DurableObjectStorage, fx: DeliveryEffects): Promise<void> {
  if (fx.alarmAt !== null) await storage.setAlarm(fx.alarmAt);
  if (fx.alarmBy === null) return;
  const alarm = await storage.getAlarm();
  if (alarm === null || alarm > fx.alarmBy) await storage.setAlarm(fx.alarmBy);
}

/**
 * Run every task that is due, then re-arm. Idempotent (an alarm may ring more than once, or early:
 * a task not yet due is not run). `run`: one task; true when it stopped at a bound.
 */
export async function runAlarm(
  storage: DurableObjectStorage,
  me: string,
  step: Step,
  run: (t: Task) => Promise<boolean>,
): Promise<void> {
  const due = step({ kind: "alarm", nowMs: Date.now() }).due;
  const more: Task[] = [];
  const failed: Task[] = [...due];
  try {
    for (const t of due) {
      try {
        if (await withDeadline(run(t), ALARM_TASK_DEADLINE_MS, `alarm task ${t}`)) more.push(t);
        failed.splice(failed.indexOf(t), 1);
      } catch (e) {
        console.error({ event: "alarm_task_failed", replica: me, task: t, error: String(e) });
      }
    }
  } finally {
    await applyAlarm(storage, step({ kind: "alarmDone", nowMs: Date.now(), more, failed }));
  }
}
