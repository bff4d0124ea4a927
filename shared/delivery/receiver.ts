/**
 * The delivery core's receiving side: the per-origin cursor (origin-cursor.ts) moved by positions
 * handled, and anti-entropy — ask each peer for its own ops after this replica's cursor for it, in
 * bounded pages, and note when this replica last caught up with a peer's whole log. Pure: the host
 * makes each pull, parses and applies the page, and hands back what came of it.
 */
import { event, isPeer, work, type Ctx } from "./context.js";
import type { Pull, PullAnswer } from "./effects.js";
import { handle, isHandled } from "./origin-cursor.js";
import { ANTI_ENTROPY_PAGE_MAX, ANTI_ENTROPY_PAGES_MAX } from "./settings.js";
import type { DeliveryState } from "./state.js";

/** Whether a position of `origin` was handled here already (a re-sent or pulled copy), as of now. */
export function seenIn(state: DeliveryState, origin: string): (pos: number | undefined) => boolean {
  const c = state.cursor(origin);
  return (pos) => pos !== undefined && isHandled(c, pos);
}

/** Positions of `origin` handled (inside the apply transaction): the cursor after them. */
export function onHandled(cx: Ctx, origin: string, positions: readonly number[]): void {
  const c = cx.state.cursor(origin);
  if (!isPeer(cx.config, origin)) {
    cx.fx.cursor = c.cursor;
    return;
  }
  const next = handle(c, positions);
  if (next.cursor !== c.cursor || positions.length > 0)
    cx.state.putCursor(origin, { ...next, syncedAt: c.syncedAt });
  cx.fx.cursor = next.cursor;
}

/** The anti-entropy task: one pull per peer, from this replica's cursor for it. */
export function onAntiEntropy(cx: Ctx, nowMs: number): void {
  for (const peer of cx.config.peers)
    cx.fx.pulls.push({
      peer,
      after: cx.state.cursor(peer).cursor,
      limit: ANTI_ENTROPY_PAGE_MAX,
      page: 0,
      startedMs: nowMs,
    });
}

/**
 * A pull's answer: a peer whose head is past the cursor had work for us; the whole log caught up
 * notes `syncedAt` (what log collection waits for); a page that moved the cursor asks for the next,
 * up to `ANTI_ENTROPY_PAGES_MAX` pages a run (then `more`: the task is due again at once).
 */
export function onPulled(cx: Ctx, pull: Pull, a: PullAnswer): void {
  const { peer } = pull;
  if (!a.ok) {
    event(cx, "anti_entropy_malformed", { peer, reason: a.reason });
    return;
  }
  if (a.head > pull.after) work(cx);
  // entries served went through the apply path, which moved the cursor
  const after = a.served > 0 ? cx.state.cursor(peer).cursor : pull.after;
  // ops the queue had not brought: what anti-entropy repaired
  if (a.applied > 0) event(cx, "anti_entropy_applied", { origin: peer, applied: a.applied });
  if (after >= a.head) {
    const c = cx.state.cursor(peer);
    cx.state.putCursor(peer, { ...c, syncedAt: Math.max(c.syncedAt, pull.startedMs) });
    return;
  }
  if (after === pull.after && a.served === 0) return; // nothing served (hostile or collected)
  if (pull.page + 1 >= ANTI_ENTROPY_PAGES_MAX) {
    cx.fx.more = true;
    return;
  }
  cx.fx.pulls.push({ ...pull, after: cx.state.cursor(peer).cursor, page: pull.page + 1 });
}
