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
import { OP_BYTES_MAX, type SignedOp } from "../ops.js";
import type { PbftConfig } from "./config.js";

/**
 * The most `opBytes` counts for any valid op: `jsonBytes` counts each UTF-8 byte of a canonical
 * encoding at most 3 times (a character outside the BMP: 4 bytes, counted as two 6-byte escapes;
 * a 3-byte character counts 6, DEL 2). A batch bound below it would let a client's one valid op
 * be proposed alone and refused by every backup as too large, for ever.
 */
export const OP_BYTES_COUNTED_MAX = 3 * OP_BYTES_MAX;

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

/** Bytes of one op as canonical JSON, at most (remembered per op object). */
export function opBytes(op: SignedOp): number {
  let b = sizes.get(op);
  if (b === undefined) sizes.set(op, (b = jsonBytes(op)));
  return b;
}

/**
 * The UTF-8 length of a value's JSON, counted without encoding it (an upper bound where escapes
 * could be shorter; independent of key order, so every node counts the same). Encoding each op to
 * measure it would cost more than the rest of ordering it.
 */
export function jsonBytes(v: unknown): number {
  switch (typeof v) {
    case "string":
      return stringBytes(v);
    case "number":
      return String(v).length;
    case "boolean":
      return v ? 4 : 5;
    case "object": {
      if (v === null) return 4;
      let n = 2;
      if (Array.isArray(v)) {
        for (const x of v) n += jsonBytes(x) + 1;
        return v.length ? n - 1 : n;
      }
      let fields = 0;
      for (const k in v) {
        const x = (v as Record<string, unknown>)[k];
        if (x === undefined) continue;
        n += stringBytes(k) + 1 + jsonBytes(x) + 1;
        fields++;
      }
      return fields ? n - 1 : n;
    }
    default:
      return 0;
  }
}

/** A JSON string's bytes: quotes, escapes (at most 6 bytes per unit), UTF-8 otherwise. */
function stringBytes(s: string): number {
  let n = 2;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f) n += c === 0x22 || c === 0x5c ? 2 : 1;
    else if (c < 0x20) n += 6;
    else if (c < 0x800) n += 2;
    else n += 6; // a surrogate (pair: 4 bytes; lone: escaped, 6) or any other 3-byte unit
  }
  return n;
}

export function batchBytes(ops: readonly SignedOp[]): number {
  let total = 0;
  for (const op of ops) total += opBytes(op);
  return total;
}
