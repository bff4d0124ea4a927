/**
 * The durable rows of a node (their keys: `keys.ts`) and their values. The certified state itself
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
import {
  certKey,
  ckptKey,
  execKey,
  HEAD_KEY,
  META_KEY,
  parseRowKey,
  skipKey,
  slotKey,
  STABLE_KEY,
  XFER_KEY,
  xpathKey,
} from "./keys.js";
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
import type { ExecRecord, OwnCheckpoint, ReplicaState, Slot } from "./state.js";

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
  source: number;
}
/** A subtree of the transfer in progress: to fetch, reused from this node's state, or fetched. */
export type XpathRow = { pending: Digest } | { reused: Digest } | { records: ChunkRecord[] };
export interface SlotRow {
  seq: number;
  view: number;
  digest: string | null;
  proposal: Proposal | null;
  prePrepare: Envelope<PrePrepare> | null;
  preparedCert: PreparedCert | null;
  commitProof: Envelope<Commit>[] | null;
  committedProposal: Proposal | null;
  /**
   * Which of the slot's other places hold the slot's own `proposal` (the same batch): the row
   * stores the batch once and leaves it out of these (`restoreSlotRow` puts it back). A slot row
   * is written at pre-prepare, prepared and committed, so a batch was otherwise written ~9 times.
   * Absent in rows of earlier versions (each place then holds its own copy).
   */
  shared?: SharedPlace[];
}
type SharedPlace = "prePrepare" | "preparedCert" | "committedProposal";

/** The slot's row, its batch written once (see `SlotRow.shared`). */
function slotRowOf(slot: Slot): SlotRow {
  const p = slot.proposal;
  const shared: SharedPlace[] = [];
  let { prePrepare, preparedCert, committedProposal } = slot;
  if (p !== null) {
    if (prePrepare?.proposal === p) {
      shared.push("prePrepare");
      prePrepare = { from: prePrepare.from, msg: prePrepare.msg, sig: prePrepare.sig };
    }
    if (preparedCert?.proposal === p) {
      shared.push("preparedCert");
      preparedCert = { ...preparedCert, proposal: null as unknown as Proposal };
    }
    if (committedProposal === p) {
      shared.push("committedProposal");
      committedProposal = null;
    }
  }
  return {
    seq: slot.seq,
    view: slot.view,
    digest: slot.digest,
    proposal: p,
    prePrepare,
    preparedCert,
    commitProof: slot.commitProof,
    committedProposal,
    ...(shared.length ? { shared } : {}),
  };
}

/** A slot row as the slot had it: the batch back in each place `shared` names. */
export function restoreSlotRow(r: SlotRow): SlotRow {
  const p = r.proposal;
  if (!r.shared?.length || p === null) return r;
  const has = (x: SharedPlace) => r.shared!.includes(x);
  return {
    ...r,
    prePrepare: r.prePrepare && has("prePrepare") ? { ...r.prePrepare, proposal: p } : r.prePrepare,
    preparedCert: r.preparedCert && has("preparedCert") ? { ...r.preparedCert, proposal: p } : r.preparedCert,
    committedProposal: has("committedProposal") ? p : r.committedProposal,
  };
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

/** The row's value now, or undefined when it is to be deleted. */
function rowValue(s: ReplicaState, key: string): Json | undefined {
  const k = parseRowKey(key);
  if (k === null) throw new Error(`pbft: unknown persist key ${key}`);
  switch (k.kind) {
    case META_KEY:
      return asJson({
        view: s.view,
        normal: s.normal,
        viewChangeTimeoutTicks: s.viewChangeTimeoutTicks,
        newView: s.newView,
      } satisfies MetaRow);
    case STABLE_KEY:
      return asJson({
        checkpoint: s.stable,
        header: s.stableHeader,
        handle: s.stableHandle,
      } satisfies StableRow);
    case HEAD_KEY:
      return asJson({
        lastExecuted: s.lastExecuted,
        stateRoot: s.sm.stateRoot(),
        logRoot: s.logRoot,
        opCount: s.opCount,
        lastTime: s.lastTime,
      } satisfies HeadRow);
    case XFER_KEY: {
      const t = s.transfer;
      if (!t) return undefined;
      return asJson({ checkpoint: t.checkpoint, header: t.header, source: t.source } satisfies XferRow);
    }
    case "slot": {
      const slot = s.slots.get(k.seq);
      if (!slot || key !== slotKey(k.seq) || (!slot.proposal && !slot.preparedCert && !slot.commitProof))
        return undefined;
      return asJson(slotRowOf(slot));
    }
    case "pool": {
      const e = s.pool.get(k.rest);
      return e ? asJson(e.op) : undefined;
    }
    case "exec": {
      const rec = s.uncertified.get(k.seq);
      if (!rec || key !== execKey(k.seq)) return undefined;
      return asJson({
        body: rec.body,
        ops: rec.ops,
        results: rec.results,
        share: rec.share,
      } satisfies ExecRow);
    }
    case "skip": {
      const e = s.skipped.get(k.seq);
      if (!e || key !== skipKey(k.seq)) return undefined;
      return asJson({ seq: k.seq, body: e.body, share: e.share } satisfies SkipRow);
    }
    case "cert": {
      const cert = s.certificates.get(k.seq);
      return cert && key === certKey(k.seq) ? asJson(cert) : undefined;
    }
    case "ckpt": {
      const mine = s.checkpoints.get(k.seq)?.mine;
      return mine && key === ckptKey(k.seq) ? asJson(mine satisfies OwnCheckpoint) : undefined;
    }
    case "xpath": {
      const t = s.transfer;
      if (!t || key !== xpathKey(k.rest)) return undefined;
      const pending = t.pending.get(k.rest);
      if (pending !== undefined) return asJson({ pending } satisfies XpathRow);
      const reused = t.reused.get(k.rest);
      if (reused !== undefined) return asJson({ reused } satisfies XpathRow);
      const records = t.fetched.get(k.rest);
      return records ? asJson({ records } satisfies XpathRow) : undefined;
    }
  }
}
