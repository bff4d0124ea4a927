/**
 * Bytes of batches, and the bound that keeps every bulk message within `bulkMessageBytesMax`.
 *
 * A VIEW-CHANGE carries at most `logWindowSeqs` prepared certificates, each with its whole batch;
 * a NEW-VIEW carries 2f+1 VIEW-CHANGEs. Rather than ship batches by digest and fetch them apart,
 * the batch itself is bounded: a primary cuts a batch at `batchBytesLimit` and a backup refuses a
 * larger one, so every proposal that can prepare fits, and so do the messages that carry them
 * (n × logWindowSeqs × (batch + per-certificate overhead) ≤ bulkMessageBytesMax; a PRE-PREPARE
 * or COMMITTED with one batch ≤ messageBytesMax).
 */
import { utf8Length } from "../bytes.js";
import { canonicalJson } from "../canonical.js";
import type { SignedOp } from "../ops.js";
import type { PbftConfig } from "./config.js";

/** Generous bytes per node for everything around a batch: its votes, digests, checkpoint proof. */
const OVERHEAD_BYTES_PER_NODE = 1024;

/** The most bytes of ops one batch may hold in this cluster (the smaller of the configured and the derived bound). */
export function batchBytesLimit(cfg: PbftConfig, n: number): number {
  const overhead = OVERHEAD_BYTES_PER_NODE * n;
  const forBulk = Math.floor(cfg.bulkMessageBytesMax / (n * cfg.logWindowSeqs)) - overhead;
  return Math.min(cfg.batchBytesMax, forBulk, cfg.messageBytesMax - overhead);
}

// An op object is never mutated once built; the primary sizes pooled ops, a backup the ops of a
// proposal (often the same objects, from the boundary's cache).
const sizes = new WeakMap<SignedOp, number>();

/** Canonical JSON bytes of one op (remembered per op object). */
export function opBytes(op: SignedOp): number {
  let b = sizes.get(op);
  if (b === undefined) sizes.set(op, (b = utf8Length(canonicalJson(op))));
  return b;
}

export function batchBytes(ops: readonly SignedOp[]): number {
  let total = 0;
  for (const op of ops) total += opBytes(op);
  return total;
}
