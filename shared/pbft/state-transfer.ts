/**
 * Catching up. Every node broadcasts STATUS now and then; a peer that is ahead answers with what
 * the sender lacks: the NEW-VIEW of a later view, STATE (a stable checkpoint's proof and header)
 * when the sender is behind the peer's log, COMMITTED batches after that, its own votes for slots
 * still in progress, checkpoint votes, shares and certificates. Everything sent is verifiable by
 * itself, so the receiver checks before adopting and no answer needs trust.
 *
 * A checkpoint's state is fetched in chunks (STATE-FETCH → STATE-CHUNK, one subtree of the state
 * tree each: its two child hashes, or all its records), each checked against the hash its parent
 * committed to before it is kept; subtrees whose hash this node already has are not fetched, so a
 * transfer costs what changed since this node's state, not the whole state. Progress is persisted
 * (resumes after a restart) and adopted in one step when complete. A peer that sends a bad chunk
 * or nothing is left for the next one: it can only slow the transfer down.
 */
import {
  assert,
  ckptKey,
  drop,
  forward,
  HEAD_KEY,
  isPrimary,
  markDirty,
  others,
  poolKey,
  sendTo,
  slotKey,
  STABLE_KEY,
  XFER_KEY,
  xpathKey,
  type Ctx,
} from "./context.js";
import { checkpointDigest, type CheckpointHeader } from "./digest.js";
import { noteSkipped } from "./endorse.js";
import { advanceUncertifiedFrom } from "./execute.js";
import type { CheckpointProof, Envelope, StateChunkMsg, StateFetch, StateMsg, Status } from "./messages.js";
import type { ReplicaState, Transfer } from "./state.js";
import { count } from "./stats.js";
import { validCheckpointProof } from "./view-change.js";
import { toHex } from "../bytes.js";
import { EMPTY_HASH } from "../certified/hashing.js";
import type { Digest } from "../certified/types.js";

const EMPTY_DIGEST: Digest = toHex(EMPTY_HASH);

export function sendStatus(ctx: Ctx): void {
  const s = ctx.s;
  s.lastStatusTick = s.tick;
  sendTo(ctx, others(s), {
    type: "status",
    view: s.view,
    normal: s.normal,
    lastExecuted: s.lastExecuted,
    stableSeq: s.stable.seq,
    uncertifiedFrom: s.uncertifiedFrom,
  });
}

export function onStatus(ctx: Ctx, env: Envelope<Status>): void {
  const s = ctx.s;
  const p = env.from;
  const st = env.msg;
  if (p === s.me) return;
  s.peerUncertifiedFrom.set(p, st.uncertifiedFrom);
  forgetResent(s, p, st);
  const stall = noteProgress(s, p, st);
  clusterAhead(s);
  const budget = { left: s.cfg.retransmitSlotsMax };
  const due = (key: string, seq: number, stalledSince: number, since: number | null) =>
    resendDue(s, p, key, seq, stalledSince, since);

  // Views: a peer in an older view (or still changing into ours) gets our NEW-VIEW; peers changing
  // view with us get our VIEW-CHANGE again.
  if (s.normal && s.newView && (st.view < s.view || (st.view === s.view && !st.normal)))
    forward(ctx, p, s.newView);
  if (!s.normal && st.view <= s.view) {
    const mine = s.viewChanges.get(s.me);
    if (mine && mine.msg.view === s.view) forward(ctx, p, mine);
  }

  // Behind our stable checkpoint: the log it needs is gone here, send the state.
  if (st.lastExecuted < s.stable.seq && s.tick - stall.exec >= s.cfg.retransmitAfterTicks) offerState(ctx, p);
  // Its stable checkpoint is older than ours: our proof lets it collect its log.
  if (st.stableSeq < s.stable.seq && due(`p:${s.stable.seq}`, s.stable.seq, stall.stable, null))
    for (const e of s.stable.proof) forward(ctx, p, e);
  for (const [seq, c] of s.checkpoints) {
    const mine = c.votes.get(s.me);
    if (seq > st.stableSeq && mine && due(`k:${seq}`, seq, stall.stable, null)) forward(ctx, p, mine);
  }

  // Committed batches it has not executed.
  for (
    let seq = Math.max(st.lastExecuted, s.stable.seq) + 1;
    seq <= s.lastExecuted && budget.left > 0;
    seq++
  ) {
    const slot = s.slots.get(seq);
    if (!slot?.commitProof || !slot.committedProposal || !due(`c:${seq}`, seq, stall.exec, slot.sinceTick))
      continue;
    budget.left--;
    sendTo(ctx, [p], { type: "committed", seq, commits: slot.commitProof }, slot.committedProposal);
  }

  // Slots in progress in a view we share: our own votes again (messages get lost).
  if (st.view === s.view && st.normal && s.normal) {
    for (const slot of s.slots.values()) {
      if (budget.left <= 0) break;
      if (
        slot.seq <= Math.max(st.lastExecuted, s.lastExecuted) ||
        slot.view !== s.view ||
        !due(`v:${slot.view}:${slot.seq}`, slot.seq, stall.exec, slot.sinceTick)
      )
        continue;
      budget.left--;
      if (slot.prePrepare && isPrimary(s)) forward(ctx, p, slot.prePrepare);
      const prep = slot.prepares.get(s.me);
      if (prep) forward(ctx, p, prep);
      const com = slot.commits.get(s.me);
      if (com) forward(ctx, p, com);
    }
  }

  // Certificates it lacks, or our share towards one.
  const until = Math.min(st.lastExecuted, s.lastExecuted, st.uncertifiedFrom + s.cfg.retransmitSlotsMax - 1);
  for (let seq = st.uncertifiedFrom; seq <= until; seq++) {
    const cert = s.certificates.get(seq);
    if (cert) {
      if (due(`x:${seq}`, seq, stall.cert, null))
        sendTo(ctx, [p], { type: "certificate", certificate: cert });
      continue;
    }
    const rec = s.uncertified.get(seq) ?? s.skipped.get(seq);
    if (rec?.share && due(`x:${seq}`, seq, stall.cert, rec.sinceTick)) forward(ctx, p, rec.share);
  }
}

/**
 * Re-send something (`key`: its kind and seq) to peer `p`, whose STATUS shows it lacks it? Only on
 * evidence of loss, with backoff. Evidence: the peer's progress that this thing would advance has
 * not moved for `retransmitAfterTicks` (`stalledSince`: since when its STATUSes report the same
 * value), and what we sent is at least that old (`since`, when this node sent it, if known). A peer
 * that is merely slow (busy, its inputs queued) keeps moving and gets nothing twice. Each further
 * re-send of the same thing to the same peer waits twice as long (`retransmitBackoffMax` doublings
 * at most).
 */
function resendDue(
  s: ReplicaState,
  p: number,
  key: string,
  seq: number,
  stalledSince: number,
  since: number | null,
): boolean {
  const r = s.cfg.retransmitAfterTicks;
  if (s.tick - stalledSince < r || (since !== null && s.tick - since < r)) return false;
  let byKey = s.resent.get(p);
  if (!byKey) s.resent.set(p, (byKey = new Map()));
  const prev = byKey.get(key);
  if (prev && s.tick - prev.at < r * 2 ** Math.min(prev.n, s.cfg.retransmitBackoffMax)) return false;
  byKey.delete(key); // (re)inserted last: the oldest records go first when the map is full
  byKey.set(key, { at: s.tick, n: prev ? prev.n + 1 : 1, seq });
  while (byKey.size > RESENT_PER_PEER_MAX) byKey.delete(byKey.keys().next().value as string);
  count(s.stats, "retransmit");
  return true;
}

/**
 * f+1 peers report executing past this node (so a correct one did): the cluster makes progress and
 * this node is behind (slow, or catching up), which is no reason to suspect the primary; its request
 * timer starts over (`timers.ts`). It catches up from their answers to its STATUS.
 */
function clusterAhead(s: ReplicaState): void {
  let ahead = 0;
  for (const pr of s.peerProgress.values()) if (pr.lastExecuted > s.lastExecuted) ahead++;
  if (ahead > s.f) s.lastProgressTick = s.tick;
}

/**
 * Since when a peer's STATUS has reported the same executed seq, the same `uncertifiedFrom` and
 * the same stable checkpoint (each its own clock), counted from its first STATUS here.
 */
function noteProgress(
  s: ReplicaState,
  p: number,
  st: Status,
): { exec: number; cert: number; stable: number } {
  const prev = s.peerProgress.get(p);
  const at = (same: boolean, since: number | undefined) => (same && since !== undefined ? since : s.tick);
  const next = {
    lastExecuted: st.lastExecuted,
    uncertifiedFrom: st.uncertifiedFrom,
    stableSeq: st.stableSeq,
    exec: at(prev?.lastExecuted === st.lastExecuted, prev?.exec),
    cert: at(prev?.uncertifiedFrom === st.uncertifiedFrom, prev?.cert),
    stable: at(prev?.stableSeq === st.stableSeq, prev?.stable),
  };
  s.peerProgress.set(p, next);
  return next;
}

/** Records of re-sends a peer's STATUS shows it no longer lacks. */
function forgetResent(s: ReplicaState, p: number, st: Status): void {
  const byKey = s.resent.get(p);
  if (!byKey) return;
  for (const [key, rec] of byKey) {
    const kind = key[0];
    const has =
      kind === "x"
        ? rec.seq < st.uncertifiedFrom
        : kind === "k" || kind === "p"
          ? rec.seq <= st.stableSeq
          : rec.seq <= st.lastExecuted;
    if (has) byKey.delete(key);
  }
}

/** Re-send records kept per peer (each names one slot or checkpoint; the oldest go first). */
const RESENT_PER_PEER_MAX = 256;

/** Offer our stable checkpoint to a peer behind it (at most once per `stateTransferIntervalTicks`). */
function offerState(ctx: Ctx, p: number): void {
  const s = ctx.s;
  const last = s.lastStateSentTick.get(p) ?? -Infinity;
  if (s.tick - last < s.cfg.stateTransferIntervalTicks) return;
  s.lastStateSentTick.set(p, s.tick);
  sendTo(ctx, [p], { type: "state", checkpoint: s.stable, header: s.stableHeader });
  count(s.stats, "state_transfer.offered");
}

/** A stable checkpoint ahead of this node: check its proof and header, then start fetching its state. */
export function onState(ctx: Ctx, env: Envelope<StateMsg>): void {
  const s = ctx.s;
  const { checkpoint: cp, header } = env.msg;
  if (cp.seq <= s.lastExecuted) return drop(ctx, "stale_state");
  if (header.seq !== cp.seq || !validCheckpointProof(s, cp) || checkpointDigest(header) !== cp.digest)
    return drop(ctx, "bad_state");
  if (s.transfer && s.transfer.checkpoint.seq >= cp.seq) return drop(ctx, "state_in_progress");
  startTransfer(ctx, cp, header, env.from);
}

function startTransfer(ctx: Ctx, cp: CheckpointProof, header: CheckpointHeader, source: number): void {
  const s = ctx.s;
  clearTransfer(ctx);
  const t: Transfer = {
    checkpoint: cp,
    header,
    pending: new Map(),
    reused: new Map(),
    fetched: new Map(),
    asked: new Map(),
    source,
    progressTick: s.tick,
  };
  s.transfer = t;
  want(ctx, t, "", header.stateRoot);
  markDirty(s, XFER_KEY);
  count(s.stats, "state_transfer.started");
  if (t.pending.size === 0) tryAdopt(ctx);
  else fetchMore(ctx);
}

/**
 * A subtree the checkpoint has: reuse ours if it has the same hash, else fetch it — or, where the
 * checkpoint has nothing and this node has keys, stage it empty (adopting then refuses: this
 * node's state is not a prefix of the checkpoint's).
 */
function want(ctx: Ctx, t: Transfer, path: string, hash: Digest): void {
  if (ctx.s.sm.hashAt(path) === hash) t.reused.set(path, hash);
  else if (hash === EMPTY_DIGEST) t.fetched.set(path, []);
  else t.pending.set(path, hash);
  markDirty(ctx.s, xpathKey(path));
}

function clearTransfer(ctx: Ctx): void {
  const s = ctx.s;
  if (!s.transfer) return;
  const t = s.transfer;
  for (const paths of [t.pending.keys(), t.reused.keys(), t.fetched.keys()])
    for (const path of paths) markDirty(s, xpathKey(path));
  s.transfer = null;
  markDirty(s, XFER_KEY);
}

/** Drop a transfer that execution overtook (this node got the batches after all). */
export function dropOvertakenTransfer(ctx: Ctx): void {
  const t = ctx.s.transfer;
  if (!t || ctx.s.lastExecuted < t.checkpoint.seq) return;
  count(ctx.s.stats, "state_transfer.overtaken");
  clearTransfer(ctx);
}

/** On each tick: give up on a silent source, ask for more. */
export function transferTick(ctx: Ctx): void {
  const s = ctx.s;
  const t = s.transfer;
  if (!t) return;
  if (s.tick - t.progressTick >= 2 * s.cfg.retransmitAfterTicks) nextSource(ctx, t);
  fetchMore(ctx);
}

function nextSource(ctx: Ctx, t: Transfer): void {
  const peers = others(ctx.s);
  t.source = peers[(peers.indexOf(t.source) + 1) % peers.length]!;
  t.progressTick = ctx.s.tick;
  t.asked.clear();
  count(ctx.s.stats, "state_transfer.source_changed");
}

/** Ask the source for pending subtrees not asked recently, up to `stateFetchPathsMax` in flight. */
function fetchMore(ctx: Ctx): void {
  const s = ctx.s;
  const t = s.transfer!;
  const recent = (q: string) => s.tick - (t.asked.get(q) ?? -Infinity) < s.cfg.retransmitAfterTicks;
  let inFlight = 0;
  for (const q of t.pending.keys()) if (recent(q)) inFlight++;
  const paths: [string, number][] = [];
  for (const q of t.pending.keys()) {
    if (inFlight + paths.length >= s.cfg.stateFetchPathsMax) break;
    if (recent(q)) continue;
    // Where this node has keys, it lacks only what changed: ask for small chunks (more splits).
    const has = s.sm.hashAt(q) !== EMPTY_DIGEST;
    paths.push([q, has ? s.cfg.stateChunkRecordsPatch : s.cfg.stateChunkRecordsMax]);
  }
  if (paths.length === 0) return;
  for (const [q] of paths) t.asked.set(q, s.tick);
  sendTo(ctx, [t.source], { type: "state-fetch", seq: t.checkpoint.seq, paths });
}

/** A peer fetching our stable checkpoint's state: one chunk per path (at most one request per peer per tick). */
export function onStateFetch(ctx: Ctx, env: Envelope<StateFetch>): void {
  const s = ctx.s;
  const p = env.from;
  if (p === s.me) return;
  if (env.msg.seq !== s.stable.seq) {
    // Collected here: offer the checkpoint we keep instead (the fetcher restarts on it).
    if (env.msg.seq < s.stable.seq) offerState(ctx, p);
    return drop(ctx, "fetch_not_stable");
  }
  if (s.lastFetchServedTick.get(p) === s.tick) return drop(ctx, "fetch_rate");
  s.lastFetchServedTick.set(p, s.tick);
  for (const [path, records] of env.msg.paths) {
    const limits = { records, bytes: s.cfg.stateChunkBytesMax };
    const chunk = s.sm.serveChunk(s.stableHandle, s.stable.seq, path, limits);
    sendTo(ctx, [p], { type: "state-chunk", seq: s.stable.seq, path, chunk });
    count(s.stats, "state_transfer.chunk_sent");
  }
}

/** A chunk of the checkpoint being fetched: checked against the hash expected at its path, then kept. */
export function onStateChunk(ctx: Ctx, env: Envelope<StateChunkMsg>): void {
  const s = ctx.s;
  const t = s.transfer;
  const { seq, path, chunk } = env.msg;
  if (!t || seq !== t.checkpoint.seq || s.lastExecuted >= seq) return drop(ctx, "chunk_unexpected");
  const expected = t.pending.get(path);
  if (expected === undefined) return drop(ctx, "chunk_not_pending");
  const check = s.sm.checkChunk(path, expected, chunk);
  if (!check.ok) {
    drop(ctx, `bad_chunk.${check.reason}`);
    if (env.from === t.source) nextSource(ctx, t);
    return;
  }
  t.pending.delete(path);
  t.asked.delete(path);
  t.progressTick = s.tick;
  if ("children" in check) for (const [q, h] of check.children) want(ctx, t, q, h);
  else {
    t.fetched.set(path, check.records);
    count(s.stats, "state_transfer.records_fetched", check.records.length);
  }
  markDirty(s, xpathKey(path));
  count(s.stats, "state_transfer.chunk_kept");
  if (t.pending.size === 0) tryAdopt(ctx);
}

/** Every subtree in: check the reused ones again (execution may have changed them), then adopt. */
function tryAdopt(ctx: Ctx): void {
  const s = ctx.s;
  const t = s.transfer!;
  for (const [q, h] of [...t.reused])
    if (s.sm.hashAt(q) !== h) {
      t.reused.delete(q);
      t.pending.set(q, h);
      markDirty(s, xpathKey(q));
    }
  if (t.pending.size > 0) return fetchMore(ctx);
  const cp = t.checkpoint;
  const root = s.sm.adopt([...t.fetched], cp.seq);
  if (root === null) {
    // This node holds a key the checkpoint lacks: its state is not a prefix of the certified log.
    count(s.stats, "state_transfer.diverged");
    return clearTransfer(ctx);
  }
  // Every chunk matched the hash its parent committed to, up to the checkpoint's root.
  assert(root === t.header.stateRoot, "adopted state has another root than its checked chunks");
  adopt(ctx, cp, t.header);
}

function adopt(ctx: Ctx, cp: CheckpointProof, header: CheckpointHeader): void {
  const s = ctx.s;
  const before = s.lastExecuted;
  clearTransfer(ctx);
  s.lastExecuted = cp.seq;
  s.logRoot = header.logRoot;
  s.opCount = header.opCount;
  s.lastTime = header.time;
  s.stable = cp;
  s.stableHeader = header;
  s.stableHandle = s.sm.handle();
  s.sm.collect(cp.seq);
  markDirty(s, STABLE_KEY);
  markDirty(s, HEAD_KEY);
  for (const q of s.slots.keys())
    if (q <= cp.seq) {
      s.slots.delete(q);
      markDirty(s, slotKey(q));
    }
  for (const q of s.checkpoints.keys())
    if (q <= cp.seq) {
      s.checkpoints.delete(q);
      markDirty(s, ckptKey(q));
    }
  for (const [id, e] of s.pool)
    if (s.sm.hasExecuted(e.op)) {
      s.pool.delete(id);
      s.inFlight.delete(id);
      s.unproposed.delete(id);
      markDirty(s, poolKey(id));
    }
  // The batches skipped here were never executed here, but this node still signs for them once
  // f+1 peers' shares agree (endorse.ts): without its share they may lack 2f+1 signers.
  noteSkipped(ctx, before, cp.seq);
  if (s.uncertifiedFrom > before) s.uncertifiedFrom = before + 1;
  advanceUncertifiedFrom(s);
  if (s.nextSeq <= cp.seq) s.nextSeq = cp.seq + 1;
  count(s.stats, "state_transfer.adopted");
  s.lastProgressTick = s.tick; // the request timer starts over: this node was behind, not the primary
}
