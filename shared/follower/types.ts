/**
 * What the certified follower (shared/follower/follower.ts) takes and gives: its durable head, the
 * outcome of one batch, the divergence it records, and the events it asks its host to log.
 */
import type { Certification } from "../replies.js";
import type { Digest } from "../certified/types.js";

/** The newest certified seq applied, the log chain at it, and the first divergence (if any). */
export interface Head {
  seq: number;
  logRoot: Digest;
  opCount: number;
  diverged: Divergence | null;
}

/** The first batch whose roots this follower computed differently from its certificate. */
export interface Divergence {
  seq: number;
  certified: { stateRoot: Digest; resultsRoot: Digest; opCount: number };
  computed: { stateRoot: Digest; resultsRoot: Digest; executed: number };
}

export type CertOutcome =
  | "applied"
  | "buffered"
  | "duplicate"
  | "invalid"
  | "ops_mismatch"
  | "too_far_ahead"
  | "buffer_full"
  | "root_mismatch"
  | "halted";

export interface CertReport {
  outcome: CertOutcome;
  /** The message's seq (null when it had none). */
  seq: number | null;
  /** Batches applied by this call (the message and buffered ones it unblocked). */
  applied: number;
  /** The newest certified seq held afterwards. */
  head: number;
  /** Why a certificate was refused (`verifyCertificate`'s reason), if it was. */
  reason?: string;
}

/** What an adoption of a transferred certified state came to. */
export type AdoptOutcome = "adopted" | "not_prefix" | "root_mismatch" | "stale";

/** Drops counted (in memory: a dropped batch writes no row). */
export const DROP_COUNTERS = [
  "duplicate",
  "invalid",
  "opsMismatch",
  "tooFarAhead",
  "bufferFull",
  "halted",
] as const;
export type DropCounter = (typeof DROP_COUNTERS)[number];

export interface CertificationStats {
  certification: Certification;
  /** Newest certified seq applied (0: none). */
  seq: number;
  opCount: number;
  buffered: number;
  /** Batches dropped since this instance started (in memory: a dropped batch writes nothing). */
  dropped: Record<DropCounter, number>;
  /** Batches whose roots this replica computed differently from their certificate (0 or 1: it halts). */
  rootMismatches: number;
  /** The first mismatch: seq and both roots. */
  diverged: Divergence | null;
}

/** A structured event for the host to log (it adds who it is): `console[level]({event, replica, ...})`. */
export interface FollowerEvent {
  level: "log" | "error";
  event: string;
  fields: Record<string, unknown>;
}
