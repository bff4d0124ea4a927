/**
 * The durable rows of a node, one per key: `meta`, `head` (last executed seq, log root, op count,
 * time), `stable` (the stable checkpoint, proof, header and where its state is kept), `ckpt/<seq>`
 * (this node's own checkpoints above it), `slot/<seq>` (accepted proposal, prepared certificate,
 * commit proof), `pool/<opId>`, `exec/<seq>` (executed batches still waiting for a certificate),
 * `skip/<seq>` (seqs skipped by state transfer that this node still signs for, see `endorse.ts`),
 * `cert/<seq>` (the last `certificatesKeptMax` certificates, to answer peers that lost theirs in a
 * restart), `xfer` and `xchunk/<path>` (a state transfer in progress). The certified state itself
 * is in the state machine's stores, written in the same transaction as these rows (the driver's
 * one transaction per step), so rows and state always agree.
 *
 * Written at the points that matter for safety: a node never votes twice differently in a view
 * after a restart, never forgets a view it promised to leave, and a committed batch is never lost.
 * Votes short of a quorum are not persisted: peers re-send them.
 */
import type { Json } from "../canonical.js";
import type { CheckpointHeader } from "./digest.js";
import type { CertificateBody, ChunkRecord, Digest, StateHandle } from "../certified/types.js";
import { ckptKey, execKey, HEAD_KEY, META_KEY, skipKey, STABLE_KEY, xchunkKey, XFER_KEY } from "./context.js";
import type { PersistOp } from "./effects.js";
import type {
  CheckpointProof,
  Commit,
  Envelope,
  NewView,
  PrePrepare,
  PreparedCert,
  Proposal,
  Share,
} from "./messages.js";
import type { ExecRecord, OwnCheckpoint, ReplicaState } from "./state.js";

export interface MetaRow {
  view: number;
  normal: boolean;
  viewChangeTimeoutTicks: number;
  newView: Envelope<NewView> | null;
}
export interface StableRow {
  checkpoint: CheckpointProof;
  header: CheckpointHeader;
  handle: StateHandle;
}
export interface HeadRow {
  lastExecuted: number;
  /** The state machine's root at `lastExecuted` (checked on restore: rows and stores agree). */
  stateRoot: Digest;
  logRoot: Digest;
  opCount: number;
  lastTime: number;
}
export interface XferRow {
  checkpoint: CheckpointProof;
  header: CheckpointHeader;
  pending: [string, Digest][];
  reused: [string, Digest][];
  source: number;
}
export interface SlotRow {
  seq: number;
  view: number;
  digest: string | null;
  proposal: Proposal | null;
  prePrepare: Envelope<PrePrepare> | null;
  preparedCert: PreparedCert | null;
  commitProof: Envelope<Commit>[] | null;
  committedProposal: Proposal | null;
}
export type ExecRow = Omit<ExecRecord, "sinceTick">;
export interface SkipRow {
  seq: number;
  body: CertificateBody | null;
  share: Envelope<Share> | null;
}

const asJson = (v: unknown): Json => v as Json;

/**
 * The rows changed in this step, from the current state (so several changes make one write).
 * Puts come before deletes, so that even a crash part-way through a write (a prefix of the rows)
 * leaves rows `restore` can use: e.g. the new stable checkpoint is written before the slots it
 * collects are deleted, and a certificate before the batch it certifies.
 */
export function persistOps(s: ReplicaState): PersistOp[] {
  const puts: PersistOp[] = [];
  const deletes: PersistOp[] = [];
  const keys = [...s.dirty];
  if (keys.length > 1) keys.sort();
  for (const key of keys) {
    const value = rowValue(s, key);
    if (value === undefined) deletes.push({ op: "delete", key });
    else puts.push({ op: "put", key, value });
  }
  s.dirty.clear();
  return deletes.length === 0 ? puts : puts.concat(deletes);
}

function rowValue(s: ReplicaState, key: string): Json | undefined {
  if (key === META_KEY) {
    const row: MetaRow = {
      view: s.view,
      normal: s.normal,
      viewChangeTimeoutTicks: s.viewChangeTimeoutTicks,
      newView: s.newView,
    };
    return asJson(row);
  }
  if (key === STABLE_KEY)
    return asJson({
      checkpoint: s.stable,
      header: s.stableHeader,
      handle: s.stableHandle,
    } satisfies StableRow);
  if (key === HEAD_KEY) {
    const row: HeadRow = {
      lastExecuted: s.lastExecuted,
      stateRoot: s.sm.stateRoot(),
      logRoot: s.logRoot,
      opCount: s.opCount,
      lastTime: s.lastTime,
    };
    return asJson(row);
  }
  if (key === XFER_KEY) {
    const t = s.transfer;
    if (!t) return undefined;
    const row: XferRow = {
      checkpoint: t.checkpoint,
      header: t.header,
      pending: [...t.pending],
      reused: [...t.reused],
      source: t.source,
    };
    return asJson(row);
  }
  const slash = key.indexOf("/");
  const kind = key.slice(0, slash);
  const rest = key.slice(slash + 1);
  if (kind === "slot") {
    const slot = s.slots.get(Number(rest));
    if (!slot || (!slot.proposal && !slot.preparedCert && !slot.commitProof)) return undefined;
    const row: SlotRow = {
      seq: slot.seq,
      view: slot.view,
      digest: slot.digest,
      proposal: slot.proposal,
      prePrepare: slot.prePrepare,
      preparedCert: slot.preparedCert,
      commitProof: slot.commitProof,
      committedProposal: slot.committedProposal,
    };
    return asJson(row);
  }
  if (kind === "pool") {
    const e = s.pool.get(rest);
    return e ? asJson(e.op) : undefined;
  }
  if (kind === "exec") {
    const seq = Number(rest);
    const rec = s.uncertified.get(seq);
    if (!rec || key !== execKey(seq)) return undefined;
    const row: ExecRow = { body: rec.body, ops: rec.ops, results: rec.results, share: rec.share };
    return asJson(row);
  }
  if (kind === "skip") {
    const seq = Number(rest);
    const e = s.skipped.get(seq);
    if (!e || key !== skipKey(seq)) return undefined;
    return asJson({ seq, body: e.body, share: e.share } satisfies SkipRow);
  }
  if (kind === "ckpt") {
    const seq = Number(rest);
    const mine = s.checkpoints.get(seq)?.mine;
    return mine && key === ckptKey(seq) ? asJson(mine satisfies OwnCheckpoint) : undefined;
  }
  if (kind === "xchunk") {
    const records = s.transfer?.fetched.get(rest);
    return records && key === xchunkKey(rest) ? asJson(records satisfies ChunkRecord[]) : undefined;
  }
  if (kind === "cert") {
    const cert = s.certificates.get(Number(rest));
    return cert ? asJson(cert) : undefined;
  }
  throw new Error(`pbft: unknown persist key ${key}`);
}
