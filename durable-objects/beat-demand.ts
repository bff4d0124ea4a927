/**
 * Heartbeat on demand at an EdgeReplica (decisions: shared/beat-demand.ts): before a read is
 * answered, if the newest certificate is old, ask every PBFT node for a beat (fire and forget, each
 * call with its deadline) and wait briefly for a newer certificate to be applied here (it comes
 * the usual way, through the certificates queue, or catch-up). Readers arriving meanwhile share the
 * one request and the one wait.
 */
import { beatDecision, BEAT_DEMAND, type BeatDemandState } from "../shared/beat-demand.js";
import { PBFT_NODES } from "../shared/cluster-config.js";
import { PEER_DEADLINE_MS, withDeadline } from "../shared/deadline.js";
import type { Env } from "../platform/env.js";
import { nodesOf } from "../platform/pbft-node-stub.js";
import type { BeatStats } from "../shared/rpc/replica-stats.js";

/** How often a waiting reader looks for the newer certificate (ms). */
const POLL_MS = 50;

export class BeatDemand {
  readonly stats: BeatStats = { asked: 0, waited: 0, unanswered: 0 };
  private readonly st: BeatDemandState = { askedAt: null, noWaitUntil: 0 };
  private waiting: Promise<void> | undefined;

  constructor(
    private readonly env: Env,
    private readonly ctx: DurableObjectState,
  ) {}

  /** Before answering a read: `certTime` reads the newest certificate's `body.time` (null: none). */
  async freshen(certTime: () => number | null): Promise<void> {
    if (this.env.CERTIFY === "off") return;
    const now = Date.now();
    const held = certTime();
    const d = beatDecision(now, held, this.st);
    if (d.ask) this.ask(now);
    if (!d.wait) return;
    this.waiting ??= this.waitNewer(held!, certTime).finally(() => (this.waiting = undefined));
    await this.waiting;
  }

  private ask(now: number): void {
    this.st.askedAt = now;
    this.stats.asked++;
    for (const n of PBFT_NODES) {
      const call = withDeadline(
        nodesOf(this.env).beat(n.id),
        PEER_DEADLINE_MS.nodeHead,
        `beat at ${n.id}`,
      ).catch((e: unknown) => console.log({ event: "beat_request_failed", node: n.id, error: String(e) }));
      this.ctx.waitUntil(call);
    }
  }

  private async waitNewer(held: number, certTime: () => number | null): Promise<void> {
    this.stats.waited++;
    const until = Date.now() + BEAT_DEMAND.waitMaxMs;
    while (Date.now() < until) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      if ((certTime() ?? 0) > held) return;
    }
    this.stats.unanswered++;
    this.st.noWaitUntil = Date.now() + BEAT_DEMAND.coolDownMs;
    console.log({ event: "beat_wait_unanswered", waitedMs: BEAT_DEMAND.waitMaxMs });
  }
}
