/**
 * The hash chain over the certified history (docs/architecture.md, "What is certified"):
 *
 *   logRoot_0 = SHA-256("aspec/log/v1\ngenesis")
 *   logRoot_s = SHA-256(logRoot_{s-1} ‖ batchDigest(batch_s))       (32 + 32 raw bytes)
 *
 * so one certificate's `logRoot` commits to every batch ever certified, in order.
 */
import { concatBytes, fromHex, toHex, utf8 } from "../bytes.js";
import { canonicalBytes } from "../canonical.js";
import { sha256 } from "../hash.js";
import type { SignedOp } from "../ops.js";
import { isDigestHex } from "./hashing.js";
import type { Digest } from "./types.js";

export const BATCH_DOMAIN = "aspec/batch/v1";

/** The log root before any batch. */
export const GENESIS_LOG_ROOT: Digest = toHex(sha256(utf8("aspec/log/v1\ngenesis")));

/** H(batch): the canonical encoding of the signed ops, in order, signatures included. */
export const batchDigest = (ops: readonly SignedOp[]): Digest =>
  toHex(sha256(canonicalBytes(BATCH_DOMAIN, ops)));

/** The next link of the chain. Throws on a malformed digest (a bug: both come from our own code). */
export function nextLogRoot(prevLogRoot: Digest, batch: Digest): Digest {
  if (!isDigestHex(prevLogRoot) || !isDigestHex(batch))
    throw new Error("nextLogRoot: not a hex SHA-256 digest");
  return toHex(sha256(concatBytes(fromHex(prevLogRoot), fromHex(batch))));
}

/** The log root after `batches`, starting from `from` (genesis by default). */
export function logRootOf(batches: Iterable<readonly SignedOp[]>, from: Digest = GENESIS_LOG_ROOT): Digest {
  let root = from;
  for (const b of batches) root = nextLogRoot(root, batchDigest(b));
  return root;
}
