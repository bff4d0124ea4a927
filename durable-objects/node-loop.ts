/**
 * A PBFT node's loop: one alarm (durable-objects/one-alarm.ts) at the earlier of the core's next
 * wake-up and the next fallback post. The alarm ticks the core, hands the due fallback posts to the
 * network without waiting for them (each has its own deadline), and re-arms in `finally`, whatever
 * threw: a tick never waits on I/O, and a throw never leaves re-arming to the platform's retry
 * backoff. A node with nothing pending sets no alarm; one that slept ticks before it steps what
 * woke it.
 */
import type { NodeStatus } from "../shared/rpc/nodes.js";
import type { CertificatePosts } from "./certificate-posts.js";
import type { RunningNode } from "./node-boot.js";
import { NODE_CONFIG } from "./node-config.js";
import { OneAlarm } from "./one-alarm.js";

/** What the node's status says of its alarm runs (shared/rpc/nodes.ts). */
export type LoopCounts = Pick<NodeStatus, "alarms" | "alarmFailures" | "lastAlarmAt">;

export class NodeLoop {
  private readonly alarm: OneAlarm;
  private readonly counts: LoopCounts = { alarms: 0, alarmFailures: 0, lastAlarmAt: null };

  constructor(
    storage: DurableObjectStorage,
    private readonly posts: () => CertificatePosts,
  ) {
    this.alarm = new OneAlarm(storage);
  }

  /** The alarm handler's body, for the node `started` (undefined: never started, nothing to tick). */
  async ring(id: string | undefined, started: (id: string) => Promise<RunningNode>): Promise<void> {
    if (id === undefined) return;
    let wakeAtMs: number | null = Date.now() + (NODE_CONFIG.tickMs ?? 50);
    this.counts.alarms++;
    this.counts.lastAlarmAt = Date.now();
    try {
      const node = await started(id);
      wakeAtMs = (await node.driver.step({ kind: "tick", nowMs: Date.now() })).wakeAtMs;
      this.posts().postDue(node.id);
    } catch (e) {
      this.counts.alarmFailures++;
      console.error({ event: "pbft_alarm_failed", node: id, error: String(e) });
    } finally {
      await this.wakeAt(wakeAtMs, true);
    }
  }

  /**
   * Before a node steps what woke it: if it slept (no alarm, its tick count stopped), a tick first,
   * so the timers that input starts count from now (a view-change deadline set from an old tick
   * would expire at once).
   */
  async tickIfAsleep(node: RunningNode): Promise<void> {
    const s = node.driver.replica.state;
    if (s.started && (s.tick + 2) * s.cfg.tickMs > Date.now()) return;
    const { wakeAtMs } = await node.driver.step({ kind: "tick", nowMs: Date.now() });
    await this.wakeAt(wakeAtMs);
  }

  /** One alarm: at the earlier of the core's next wake-up and the next fallback post. */
  async wakeAt(coreMs: number | null, fired = false): Promise<void> {
    if (fired) this.alarm.fired();
    const fallback = this.posts().nextDueAt();
    await this.alarm.want(
      coreMs === null ? fallback : fallback === null ? coreMs : Math.min(coreMs, fallback),
    );
  }

  stats(): LoopCounts {
    return { ...this.counts };
  }
}
