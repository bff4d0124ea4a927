/**
 * Execution strictly in sequence order, certificate shares, and combining 2f+1 matching shares
 * into a certificate.
 */
import {
  certificateOf,
  countByBody,
  sameCertificateBody,
  type NodeSignature,
} from "../certified/certificate.js";
import type { Certificate, CertificateBody } from "../certified/types.js";
import { opIdOf, type SignedOp } from "../ops.js";
import { batchDigest, nextLogRoot } from "./chain.js";
import { opsDigest } from "./digest.js";
import { takeCheckpoint } from "./checkpoint.js";
import { forgetSkipped, onSkippedShare } from "./endorse.js";
import { quorum } from "./config.js";
import {
  assert,
  broadcast,
  certKey,
  drop,
  execKey,
  HEAD_KEY,
  markDirty,
  poolKey,
  type Ctx,
} from "./context.js";
import type { CertificateMsg, Envelope, Share } from "./messages.js";
import type { ReplicaState } from "./state.js";
import { count } from "./stats.js";

/** Execute every committed slot that follows the last executed one. */
export function executeReady(ctx: Ctx): void {
  const s = ctx.s;
  for (;;) {
    const slot = s.slots.get(s.lastExecuted + 1);
    if (!slot?.commitProof || !slot.committedProposal) return;
    executeSlot(
      ctx,
      slot.seq,
      slot.committedProposal.ops,
      slot.committedProposal.time,
      slot.committedProposal.view,
    );
  }
}

function executeSlot(ctx: Ctx, seq: number, proposed: readonly SignedOp[], time: number, view: number): void {
  const s = ctx.s;
  assert(seq === s.lastExecuted + 1, "execution out of order");
  // The state machine drops ops executed in earlier batches (any view, before any restart) and
  // repeats within the batch; its stores are written in this step's transaction.
  const exec = s.sm.execute(proposed, seq);
  const ops = exec.ops;
  markDirty(s, HEAD_KEY);
  s.logRoot = nextLogRoot(s.logRoot, ops.length === proposed.length ? opsDigest(proposed) : batchDigest(ops));
  s.opCount += ops.length;
  s.lastTime = Math.max(s.lastTime, time);
  s.lastExecuted = seq;
  let waitedFor = false;
  for (const op of proposed) {
    const id = opIdOf(op);
    s.inFlight.delete(id);
    s.unproposed.delete(id);
    if (s.pool.delete(id)) {
      markDirty(s, poolKey(id));
      waitedFor = true;
    }
  }
  // Progress on what this node waits for restarts its request timer (an empty batch is none: a
  // primary cannot hold the timer off with heartbeats while it leaves the pool unproposed).
  if (waitedFor) s.lastProgressTick = s.tick;
  if (!s.executedInView && s.normal && view === s.view) {
    s.executedInView = true;
    s.viewChangeTimeoutTicks = s.cfg.viewChangeTimeoutTicks; // progress: the backoff starts over
  }
  const body: CertificateBody = {
    cluster: s.clusterId,
    view,
    seq,
    logRoot: s.logRoot,
    stateRoot: exec.stateRoot,
    resultsRoot: exec.resultsRoot,
    opCount: s.opCount,
    time: s.lastTime,
  };
  const rec = { body, ops, results: exec.results };
  ctx.fx.executed.push(rec);
  s.uncertified.set(seq, { ...rec, share: null, sinceTick: s.tick });
  markDirty(s, execKey(seq));
  evictUncertified(ctx);
  count(s.stats, "batch.executed");
  broadcast(ctx, { type: "share", body });
  if (seq % s.cfg.checkpointIntervalSeqs === 0) takeCheckpoint(ctx);
  tryCertify(ctx, seq);
}

function evictUncertified(ctx: Ctx): void {
  const s = ctx.s;
  while (s.uncertified.size > s.cfg.uncertifiedMax) {
    const oldest = s.uncertified.keys().next().value as number;
    s.uncertified.delete(oldest);
    s.shares.delete(oldest);
    markDirty(s, execKey(oldest));
    count(s.stats, "uncertified_evicted");
  }
  advanceUncertifiedFrom(s);
}

/** Move `uncertifiedFrom` to the lowest seq still waiting for a certificate (executed or skipped). */
export function advanceUncertifiedFrom(s: ReplicaState): void {
  const waiting = (q: number) => s.uncertified.has(q) || s.skipped.has(q);
  while (s.uncertifiedFrom <= s.lastExecuted && !waiting(s.uncertifiedFrom)) {
    // Jump to the next waiting seq (a node that caught up may have a long gap before it).
    let next = s.lastExecuted + 1;
    for (const q of s.uncertified.keys()) if (q > s.uncertifiedFrom && q < next) next = q;
    for (const q of s.skipped.keys()) if (q > s.uncertifiedFrom && q < next) next = q;
    s.uncertifiedFrom = next;
  }
}

/** A certificate share (the boundary checked its signature over the body). */
export function onShare(ctx: Ctx, env: Envelope<Share>): void {
  const s = ctx.s;
  const seq = env.msg.body.seq;
  if (env.msg.body.cluster !== s.clusterId) return drop(ctx, "wrong_cluster");
  if (s.certificates.has(seq)) return drop(ctx, "share_already_certified");
  if (seq < s.uncertifiedFrom || seq > s.lastExecuted + s.cfg.logWindowSeqs)
    return drop(ctx, "share_out_of_window");
  const skipped = s.skipped.has(seq);
  if (seq <= s.lastExecuted && !s.uncertified.has(seq) && !skipped) return drop(ctx, "share_not_kept");
  let bySender = s.shares.get(seq);
  if (!bySender) s.shares.set(seq, (bySender = new Map()));
  if (bySender.has(env.from)) return drop(ctx, "duplicate");
  bySender.set(env.from, env);
  if (skipped) return onSkippedShare(ctx, env);
  if (env.from === s.me) {
    const rec = s.uncertified.get(seq);
    if (rec) {
      rec.share = env;
      markDirty(s, execKey(seq));
    }
  }
  tryCertify(ctx, seq);
}

function tryCertify(ctx: Ctx, seq: number): void {
  const s = ctx.s;
  const rec = s.uncertified.get(seq);
  const bySender = s.shares.get(seq);
  if (!rec || !bySender) return;
  const sigs: NodeSignature[] = [];
  let mismatched = 0;
  for (const e of bySender.values()) {
    if (sameCertificateBody(e.msg.body, rec.body)) sigs.push({ node: e.from, sig: e.sig });
    else mismatched++;
  }
  if (mismatched > 0) checkNotOutvoted(ctx, seq, rec.body);
  const certificate = certificateOf(rec.body, sigs, quorum(s.f));
  if (certificate) finishCertificate(ctx, seq, certificate);
}

/**
 * 2f+1 nodes signing a body other than ours means this node diverged (or more than f are faulty).
 * Peer input never crashes a node: counted loudly, and this node keeps signing only its own result.
 */
function checkNotOutvoted(ctx: Ctx, seq: number, mine: CertificateBody): void {
  const others: CertificateBody[] = [];
  for (const e of ctx.s.shares.get(seq)!.values())
    if (!sameCertificateBody(e.msg.body, mine)) others.push(e.msg.body);
  count(ctx.s.stats, "share_mismatch");
  for (const g of countByBody(others))
    if (g.n >= quorum(ctx.s.f)) count(ctx.s.stats, "share_quorum_disagrees");
}

/** Keep a certificate to answer peers that lack it (the newest `certificatesKeptMax`). */
function keepCertificate(s: ReplicaState, seq: number, certificate: Certificate): void {
  s.certificates.set(seq, certificate);
  markDirty(s, certKey(seq));
  while (s.certificates.size > s.cfg.certificatesKeptMax) {
    const oldest = s.certificates.keys().next().value as number;
    s.certificates.delete(oldest);
    markDirty(s, certKey(oldest));
  }
}

function finishCertificate(ctx: Ctx, seq: number, certificate: Certificate): void {
  const s = ctx.s;
  const rec = s.uncertified.get(seq)!;
  s.uncertified.delete(seq);
  s.shares.delete(seq);
  keepCertificate(s, seq, certificate);
  markDirty(s, execKey(seq));
  advanceUncertifiedFrom(s);
  ctx.fx.certificates.push({ body: rec.body, ops: rec.ops, results: rec.results, certificate });
  count(s.stats, "batch.certified");
}

/** A whole certificate from a peer (the boundary checked its 2f+1 signatures). */
export function onCertificate(ctx: Ctx, env: Envelope<CertificateMsg>): void {
  const s = ctx.s;
  const cert = env.msg.certificate;
  const seq = cert.body.seq;
  if (cert.body.cluster !== s.clusterId) return drop(ctx, "wrong_cluster");
  if (s.skipped.has(seq)) return finishSkipped(ctx, seq, cert);
  const rec = s.uncertified.get(seq);
  if (!rec) return drop(ctx, "certificate_not_needed");
  // See checkNotOutvoted: a quorum for another result is counted, never a crash.
  if (!sameCertificateBody(rec.body, cert.body)) return drop(ctx, "certificate_disagrees");
  finishCertificate(ctx, seq, cert);
}

/** A skipped seq is certified: keep the certificate for peers; this node never had the batch to publish. */
function finishSkipped(ctx: Ctx, seq: number, certificate: Certificate): void {
  const s = ctx.s;
  forgetSkipped(s, seq);
  keepCertificate(s, seq, certificate);
  advanceUncertifiedFrom(s);
  count(s.stats, "skipped.certified");
}

/**
 * Would the core drop this peer's share without looking further? True once the seq is certified
 * here or below what this node still certifies (`onShare` drops both before any state change).
 */
export function isRedundantShare(s: ReplicaState, env: Envelope<Share>): boolean {
  const seq = env.msg.body.seq;
  return env.from !== s.me && (s.certificates.has(seq) || seq < s.uncertifiedFrom);
}
