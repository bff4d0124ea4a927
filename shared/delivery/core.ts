/**
 * The delivery core of one EC replica, `step(input) → effects` like the PBFT core: how its own ops
 * reach every peer (drain, re-send, the pages peers pull), how it catches up with theirs (cursors,
 * anti-entropy), when its own ops go to the nodes again (certify, paced), which op rows may be
 * collected (gc), and when each of these runs (one alarm, idle back-off). Every decision is here;
 * a host (durable-objects/delivery.ts, the system simulator) runs each step inside its state's
 * transaction (shared/host/step.ts), then does the I/O the effects name and steps the answers back.
 * Pure: no clock, no I/O; time comes in as `nowMs`.
 *
 * @example
 *   const core = new DeliveryCore(config, state, ownLog);
 *   const fx = state.transaction(() => core.step({ kind: "alarm", nowMs }));
 *   for (const t of fx.due) … core.step({ kind: "task", task: t, nowMs }) …
 */
import type { AlarmStats, CertifyStats } from "../rpc/replica-stats.js";
import { idleLevel, onAlarm, onAlarmDone, onContact, onGap, onWake, onWritten } from "./clock.js";
import { freshVolatile, capOf, work, type Ctx, type DeliveryConfig, type Volatile } from "./context.js";
import { noEffects, type DeliveryEffects, type DeliveryInput } from "./effects.js";
import { idlePeriods } from "./idle-backoff.js";
import {
  onAcks,
  onCertify,
  onCollected,
  onDrain,
  onGc,
  onNodesAnswered,
  onPageRequest,
  onResend,
  onSent,
} from "./origin.js";
import { onAntiEntropy, onHandled, onPulled, seenIn } from "./receiver.js";
import { periodsOf } from "./settings.js";
import type { DeliveryState, OwnLog } from "./state.js";
import type { Task } from "./timers.js";

export type { DeliveryConfig } from "./context.js";

export class DeliveryCore {
  private readonly mem: Volatile = freshVolatile();

  constructor(
    readonly config: DeliveryConfig,
    readonly state: DeliveryState,
    private readonly log: OwnLog,
  ) {}

  /** One input; writes the state (run it inside `state.transaction`) and returns the host's I/O. */
  step(input: DeliveryInput): DeliveryEffects {
    const cx: Ctx = { config: this.config, state: this.state, log: this.log, mem: this.mem, fx: noEffects() };
    switch (input.kind) {
      case "written":
        onWritten(cx, input.nowMs);
        break;
      case "received":
        onWake(cx, input.nowMs);
        break;
      case "contact":
        onContact(cx, input.nowMs);
        break;
      case "gap":
        onGap(cx, input.nowMs);
        break;
      case "alarm":
        onAlarm(cx, input.nowMs);
        break;
      case "task":
        this.task(cx, input.task, input.nowMs);
        break;
      case "sent":
        onSent(cx, input.send);
        break;
      case "nodesAnswered":
        onNodesAnswered(cx, input);
        break;
      case "collected":
        onCollected(cx, input.count, input.budget);
        break;
      case "pulled":
        onPulled(cx, input.pull, input.answer);
        break;
      case "work":
        work(cx);
        break;
      case "acks":
        onAcks(cx, input.acks);
        break;
      case "pageRequest":
        onPageRequest(cx, input.requester, input.after, input.limit);
        break;
      case "handled":
        onHandled(cx, input.origin, input.positions);
        break;
      case "alarmDone":
        onAlarmDone(cx, input.nowMs, input.more, input.failed);
        break;
    }
    return cx.fx;
  }

  private task(cx: Ctx, t: Task, nowMs: number): void {
    switch (t) {
      case "drain":
        return onDrain(cx);
      case "resend":
        return onResend(cx);
      case "antiEntropy":
        return onAntiEntropy(cx, nowMs);
      case "gc":
        return onGc(cx, nowMs);
      case "certify":
        return onCertify(cx, nowMs);
      case "certifiedSync":
        cx.fx.certifiedSync = this.config.certify;
        return;
    }
  }

  /** Whether a position of `origin` was handled here already, as of now (a read, not a step). */
  seenIn(origin: string): (pos: number | undefined) => boolean {
    return seenIn(this.state, origin);
  }

  /** Own ops written but not drained yet. */
  unsent(): boolean {
    return this.log.head() > this.state.mark("sent_pos");
  }

  /** The certify task's pace and counts, and how many own ops wait uncertified. */
  certifyStatus(): CertifyStats {
    const { pace, counts } = this.mem;
    return { ...counts, limit: pace.limit, backoffMs: pace.backoffMs, waiting: this.log.uncertifiedCount() };
  }

  alarmStatus(): AlarmStats {
    const level = idleLevel(this);
    const periods = idlePeriods(periodsOf(this.config.knobs), level, capOf(this.config));
    return { ...this.mem.runs, idleLevel: level, antiEntropyMs: periods.antiEntropy };
  }
}
