/**
 * Standalone proof verification: what a client (browser, CLI, another replica) runs to check a read
 * or an op result against a certificate's roots. Synchronous and pure; it imports only the byte,
 * hash and canonical-encoding helpers, so it runs anywhere. Proofs are plain JSON with hex digests
 * and are hostile input: any malformed proof verifies as false, never throws.
 */
import { bytesEqual } from "../bytes.js";
import {
  EMPTY_HASH,
  TREE_DEPTH,
  bitAt,
  digestBytes,
  innerHash,
  isDigestHex,
  keyHashOf,
  leafHash,
  samePrefix,
  stateValueHash,
  type StateValue,
} from "./hashing.js";
import { resultLeafHash, rootFromResultPath, type ResultProof } from "./results.js";
import type { Digest, OpResult } from "./types.js";

export type { ResultProof } from "./results.js";
export type { StateValue } from "./hashing.js";

/**
 * A key's path in the certified state tree, from the root down.
 *
 * Inclusion: the path ends at the key's own leaf. Non-inclusion: it ends at an empty subtree
 * (no `leaf`) or at another key's leaf (`leaf`), which is alone under the key's path prefix, so the
 * key cannot be in the tree.
 */
export interface StateProof {
  /** Sibling subtree hashes, root first; null is an empty subtree. */
  siblings: (Digest | null)[];
  /** Non-inclusion only: the other key's leaf found where this key's would be. */
  leaf?: { keyHash: Digest; valueHash: Digest };
}

/** Fold sibling hashes from `node` (at depth siblings.length on `keyHash`'s path) up to a root. */
function foldUp(node: Uint8Array, keyHash: Uint8Array, siblings: readonly (string | null)[]): Uint8Array {
  let h = node;
  for (let depth = siblings.length - 1; depth >= 0; depth--) {
    const s = siblings[depth];
    const sib = s === null || s === undefined ? EMPTY_HASH : digestBytes(s);
    h = bitAt(keyHash, depth) === 0 ? innerHash(h, sib) : innerHash(sib, h);
  }
  return h;
}

function wellFormed(proof: unknown): proof is StateProof {
  if (typeof proof !== "object" || proof === null) return false;
  const p = proof as StateProof;
  if (!Array.isArray(p.siblings) || p.siblings.length > TREE_DEPTH) return false;
  for (const s of p.siblings) if (s !== null && !isDigestHex(s)) return false;
  if (p.leaf !== undefined) {
    if (typeof p.leaf !== "object" || p.leaf === null) return false;
    if (!isDigestHex(p.leaf.keyHash) || !isDigestHex(p.leaf.valueHash)) return false;
  }
  return true;
}

/** The root a state proof implies for (key, expected); null when the proof can't say that at all. */
function stateRootFromProof(key: string, expected: StateValue | null, proof: StateProof): Uint8Array | null {
  if (!wellFormed(proof)) return null;
  const kh = keyHashOf(key);
  const depth = proof.siblings.length;
  if (expected !== null) {
    if (proof.leaf !== undefined || !isDigestHex(expected.stateHash)) return null;
    return foldUp(leafHash(kh, stateValueHash(expected)), kh, proof.siblings);
  }
  if (proof.leaf === undefined) return foldUp(EMPTY_HASH, kh, proof.siblings);
  const otherKh = digestBytes(proof.leaf.keyHash);
  // The other leaf must sit on this key's path and be a different key.
  if (bytesEqual(otherKh, kh) || !samePrefix(otherKh, kh, depth)) return null;
  return foldUp(leafHash(otherKh, digestBytes(proof.leaf.valueHash)), kh, proof.siblings);
}

/**
 * Does `proof` show that, in the state committed to by `stateRoot`, `key` holds `expected`
 * (`{type, value, stateHash}`, as `MerkleStateMachine.proveKey` returns it), or is absent when
 * `expected` is null?
 *
 * @example
 *   const { value, proof } = reply; // value: { type: "account", value: 40, stateHash: "…" }
 *   const ok = verifyStateProof(cert.body.stateRoot, "acct:alice", value, proof);
 */
export function verifyStateProof(
  stateRoot: Digest,
  key: string,
  expected: StateValue | null,
  proof: StateProof,
): boolean {
  try {
    if (!isDigestHex(stateRoot) || typeof key !== "string") return false;
    const root = stateRootFromProof(key, expected, proof);
    return root !== null && bytesEqual(root, digestBytes(stateRoot));
  } catch {
    return false; // e.g. a value canonicalJson refuses: hostile input, not a crash
  }
}

/** Does `proof` show that `result` is the outcome committed to by `resultsRoot`? */
export function verifyResultProof(resultsRoot: Digest, result: OpResult, proof: ResultProof): boolean {
  try {
    if (!isDigestHex(resultsRoot) || typeof proof !== "object" || proof === null) return false;
    const { index, count, path } = proof;
    if (!Number.isSafeInteger(index) || !Number.isSafeInteger(count) || index < 0 || count < 1) return false;
    if (!Array.isArray(path) || path.length > 64 || !path.every(isDigestHex)) return false;
    const root = rootFromResultPath(resultLeafHash(result), index, count, path);
    return root !== null && bytesEqual(root, digestBytes(resultsRoot));
  } catch {
    return false;
  }
}
