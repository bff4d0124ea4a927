/**
 * What a Byzantine node remembers: every envelope it ever received or sent (bounded only by the
 * length of the run), indexed for the attacks that need it: VIEW-CHANGEs by view (for NEW-VIEWs
 * of its own), and each client's highest op seq seen (to predict op ids not issued yet).
 */
import type { Envelope, ViewChange } from "../../shared/pbft/messages.js";
import type { SignedOp } from "../../shared/ops.js";

/** A hard stop far above what any run reaches: a run that gets here is itself broken. */
const SEEN_MAX = 2_000_000;

export class AdversaryMemory {
  readonly seen: Envelope[] = [];
  private readonly vcs = new Map<number, Map<string, Envelope<ViewChange>>>();
  readonly clientSeqMax = new Map<string, number>();

  remember(env: Envelope): void {
    if (this.seen.length >= SEEN_MAX) throw new Error("sim: adversary memory beyond any run's length");
    this.seen.push(env);
    const m = env.msg;
    if (m.type === "view-change") this.rememberViewChange(env as Envelope<ViewChange>);
    else if (m.type === "new-view") for (const vc of m.viewChanges) this.rememberViewChange(vc);
    else if (m.type === "ops") this.rememberOps(m.ops);
    if (env.proposal) this.rememberOps(env.proposal.ops);
  }

  /** Every distinct VIEW-CHANGE seen for `view`, any sender. */
  viewChangesFor(view: number): Envelope<ViewChange>[] {
    return [...(this.vcs.get(view)?.values() ?? [])];
  }

  /** Views some VIEW-CHANGE was seen for. */
  viewChangeViews(): number[] {
    return [...this.vcs.keys()];
  }

  private rememberViewChange(env: Envelope<ViewChange>): void {
    let byText = this.vcs.get(env.msg.view);
    if (!byText) this.vcs.set(env.msg.view, (byText = new Map()));
    const key = `${env.from}|${env.sig}`;
    if (!byText.has(key)) byText.set(key, env);
  }

  private rememberOps(ops: readonly SignedOp[]): void {
    for (const op of ops)
      if (op.seq > (this.clientSeqMax.get(op.client) ?? 0)) this.clientSeqMax.set(op.client, op.seq);
  }
}
