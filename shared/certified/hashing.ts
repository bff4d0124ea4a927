/**
 * The hash primitives of the certified state's sparse Merkle tree, shared by the tree (which builds
 * roots and proofs) and the standalone verifier (which runs in browsers). Only `hash.ts`,
 * `bytes.ts` and `canonical.ts` are imported, so a client bundle stays small.
 *
 *   keyHash   = SHA-256(utf8(key))                      — the key's 256-bit path in the tree
 *   stateHash = SHA-256("aspec/record-state/v1\n" ‖ canonicalJson(state))
 *                                                       — the record's whole state (register clock,
 *                                                         OR-set tags and removed tags, …)
 *   valueHash = SHA-256(canonicalJson({type, value, stateHash}))
 *                                                       — what the key holds
 *   leaf      = SHA-256(0x00 ‖ keyHash ‖ valueHash)
 *   inner     = SHA-256(0x01 ‖ left ‖ right)
 *   empty     = 32 zero bytes                           — no preimage is known, so it can't be forged
 *
 * The root so commits to everything that decides how later ops on the key execute, not only to
 * what a read shows: a node adopting a checkpoint cannot be handed other hidden state behind the
 * same root. A read proof carries `{type, value, stateHash}`: the value, plus a hash of the rest.
 *
 * The 0x00/0x01 prefixes keep a leaf from being passed off as an inner node or vice versa
 * (the second-preimage attack on Merkle trees without domain separation).
 */
import { utf8 } from "../bytes.js";
import { toHex } from "../bytes.js";
import { canonicalBytes, canonicalJson, type Json } from "../canonical.js";
import { sha256 } from "../hash.js";

/** The hash of an empty subtree. */
export const EMPTY_HASH: Uint8Array = new Uint8Array(32);

/** Depth of the tree: one level per bit of a SHA-256 key hash. */
export const TREE_DEPTH = 256;

const LEAF_PREFIX = 0x00;
const INNER_PREFIX = 0x01;

/** A key's committed content: its type, user-visible value (what reads return) and state hash. */
export interface StateValue {
  type: string;
  value: Json;
  /** `recordStateHash` of the record's full state (lowercase hex). */
  stateHash: string;
}

/** The hash of a record's whole state, as a key's leaf commits to it. */
export const recordStateHash = (state: unknown): string =>
  toHex(sha256(canonicalBytes("aspec/record-state/v1", state)));

export const keyHashOf = (key: string): Uint8Array => sha256(utf8(key));

/** The canonical bytes a key's value is committed as. */
export const stateValueBytes = (v: StateValue): Uint8Array =>
  utf8(canonicalJson({ type: v.type, value: v.value, stateHash: v.stateHash }));

export const stateValueHash = (v: StateValue): Uint8Array => sha256(stateValueBytes(v));

// One scratch buffer: the tree hashes millions of 65-byte inputs and allocating each is measurable.
// Safe because sha256 is synchronous and does not keep a reference to its input.
const scratch = new Uint8Array(65);

export function leafHash(keyHash: Uint8Array, valueHash: Uint8Array): Uint8Array {
  scratch[0] = LEAF_PREFIX;
  scratch.set(keyHash, 1);
  scratch.set(valueHash, 33);
  return sha256(scratch);
}

export function innerHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  scratch[0] = INNER_PREFIX;
  scratch.set(left, 1);
  scratch.set(right, 33);
  return sha256(scratch);
}

/** Bit `depth` of a key hash, most significant bit first: 0 = go left, 1 = go right. */
export const bitAt = (keyHash: Uint8Array, depth: number): 0 | 1 =>
  ((keyHash[depth >> 3]! >> (7 - (depth & 7))) & 1) as 0 | 1;

/** True iff `a` and `b` agree on their first `depth` bits. */
export function samePrefix(a: Uint8Array, b: Uint8Array, depth: number): boolean {
  const whole = depth >> 3;
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  const rest = depth & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (a[whole]! & mask) === (b[whole]! & mask);
}

const DIGEST_RE = /^[0-9a-f]{64}$/;
/** A lowercase 64-character hex SHA-256 digest (the wire form of every root and proof hash). */
export const isDigestHex = (s: unknown): s is string => typeof s === "string" && DIGEST_RE.test(s);

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  if (c >= 97 && c <= 102) return c - 87; // a-f
  throw new Error("invalid hex digit");
}

/** Decode a lowercase hex digest to 32 bytes (verifiers decode ~log2(n) of them per proof). */
export function digestBytes(hex: string): Uint8Array {
  if (hex.length !== 64) throw new Error("digest: not 64 hex characters");
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++)
    out[i] = (nibble(hex.charCodeAt(2 * i)) << 4) | nibble(hex.charCodeAt(2 * i + 1));
  return out;
}
