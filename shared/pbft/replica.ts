/**
 * The PBFT replica: a pure, deterministic state machine. `step(input)` takes a verified message, a
 * submitted op or a tick, changes the explicit state and returns the effects for the shell.
 * No clock, randomness, `await` or I/O inside.
 *
 * @example
 *   const node = new PbftReplica({ cluster, me: 0, sm: new MerkleStateMachine(stores) });
 *   const fx = node.step({ kind: "tick", nowMs: Date.now() });
 *   // persist fx.persist, then sign + send fx.send, then publish fx.certificates, alarm at fx.wakeAtMs
 */
import type { Json } from "../canonical.js";
import { toHex } from "../bytes.js";
import { clusterId } from "../certified/cluster-id.js";
import { EMPTY_HASH } from "../certified/hashing.js";
import type { Certificate, CertifiedStateMachine, ClusterConfig } from "../certified/types.js";
import type { SignedOp } from "../ops.js";
import { checkConfig, DEFAULT_PBFT_CONFIG, type PbftConfig } from "./config.js";
import {
  broadcast,
  execKey,
  HEAD_KEY,
  markDirty,
  META_KEY,
  parseRowKey,
  slotKey,
  STABLE_KEY,
  XFER_KEY,
  xpathKey,
  type Ctx,
} from "./context.js";
import { GENESIS_LOG_ROOT } from "./chain.js";
import { checkpointDigest, type CheckpointHeader } from "./digest.js";
import { emptyEffects, type Effects } from "./effects.js";
import { forgetSkipped } from "./endorse.js";
import { advanceUncertifiedFrom, executeReady, isRedundantShare, onCertificate, onShare } from "./execute.js";
import { onCheckpoint } from "./checkpoint.js";
import { invariants, stepInvariants } from "./invariants.js";
import type { Commit, Envelope, Prepare } from "./messages.js";
import {
  isRedundantVote,
  maybePropose,
  onCommit,
  onCommitted,
  onOps,
  onPrePrepare,
  onPrepare,
  onSubmit,
  onSubmitMany,
} from "./normal-case.js";
import type { ExecRow, HeadRow, MetaRow, SkipRow, SlotRow, StableRow, XferRow, XpathRow } from "./persist.js";
import { persistOps, restoreSlotRow } from "./persist.js";
import type { OwnCheckpoint, ReplicaState, Transfer } from "./state.js";
import { dropOvertakenTransfer, onState, onStateChunk, onStateFetch, onStatus } from "./state-transfer.js";
import { count } from "./stats.js";
import { noteActivity } from "./activity.js";
import { maybeHeartbeat } from "./heartbeat.js";
import { nextWakeMs, onTick } from "./timers.js";
import { announceViewChange, onNewView, onViewChange } from "./view-change.js";

export interface ReplicaOptions {
  cluster: ClusterConfig;
  /** This node's index in `cluster.nodes`. */
  me: number;
  config?: Partial<PbftConfig>;
  /**
   * The certified state machine, over this node's stores. A fresh node's stores are empty; a
   * restored node's hold the state at the `head` row's seq (written in the same transactions).
   */
  sm: CertifiedStateMachine;
}

/** What the shell hands to `step`. Messages must have passed `parseEnvelope` and the boundary's signature checks. */
export type Input =
  | { kind: "message"; envelope: Envelope }
  | { kind: "submit"; op: SignedOp }
  /** Several verified ops in one step (e.g. one request's): one persist write for all of them. */
  | { kind: "submit-many"; ops: readonly SignedOp[] }
  | { kind: "tick"; nowMs: number }
  /** Client activity (a replica asks for a beat): a tick, then the heartbeat runs for a while (`heartbeat.ts`). */
  | { kind: "activity"; nowMs: number };

export class PbftReplica {
  readonly state: ReplicaState;

  /** A fresh node (empty state, view 0). Use `restore` to come back from persisted rows. */
  constructor(opts: ReplicaOptions, stable?: StableRow, head?: HeadRow) {
    const cfg = { ...DEFAULT_PBFT_CONFIG, ...opts.config };
    checkConfig(opts.cluster, cfg);
    if (!Number.isInteger(opts.me) || opts.me < 0 || opts.me >= opts.cluster.nodes.length)
      throw new Error("pbft: `me` is not a node of the cluster");
    const genesis: CheckpointHeader = {
      seq: 0,
      logRoot: GENESIS_LOG_ROOT,
      opCount: 0,
      time: 0,
      stateRoot: toHex(EMPTY_HASH),
    };
    const genesisDigest = checkpointDigest(genesis);
    const base = stable?.header ?? genesis;
    const at = head ?? {
      lastExecuted: base.seq,
      stateRoot: base.stateRoot,
      logRoot: base.logRoot,
      opCount: base.opCount,
      lastTime: base.time,
    };
    // Rows and the state machine's stores are written in one transaction per step.
    if (opts.sm.stateRoot() !== at.stateRoot)
      throw new Error(
        `pbft: the state machine's root is not the one of seq ${at.lastExecuted} (storage out of step)`,
      );
    this.state = {
      cluster: opts.cluster,
      clusterId: clusterId(opts.cluster),
      cfg,
      me: opts.me,
      n: opts.cluster.nodes.length,
      f: opts.cluster.f,
      genesisDigest,
      started: false,
      tick: 0,
      clockMs: 0,
      lastStatusTick: 0,
      lastOpsBroadcastTick: 0,
      lastProposalTick: 0,
      beatUntilTick: -Infinity,
      lastProgressTick: 0,
      requestRelayTick: -Infinity,
      view: 0,
      normal: true,
      viewStartTick: 0,
      viewChangeTimeoutTicks: cfg.viewChangeTimeoutTicks,
      viewChangeDeadlineTick: null,
      viewChanges: new Map(),
      newView: null,
      nextSeq: at.lastExecuted + 1,
      executedInView: false,
      slots: new Map(),
      pool: new Map(),
      inFlight: new Set(),
      unproposed: new Set(),
      sm: opts.sm,
      lastExecuted: at.lastExecuted,
      logRoot: at.logRoot,
      opCount: at.opCount,
      lastTime: at.lastTime,
      stable: stable?.checkpoint ?? { seq: 0, digest: genesisDigest, proof: [] },
      stableHeader: base,
      stableHandle: stable?.handle ?? { root: genesis.stateRoot, node: 0 },
      transfer: null,
      checkpoints: new Map(),
      uncertified: new Map(),
      skipped: new Map(),
      shares: new Map(),
      certificates: new Map(),
      uncertifiedFrom: at.lastExecuted + 1,
      peerUncertifiedFrom: new Map(),
      lastStateSentTick: new Map(),
      resent: new Map(),
      peerProgress: new Map(),
      lastFetchServedTick: new Map(),
      stats: {},
      dirty: new Set(),
    };
  }

  /**
   * Rebuild a node from its persisted rows (`key → value`, as written from `Effects.persist`) and
   * its state machine's stores, at the last executed seq: nothing is executed again. The returned
   * effects (votes and shares to re-send) must be handled like any step's.
   */
  static restore(
    opts: ReplicaOptions,
    rows: Iterable<readonly [string, Json]>,
  ): { replica: PbftReplica; effects: Effects } {
    const byKey = new Map(rows);
    const replica = new PbftReplica(
      opts,
      byKey.get(STABLE_KEY) as StableRow | undefined,
      byKey.get(HEAD_KEY) as HeadRow | undefined,
    );
    const s = replica.state;
    const meta = byKey.get(META_KEY) as MetaRow | undefined;
    if (meta) {
      s.view = meta.view;
      s.normal = meta.normal;
      s.viewChangeTimeoutTicks = meta.viewChangeTimeoutTicks;
      s.newView = meta.newView;
    }
    const fx = emptyEffects();
    const ctx: Ctx = { s, fx };
    const paths = new Map<string, XpathRow>();
    for (const [key, value] of [...byKey].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const k = parseRowKey(key);
      switch (k?.kind) {
        case "slot": {
          const r = restoreSlotRow(value as unknown as SlotRow);
          // Outside the window of the stable checkpoint restored: collected, or from before a
          // state transfer moved the window.
          if (r.seq <= s.stable.seq || r.seq > s.stable.seq + s.cfg.logWindowSeqs) {
            markDirty(s, key); // deleted with the first write
            break;
          }
          s.slots.set(r.seq, {
            seq: r.seq,
            view: r.view,
            digest: r.digest,
            proposal: r.proposal,
            prePrepare: r.prePrepare,
            // The votes a quorum proof holds are votes of this view: they count again.
            prepares: votesOf(r.preparedCert?.view === r.view ? r.preparedCert.prepares : []),
            commits: votesOf(r.commitProof?.[0]?.msg.view === r.view ? r.commitProof : []),
            preparedCert: r.preparedCert,
            commitProof: r.commitProof,
            committedProposal: r.committedProposal,
            sentCommit: r.preparedCert !== null && r.preparedCert.view === r.view,
            sinceTick: 0,
          });
          if (r.view === s.view && r.proposal && s.nextSeq <= r.seq) s.nextSeq = r.seq + 1;
          break;
        }
        case "pool":
          s.pool.set(k.rest, { op: value as unknown as SignedOp, sinceTick: 0, relayedView: -1 });
          break;
        case "cert": {
          const cert = value as unknown as Certificate;
          s.certificates.set(cert.body.seq, cert);
          break;
        }
        case "exec": {
          const r = value as unknown as ExecRow;
          s.uncertified.set(r.body.seq, { ...r, sinceTick: 0 });
          s.uncertifiedFrom = Math.min(s.uncertifiedFrom, r.body.seq);
          break;
        }
        case "ckpt": {
          const mine = value as unknown as OwnCheckpoint;
          if (mine.header.seq <= s.stable.seq || mine.header.seq > s.lastExecuted) {
            markDirty(s, key);
            break;
          }
          s.checkpoints.set(mine.header.seq, { mine, votes: new Map() });
          broadcast(ctx, { type: "checkpoint", seq: mine.header.seq, digest: mine.digest });
          break;
        }
        case "xpath":
          paths.set(k.rest, value as unknown as XpathRow);
          break;
        case "skip": {
          const r = value as unknown as SkipRow;
          s.skipped.set(r.seq, { body: r.body, share: r.share, sinceTick: 0 });
          s.uncertifiedFrom = Math.min(s.uncertifiedFrom, r.seq);
          break;
        }
        // meta, head, stable, xfer: read above and below
      }
    }
    for (const slot of s.slots.values())
      if (slot.view === s.view && slot.proposal && slot.seq > s.lastExecuted)
        for (const op of slot.proposal.ops) s.inFlight.add(`${op.client}:${op.seq}`);
    restoreTransfer(s, byKey.get(XFER_KEY) as XferRow | undefined, paths);
    for (const [id, e] of s.pool) if (s.sm.hasExecuted(e.op)) s.pool.delete(id);
    for (const id of s.pool.keys()) if (!s.inFlight.has(id)) s.unproposed.add(id);
    count(s.stats, "restored");
    // Shares that never came back from the shell before the crash: sign them again.
    for (const rec of s.uncertified.values()) {
      if (rec.share) s.shares.set(rec.body.seq, new Map([[s.me, rec.share]]));
      else broadcast(ctx, { type: "share", body: rec.body });
    }
    for (const [seq, e] of s.skipped) {
      if (e.share) s.shares.set(seq, new Map([[s.me, e.share]]));
      else if (e.body) broadcast(ctx, { type: "share", body: e.body });
    }
    stepTail(ctx);
    pruneBeyondExecution(s);
    if (s.normal) resendVotes(ctx);
    else announceViewChange(ctx);
    fx.persist = persistOps(s);
    fx.wakeAtMs = nextWakeMs(ctx);
    return { replica, effects: fx };
  }

  /** Advance the state machine by one input. Throws only on a broken invariant (a bug). */
  step(input: Input): Effects {
    const fx = emptyEffects();
    const ctx: Ctx = { s: this.state, fx };
    switch (input.kind) {
      case "tick":
        onTick(ctx, input.nowMs);
        break;
      case "submit":
        onSubmit(ctx, input.op);
        break;
      case "submit-many":
        onSubmitMany(ctx, input.ops);
        break;
      case "activity":
        onTick(ctx, input.nowMs);
        noteActivity(ctx.s);
        break;
      case "message":
        this.onMessage(ctx, input.envelope);
        break;
    }
    stepTail(ctx);
    stepInvariants(this.state);
    fx.persist = persistOps(this.state);
    fx.wakeAtMs = nextWakeMs(ctx);
    return fx;
  }

  private onMessage(ctx: Ctx, env: Envelope): void {
    count(ctx.s.stats, `recv.${env.msg.type}`);
    switch (env.msg.type) {
      case "pre-prepare":
        return onPrePrepare(ctx, env as Envelope<typeof env.msg>);
      case "prepare":
        return onPrepare(ctx, env as Envelope<typeof env.msg>);
      case "commit":
        return onCommit(ctx, env as Envelope<typeof env.msg>);
      case "checkpoint":
        return onCheckpoint(ctx, env as Envelope<typeof env.msg>);
      case "view-change":
        return onViewChange(ctx, env as Envelope<typeof env.msg>);
      case "new-view":
        return onNewView(ctx, env as Envelope<typeof env.msg>);
      case "status":
        return onStatus(ctx, env as Envelope<typeof env.msg>);
      case "committed":
        return onCommitted(ctx, env as Envelope<typeof env.msg>);
      case "state":
        return onState(ctx, env as Envelope<typeof env.msg>);
      case "state-fetch":
        return onStateFetch(ctx, env as Envelope<typeof env.msg>);
      case "state-chunk":
        return onStateChunk(ctx, env as Envelope<typeof env.msg>);
      case "share":
        return onShare(ctx, env as Envelope<typeof env.msg>);
      case "certificate":
        return onCertificate(ctx, env as Envelope<typeof env.msg>);
      case "ops":
        return onOps(ctx, env as Envelope<typeof env.msg>);
    }
  }

  /**
   * True if `step` would ignore this (parsed) peer message without a change that matters: a vote for
   * a slot already prepared/committed here, a share for a seq already certified. A shell may drop
   * it before verifying its signature (`PbftBoundary.open`'s `redundant`); ignoring this is safe too.
   * Pure: no state changes.
   */
  isRedundant(env: Envelope): boolean {
    const s = this.state;
    switch (env.msg.type) {
      case "prepare":
      case "commit":
        return isRedundantVote(s, env as Envelope<typeof env.msg>);
      case "share":
        return isRedundantShare(s, env as Envelope<typeof env.msg>);
      default:
        return false;
    }
  }

  /** Counters of dropped input and protocol events. */
  get stats(): Readonly<Record<string, number>> {
    return this.state.stats;
  }

  /** Throws if the state is inconsistent (a bug). `deep` also walks the pool and uncertified batches. */
  checkInvariants(deep = true): void {
    invariants(this.state, deep);
  }
}

/**
 * What every step ends with, in this order, whatever its input: execute the committed batches
 * that are next in sequence (taking and stabilising checkpoints on the way), then let the primary
 * fill its window, and on a tick, beat if it is idle. Handlers only record what they learned; none
 * executes or proposes itself.
 */
function stepTail(ctx: Ctx): void {
  executeReady(ctx);
  dropOvertakenTransfer(ctx);
  maybePropose(ctx, ctx.proposePartial === true);
  if (ctx.proposePartial === true) maybeHeartbeat(ctx);
}

/**
 * Rows of batches this node cannot have executed after all: a crash part-way through a write can
 * keep an `exec/` or `skip/` row whose stable checkpoint or slot did not make it. Those batches
 * come back from peers (COMMITTED or STATE) like any others this node missed.
 */
function pruneBeyondExecution(s: ReplicaState): void {
  for (const seq of [...s.uncertified.keys()])
    if (seq > s.lastExecuted) {
      s.uncertified.delete(seq);
      markDirty(s, execKey(seq));
      count(s.stats, "restore.pruned");
    }
  for (const seq of [...s.skipped.keys()])
    if (seq > s.lastExecuted) {
      forgetSkipped(s, seq);
      count(s.stats, "restore.pruned");
    }
  s.uncertifiedFrom = Math.min(s.uncertifiedFrom, s.lastExecuted + 1);
  advanceUncertifiedFrom(s);
}

/** A state transfer in progress before the restart, with the chunks it had verified and kept. */
function restoreTransfer(s: ReplicaState, row: XferRow | undefined, paths: Map<string, XpathRow>): void {
  if (!row || row.checkpoint.seq <= s.lastExecuted) {
    if (row) markDirty(s, XFER_KEY);
    for (const path of paths.keys()) markDirty(s, xpathKey(path));
    return;
  }
  const t: Transfer = {
    checkpoint: row.checkpoint,
    header: row.header,
    pending: new Map(),
    reused: new Map(),
    fetched: new Map(),
    asked: new Map(),
    source: row.source,
    progressTick: 0,
  };
  for (const [path, p] of paths) {
    if ("pending" in p) t.pending.set(path, p.pending);
    else if ("reused" in p) t.reused.set(path, p.reused);
    else t.fetched.set(path, p.records);
  }
  s.transfer = t;
}

/** Votes by sender. */
function votesOf<M extends Prepare | Commit>(votes: readonly Envelope<M>[]): Map<number, Envelope<M>> {
  return new Map(votes.map((e) => [e.from, e]));
}

/**
 * After a restart, this node's votes for slots still in progress in its view: the same votes it
 * cast before (a slot's digest is persisted before any vote for it), so in-flight batches complete
 * without waiting for a view change. Peers' votes come back in answer to STATUS.
 */
function resendVotes(ctx: Ctx): void {
  const s = ctx.s;
  for (const slot of [...s.slots.values()].sort((a, b) => a.seq - b.seq)) {
    if (slot.view !== s.view || slot.digest === null || slot.commitProof) continue;
    broadcast(ctx, { type: "prepare", view: slot.view, seq: slot.seq, digest: slot.digest });
    if (slot.sentCommit)
      broadcast(ctx, { type: "commit", view: slot.view, seq: slot.seq, digest: slot.digest });
  }
}

export { slotKey, execKey };
