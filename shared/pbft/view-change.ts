/**
 * View change (Castro & Liskov, signatures variant). A VIEW-CHANGE carries the sender's stable
 * checkpoint proof and its prepared certificates; a NEW-VIEW carries 2f+1 VIEW-CHANGEs, from which
 * every node derives the same re-proposals (the new primary cannot choose them): for each seq
 * between the highest stable checkpoint and the highest prepared seq, the proposal of the
 * highest-view prepared certificate, else a null proposal. So nothing committed anywhere is lost
 * or reordered across views.
 */
import { primaryOf, quorum } from "./config.js";
import {
  assert,
  broadcast,
  drop,
  forward,
  inWindow,
  markDirty,
  META_KEY,
  resetSlotView,
  slotFor,
  slotKey,
  type Ctx,
} from "./context.js";
import { nullProposal, proposalDigest } from "./digest.js";
import { learnCheckpointProof } from "./checkpoint.js";
import type { CheckpointProof, Envelope, NewView, PreparedCert, Proposal, ViewChange } from "./messages.js";
import { acceptProposal, tryCommitted } from "./normal-case.js";
import type { ReplicaState } from "./state.js";
import { count } from "./stats.js";

/** Move to `view`: in its normal case (`normal`) or still changing views; restarts the view's clocks. */
function enterView(s: Ctx["s"], view: number, normal: boolean): void {
  s.view = view;
  s.normal = normal;
  s.viewStartTick = s.tick;
  s.requestRelayTick = -Infinity; // a new view, a new request timer
  s.viewChangeDeadlineTick = null;
  s.executedInView = false;
  markDirty(s, META_KEY);
}

/**
 * Leave the current view for `view`: stop the normal case, announce VIEW-CHANGE. The one backoff
 * rule: leaving a view that a view change brought (any but the first) without executing anything
 * in it doubles the timeouts (NEW-VIEW wait and request timer, `timers.ts`); progress resets them
 * (`execute.ts`). So a view change that did not help is tried again more patiently.
 */
export function startViewChange(ctx: Ctx, view: number): void {
  const s = ctx.s;
  assert(view > s.view || (view === s.view && s.normal), "view change to an older view");
  if (s.view > 0 && !s.executedInView)
    s.viewChangeTimeoutTicks = Math.min(2 * s.viewChangeTimeoutTicks, s.cfg.viewChangeTimeoutTicksMax);
  enterView(s, view, false);
  announceViewChange(ctx);
  count(s.stats, "view_change.started");
}

/** VIEW-CHANGE for the view we are changing to: our stable checkpoint and prepared certificates. */
export function announceViewChange(ctx: Ctx): void {
  const s = ctx.s;
  const prepared: PreparedCert[] = [];
  for (const slot of [...s.slots.values()].sort((a, b) => a.seq - b.seq))
    if (slot.seq > s.stable.seq && slot.preparedCert) prepared.push(slot.preparedCert);
  broadcast(ctx, { type: "view-change", view: s.view, checkpoint: s.stable, prepared });
}

export function validCheckpointProof(s: ReplicaState, cp: CheckpointProof): boolean {
  if (cp.seq === 0) return cp.digest === s.genesisDigest && cp.proof.length === 0;
  if (cp.seq % s.cfg.checkpointIntervalSeqs !== 0) return false;
  const from = new Set<number>();
  for (const e of cp.proof) {
    if (e.msg.seq !== cp.seq || e.msg.digest !== cp.digest || from.has(e.from)) return false;
    from.add(e.from);
  }
  return from.size >= quorum(s.f);
}

function validPreparedCert(s: ReplicaState, c: PreparedCert, cp: CheckpointProof, view: number): boolean {
  if (c.seq <= cp.seq || c.seq > cp.seq + s.cfg.logWindowSeqs || c.view >= view || c.proposal.view > c.view)
    return false;
  const from = new Set<number>();
  for (const e of c.prepares) {
    const m = e.msg;
    if (m.view !== c.view || m.seq !== c.seq || m.digest !== c.digest || from.has(e.from)) return false;
    from.add(e.from);
  }
  return from.size >= quorum(s.f) && proposalDigest(c.proposal) === c.digest;
}

/** Every claim in a VIEW-CHANGE checked (its signatures were checked by the boundary). */
export function validViewChange(s: ReplicaState, m: ViewChange): boolean {
  if (m.view < 1 || !validCheckpointProof(s, m.checkpoint)) return false;
  const seqs = new Set<number>();
  for (const c of m.prepared) {
    if (seqs.has(c.seq) || !validPreparedCert(s, c, m.checkpoint, m.view)) return false;
    seqs.add(c.seq);
  }
  return true;
}

export function onViewChange(ctx: Ctx, env: Envelope<ViewChange>): void {
  const s = ctx.s;
  const m = env.msg;
  if (m.view < s.view || (m.view === s.view && s.normal)) {
    // The sender is behind: the NEW-VIEW that installed our view lets it catch up.
    if (s.normal && s.newView && env.from !== s.me) forward(ctx, env.from, s.newView);
    return drop(ctx, "stale_view_change");
  }
  const prev = s.viewChanges.get(env.from);
  if (prev && prev.msg.view >= m.view) return drop(ctx, "duplicate");
  if (!validViewChange(s, m)) return drop(ctx, "bad_view_change");
  s.viewChanges.set(env.from, env);
  learnCheckpointProof(ctx, m.checkpoint.proof);

  // f+1 nodes want a higher view: at least one correct node does, so join the smallest such view.
  const higher = [...s.viewChanges.values()].filter((e) => e.msg.view > s.view && e.from !== s.me);
  if (higher.length >= s.f + 1) startViewChange(ctx, Math.min(...higher.map((e) => e.msg.view)));
  if (!s.normal) onViewChangeQuorum(ctx);
}

function viewChangesFor(s: ReplicaState, view: number): Envelope<ViewChange>[] {
  return [...s.viewChanges.values()].filter((e) => e.msg.view === view).sort((a, b) => a.from - b.from);
}

/** With 2f+1 VIEW-CHANGEs for our target: start waiting for NEW-VIEW; the new primary sends it. */
function onViewChangeQuorum(ctx: Ctx): void {
  const s = ctx.s;
  // The timer counts VIEW-CHANGEs for this view or later ones (a node that moved on gave up on this
  // one too); otherwise nodes that restarted mid view change could wait forever for a quorum that left.
  let atLeast = 0;
  for (const e of s.viewChanges.values()) if (e.msg.view >= s.view) atLeast++;
  if (atLeast >= quorum(s.f) && s.viewChangeDeadlineTick === null)
    s.viewChangeDeadlineTick = s.tick + s.viewChangeTimeoutTicks;
  const vcs = viewChangesFor(s, s.view);
  if (vcs.length < quorum(s.f)) return;
  if (primaryOf(s.view, s.n) === s.me && vcs.some((e) => e.from === s.me)) {
    const nv: NewView = { type: "new-view", view: s.view, viewChanges: vcs.slice(0, quorum(s.f)) };
    broadcast(ctx, nv);
  }
}

/** No NEW-VIEW in time: try the next view (waiting twice as long: the view left made no progress). */
export function onViewChangeTimeout(ctx: Ctx): void {
  const s = ctx.s;
  count(s.stats, "view_change.timeout");
  startViewChange(ctx, s.view + 1);
}

export interface Reproposals {
  checkpoint: CheckpointProof;
  entries: { seq: number; digest: string; proposal: Proposal }[];
}

/** The re-proposals a NEW-VIEW implies. Deterministic in the set of VIEW-CHANGEs. */
export function computeReproposals(view: number, vcs: readonly ViewChange[]): Reproposals {
  let checkpoint = vcs[0]!.checkpoint;
  for (const vc of vcs) if (vc.checkpoint.seq > checkpoint.seq) checkpoint = vc.checkpoint;
  const best = new Map<number, PreparedCert>();
  for (const vc of vcs)
    for (const c of vc.prepared) {
      if (c.seq <= checkpoint.seq) continue;
      const b = best.get(c.seq);
      if (!b || c.view > b.view || (c.view === b.view && c.digest < b.digest)) best.set(c.seq, c);
    }
  const maxSeq = Math.max(checkpoint.seq, ...best.keys());
  const entries: Reproposals["entries"] = [];
  for (let seq = checkpoint.seq + 1; seq <= maxSeq; seq++) {
    const c = best.get(seq);
    const proposal = c ? c.proposal : nullProposal(view);
    entries.push({ seq, digest: c ? c.digest : proposalDigest(proposal), proposal });
  }
  return { checkpoint, entries };
}

export function onNewView(ctx: Ctx, env: Envelope<NewView>): void {
  const s = ctx.s;
  const m = env.msg;
  if (env.from !== primaryOf(m.view, s.n)) return drop(ctx, "new_view_not_from_primary");
  if (m.view < s.view || (m.view === s.view && s.normal)) return drop(ctx, "stale_new_view");
  const from = new Set<number>();
  for (const e of m.viewChanges) {
    if (e.msg.view !== m.view || from.has(e.from) || !validViewChange(s, e.msg))
      return drop(ctx, "bad_new_view");
    from.add(e.from);
  }
  if (from.size < quorum(s.f)) return drop(ctx, "bad_new_view");
  const r = computeReproposals(
    m.view,
    m.viewChanges.map((e) => e.msg),
  );
  // A commit proof is a fact; a NEW-VIEW that contradicts one is refused, whoever is wrong: an
  // equivocating primary (two NEW-VIEWs for one view) or a stale NEW-VIEW overtaken by a later
  // view's commit. The node stays where it is; the peers' own NEW-VIEW (sent in answer to its
  // STATUS) or the next view change lets it move on.
  if (conflictsWithCommits(s, m.view, r)) return drop(ctx, "new_view_conflicts_commit");
  installView(ctx, env, r);
}

/**
 * True if installing the re-proposals `r` for `view` would re-propose another digest at a seq this
 * node holds a commit proof for, or would leave out a seq committed in an older view.
 */
function conflictsWithCommits(s: ReplicaState, view: number, r: Reproposals): boolean {
  const maxSeq = r.entries.length ? r.entries[r.entries.length - 1]!.seq : r.checkpoint.seq;
  for (const slot of s.slots.values()) {
    const proof = slot.commitProof;
    if (!proof || slot.seq <= r.checkpoint.seq) continue;
    if (slot.seq > maxSeq) {
      // Committed in an older view means prepared at f+1 correct nodes, so some VIEW-CHANGE should
      // carry it. (A commit proof from this view or a later one is a proposal made after it.)
      if (proof[0]!.msg.view < view) return true;
      continue;
    }
    const entry = r.entries[slot.seq - r.checkpoint.seq - 1]!;
    if (entry.digest !== proof[0]!.msg.digest) return true;
  }
  return false;
}

function installView(ctx: Ctx, env: Envelope<NewView>, r: Reproposals): void {
  const s = ctx.s;
  const view = env.msg.view;
  s.newView = env;
  enterView(s, view, true);
  count(s.stats, "view_change.installed");
  learnCheckpointProof(ctx, r.checkpoint.proof);

  const maxSeq = r.entries.length ? r.entries[r.entries.length - 1]!.seq : r.checkpoint.seq;
  // Old-view proposals not re-proposed are void; their prepared certificates stay for later view changes.
  for (const slot of s.slots.values())
    if (slot.view < view) {
      resetSlotView(s, slot, view);
      markDirty(s, slotKey(slot.seq));
    }
  s.inFlight = new Set();
  for (const { seq, digest, proposal } of r.entries) {
    if (!inWindow(s, seq)) {
      count(s.stats, "new_view_out_of_window");
      continue;
    }
    const slot = slotFor(s, seq);
    if (slot.digest === null) acceptProposal(ctx, slot, digest, proposal);
    tryCommitted(ctx, slot);
  }
  s.unproposed = new Set();
  for (const id of s.pool.keys()) if (!s.inFlight.has(id)) s.unproposed.add(id);
  s.nextSeq = Math.max(r.checkpoint.seq, maxSeq, s.stable.seq, s.lastExecuted) + 1;
  ctx.proposePartial = true;
}
