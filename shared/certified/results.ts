/**
 * The results tree: a Merkle tree over one batch's op results in batch order, so a client can check
 * one op's certified outcome against the certificate's `resultsRoot` without the whole batch.
 *
 * The shape is RFC 9162 §2.1.1 (Certificate Transparency): the left subtree holds the largest power
 * of two of leaves smaller than n, so any n works and a proof is ⌈log2 n⌉ hashes.
 *
 *   leaf  = SHA-256(0x00 ‖ canonicalBytes("aspec/result/v1", {opId, status, reason?, value}))
 *   inner = SHA-256(0x01 ‖ left ‖ right)
 *   empty batch = SHA-256("")
 */
import { concatBytes, toHex, utf8 } from "../bytes.js";
import { digestBytes } from "./hashing.js";
import { canonicalJson } from "../canonical.js";
import { sha256 } from "../hash.js";
import type { Digest, OpResult } from "./types.js";

export const RESULT_DOMAIN = "aspec/result/v1";

/**
 * A proof that `result` is leaf `index` of a results tree of `count` leaves (RFC 9162 audit path).
 * What it proves is membership: the root does not commit to `count` separately (as in Certificate
 * Transparency, where the signed tree head carries the size), so a proof may also fold for another
 * (index, count) shape; `opId` inside the result is what identifies the op.
 */
export interface ResultProof {
  index: number;
  count: number;
  /** Sibling hashes from the leaf up to the root, lowercase hex. */
  path: Digest[];
}

const INNER = new Uint8Array([0x01]);

/** Only the committed fields, so stray properties on a wire object can't change the hash. */
export function committedResult(r: OpResult): OpResult {
  const out: OpResult = { opId: r.opId, status: r.status, value: r.value };
  if (r.reason !== undefined) out.reason = r.reason;
  return out;
}

// "\u0000" is the single byte 0x00 in UTF-8: the leaf prefix, without a second buffer.
export const resultLeafHash = (r: OpResult): Uint8Array =>
  sha256(utf8("\u0000" + RESULT_DOMAIN + "\n" + canonicalJson(committedResult(r))));

export const resultInnerHash = (left: Uint8Array, right: Uint8Array): Uint8Array =>
  sha256(concatBytes(INNER, left, right));

/** Largest power of two strictly below n (n ≥ 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** A built results tree: its root and a proof for any leaf, each proof O(log n) once built. */
export interface ResultsTree {
  readonly root: Digest;
  readonly count: number;
  prove(index: number): ResultProof;
}

/** Build the tree once (n leaf hashes + n−1 inner hashes), then prove any leaf cheaply. */
export function buildResultsTree(results: readonly OpResult[]): ResultsTree {
  const leaves = results.map(resultLeafHash);
  // Subtree hashes by (lo, hi): the recursion visits each of the 2n−1 subtrees exactly once.
  const memo = new Map<number, Uint8Array>();
  const mth = (lo: number, hi: number): Uint8Array => {
    if (hi - lo === 1) return leaves[lo]!;
    const id = lo * (leaves.length + 1) + hi;
    let h = memo.get(id);
    if (!h) {
      const k = splitPoint(hi - lo);
      h = resultInnerHash(mth(lo, lo + k), mth(lo + k, hi));
      memo.set(id, h);
    }
    return h;
  };
  const root = toHex(leaves.length === 0 ? sha256(new Uint8Array(0)) : mth(0, leaves.length));
  return {
    root,
    count: leaves.length,
    prove(index) {
      if (!Number.isInteger(index) || index < 0 || index >= leaves.length)
        throw new RangeError(`results: no leaf ${index} in a batch of ${leaves.length}`);
      const path: Digest[] = [];
      let lo = 0;
      let hi = leaves.length;
      // Walk down collecting the sibling subtree at each level, then reverse: RFC order is leaf→root.
      while (hi - lo > 1) {
        const k = splitPoint(hi - lo);
        if (index < lo + k) {
          path.push(toHex(mth(lo + k, hi)));
          hi = lo + k;
        } else {
          path.push(toHex(mth(lo, lo + k)));
          lo = lo + k;
        }
      }
      return { index, count: leaves.length, path: path.reverse() };
    },
  };
}

/** The `resultsRoot` of a batch's results. */
export const resultsRoot = (results: readonly OpResult[]): Digest => buildResultsTree(results).root;

/** A proof for every result of a batch, in batch order (what a replica stores beside a certificate). */
export function proveResults(results: readonly OpResult[]): ResultProof[] {
  const tree = buildResultsTree(results);
  return results.map((_, i) => tree.prove(i));
}

/** Fold an audit path (RFC 9162 §2.1.3.2); null if its shape doesn't fit (index, count). */
export function rootFromResultPath(
  leaf: Uint8Array,
  index: number,
  count: number,
  path: readonly string[],
): Uint8Array | null {
  if (index >= count) return null;
  let fn = index;
  let sn = count - 1;
  let r = leaf;
  for (const hex of path) {
    if (sn === 0) return null;
    const p = digestBytes(hex);
    if (fn % 2 === 1 || fn === sn) {
      r = resultInnerHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = resultInnerHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}
