/**
 * The PBFT wire protocol: plain JSON, a discriminated union on `type`. Every message travels in an
 * `Envelope` naming its sender. The shell signs and verifies envelopes (see `boundary.ts`); the
 * core only ever sees envelopes that passed `parseEnvelope` and signature verification.
 *
 * Batches ride beside the signed part: a PRE-PREPARE signs `{view, seq, digest}` and carries the
 * `proposal` whose digest the core checks. COMMITTED, STATE, CERTIFICATE and OPS are
 * self-certifying (they carry a quorum of signed messages, or client-signed ops) and are not signed
 * as a whole.
 */
import type { CertificateBody, Certificate, Digest, StateChunk } from "../certified/types.js";
import type { SignedOp } from "../ops.js";
import type { CheckpointHeader } from "./digest.js";

/** What a primary orders at one sequence number. `view` is the view it was first proposed in. */
export interface Proposal {
  ops: SignedOp[];
  /** ms since epoch as proposed by the primary; 0 for a null proposal (time carries over). */
  time: number;
  view: number;
}

export interface PrePrepare {
  type: "pre-prepare";
  view: number;
  seq: number;
  digest: Digest;
}
export interface Prepare {
  type: "prepare";
  view: number;
  seq: number;
  digest: Digest;
}
export interface Commit {
  type: "commit";
  view: number;
  seq: number;
  digest: Digest;
}
export interface CheckpointMsg {
  type: "checkpoint";
  seq: number;
  digest: Digest;
}

/** A stable checkpoint: 2f+1 matching CHECKPOINTs (empty proof for the genesis, seq 0). */
export interface CheckpointProof {
  seq: number;
  digest: Digest;
  proof: Envelope<CheckpointMsg>[];
}

/** Proof that a proposal prepared at `view`: 2f+1 matching PREPAREs (the primary sends one too). */
export interface PreparedCert {
  seq: number;
  view: number;
  digest: Digest;
  proposal: Proposal;
  prepares: Envelope<Prepare>[];
}

export interface ViewChange {
  type: "view-change";
  /** The view the sender wants to move to. */
  view: number;
  checkpoint: CheckpointProof;
  prepared: PreparedCert[];
}

/** The new primary's announcement: 2f+1 VIEW-CHANGEs; every node derives the re-proposals from them. */
export interface NewView {
  type: "new-view";
  view: number;
  viewChanges: Envelope<ViewChange>[];
}

/** Periodic: lets peers send what this node is missing. */
export interface Status {
  type: "status";
  view: number;
  normal: boolean;
  lastExecuted: number;
  stableSeq: number;
  /** Lowest executed seq this node has no certificate for (lastExecuted + 1 if none). */
  uncertifiedFrom: number;
}

/** A committed batch for a node that fell behind: 2f+1 matching COMMITs + the proposal. */
export interface Committed {
  type: "committed";
  seq: number;
  commits: Envelope<Commit>[];
}

/** State transfer starts: a stable checkpoint's proof and header (its state is fetched in chunks). */
export interface StateMsg {
  type: "state";
  checkpoint: CheckpointProof;
  header: CheckpointHeader;
}

/**
 * State transfer: ask for the subtrees at these paths of the sender's stable checkpoint `seq`,
 * each as records if it holds at most that many (else split).
 */
export interface StateFetch {
  type: "state-fetch";
  seq: number;
  paths: [path: string, maxRecords: number][];
}

/** State transfer: one subtree of stable checkpoint `seq` (checked against the hash expected at `path`). */
export interface StateChunkMsg {
  type: "state-chunk";
  seq: number;
  path: string;
  chunk: StateChunk;
}

/** A certificate share: the envelope's signature is the share (certificate domain, over `body`). */
export interface Share {
  type: "share";
  body: CertificateBody;
}

export interface CertificateMsg {
  type: "certificate";
  certificate: Certificate;
}

/** Ops a backup forwards to the primary (client-signed, so not signed again). */
export interface Ops {
  type: "ops";
  ops: SignedOp[];
}

export type Message =
  | PrePrepare
  | Prepare
  | Commit
  | CheckpointMsg
  | ViewChange
  | NewView
  | Status
  | Committed
  | StateMsg
  | StateFetch
  | StateChunkMsg
  | Share
  | CertificateMsg
  | Ops;

export type MessageType = Message["type"];

/** Types whose envelope is not signed (their content carries its own proof). */
export const SELF_CERTIFYING: ReadonlySet<MessageType> = new Set([
  "committed",
  "state",
  "state-chunk",
  "certificate",
  "ops",
]);

export interface Envelope<M extends Message = Message> {
  from: number;
  msg: M;
  /** base64url signature over `signedBytes` (empty for self-certifying types). */
  sig: string;
  /** The batch of a PRE-PREPARE or COMMITTED, bound by the digest rather than the signature. */
  proposal?: Proposal;
}
