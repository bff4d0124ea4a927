/** Digests the core agrees on: proposals (what PREPARE/COMMIT vote for) and checkpoints. */
import { toHex } from "../bytes.js";
import { canonicalBytes } from "../canonical.js";
import type { Digest, StateSnapshot } from "../certified/types.js";
import { sha256 } from "../hash.js";
import { batchDigest } from "./chain.js";
import type { ExecutedIdsJson } from "./executed-ids.js";
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

/** Everything a node needs to continue from a checkpoint: what STATE ships and restarts load. */
export interface CheckpointState {
  seq: number;
  logRoot: Digest;
  opCount: number;
  /** Time of the certificate at `seq` (times never go backwards). */
  time: number;
  executed: ExecutedIdsJson;
  sm: StateSnapshot;
}

/** The checkpoint digest commits to the state root, not the snapshot bytes: a receiver rebuilds the root. */
export const checkpointDigest = (c: Omit<CheckpointState, "sm">, stateRoot: Digest): Digest =>
  toHex(
    sha256(
      canonicalBytes("aspec/pbft-checkpoint/v1", {
        seq: c.seq,
        logRoot: c.logRoot,
        opCount: c.opCount,
        time: c.time,
        executed: c.executed,
        stateRoot,
      }),
    ),
  );
