/**
 * A PBFT node's links to its peers: one RPC per destination per step (`deliver`, with its
 * deadline), never awaited by the step — the protocol repairs a loss. In dev a fault may delay the
 * sends (`sendDelayMs`): a timer per send, and each link stays FIFO like the connection it stands
 * for (a send leaves no earlier than the previous one).
 */
import { PBFT_NODES } from "../shared/cluster-config.js";
import { PEER_DEADLINE_MS, withDeadline } from "../shared/deadline.js";
import type { Envelope } from "../shared/pbft/messages.js";
import type { NodeBoundary } from "../platform/node-boundary.js";
import { nodeObject } from "../platform/node-object.js";
import type { PbftEnv } from "../platform/pbft-env.js";

export class NodeLinks {
  private readonly freeAt: number[] = [];

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: PbftEnv,
    private readonly out: () => NodeBoundary,
  ) {}

  send(to: number, envelopes: readonly Envelope[]): void {
    const target = PBFT_NODES[to];
    if (!target) return;
    const texts = envelopes.map((e) => JSON.stringify(e));
    const deliver = () =>
      withDeadline(
        nodeObject(this.env.PBFT_NODE, target).deliver(target.id, texts),
        PEER_DEADLINE_MS.nodeSubmit,
        `deliver to ${target.id}`,
      ).catch((e: unknown) => console.log({ event: "pbft_send_failed", to: target.id, error: String(e) }));
    const delayMs = this.out().sendDelayMs();
    if (delayMs <= 0) return this.ctx.waitUntil(deliver());
    const at = Math.max(Date.now() + delayMs, this.freeAt[to] ?? 0);
    this.freeAt[to] = at;
    this.ctx.waitUntil(new Promise((r) => setTimeout(r, at - Date.now())).then(deliver));
  }
}
