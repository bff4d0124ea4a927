/** Digests the core agrees on: proposals (what PREPARE/COMMIT vote for) and checkpoints. */
import { toHex } from "../bytes.js";
import { canonicalBytes } from "../canonical.js";
import type { Digest } from "../certified/types.js";
import { sha256 } from "../hash.js";
import { batchDigest } from "./chain.js";
import type { Proposal } from "./messages.js";
import type { SignedOp } from "../ops.js";

/** Binds the ops, the proposed time and the view of first proposal. */
// Each node hashes a batch's ops when it accepts the proposal and again, as executed, for the log
// chain; the ops array is the same object both times, so the digest is remembered by identity.
const opsDigests = new WeakMap<readonly SignedOp[], Digest>();

/** `batchDigest`, remembered per ops array (an ops array is never mutated once built). */
export function opsDigest(ops: readonly SignedOp[]): Digest {
  let d = opsDigests.get(ops);
  if (d === undefined) opsDigests.set(ops, (d = batchDigest(ops)));
  return d;
}

export const proposalDigest = (p: Proposal): Digest =>
  toHex(
    sha256(canonicalBytes("aspec/pbft-proposal/v1", { batch: opsDigest(p.ops), time: p.time, view: p.view })),
  );

/** The proposal a new primary puts where no prepared certificate says otherwise. */
export const nullProposal = (view: number): Proposal => ({ ops: [], time: 0, view });

/**
 * What a checkpoint commits to, besides its seq: the log so far and the state's root. The state
 * itself (records, executed-ids records) is named by `stateRoot` and fetched in chunks checked
 * against it (state-transfer.ts); nothing here grows with the state.
 */
export interface CheckpointHeader {
  seq: number;
  logRoot: Digest;
  opCount: number;
  /** Time of the certificate at `seq` (times never go backwards). */
  time: number;
  stateRoot: Digest;
}

export const checkpointDigest = (h: CheckpointHeader): Digest =>
  toHex(
    sha256(
      canonicalBytes("aspec/pbft-checkpoint/v2", {
        seq: h.seq,
        logRoot: h.logRoot,
        opCount: h.opCount,
        time: h.time,
        stateRoot: h.stateRoot,
      }),
    ),
  );
