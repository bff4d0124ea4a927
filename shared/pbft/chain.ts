/**
 * Hash-chain helpers of the certificate body (DESIGN §5):
 *   batchDigest = H(canonical ops), logRoot_s = H(logRoot_{s-1} ‖ batchDigest_s), logRoot_0 = 0^32.
 *
 * TODO(certified): switch to `batchDigest` / `nextLogRoot` from shared/certified once they land, so
 * the core and the verifiers share one definition. Until then this is the stand-in.
 */
import { fromHex, toHex } from "../bytes.js";
import { canonicalBytes } from "../canonical.js";
import type { Digest } from "../certified/types.js";
import { sha256 } from "../hash.js";
import type { SignedOp } from "../ops.js";

export const GENESIS_LOG_ROOT: Digest = "0".repeat(64);

/** Digest of the ops executed at one seq, in order. */
export const batchDigest = (ops: readonly SignedOp[]): Digest =>
  toHex(sha256(canonicalBytes("aspec/batch/v1", ops)));

/** `H(prev ‖ batch)`: the hash-chained history after one more batch. */
export function nextLogRoot(prev: Digest, batch: Digest): Digest {
  const buf = new Uint8Array(64);
  buf.set(fromHex(prev), 0);
  buf.set(fromHex(batch), 32);
  return toHex(sha256(buf));
}
