/**
 * SHA-256, synchronous, in every runtime. @noble/hashes is the portable default (browsers, Node,
 * workerd); a server may install a native implementation (node:crypto under nodejs_compat) with
 * `useNativeSha256`, which is several times faster for the many small hashes of a Merkle tree.
 */
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";

export type HashFn = (data: Uint8Array) => Uint8Array;

let impl: HashFn = nobleSha256;

export const sha256: HashFn = (data) => impl(data);

/** Install a faster synchronous SHA-256. It must be byte-identical to the default (tested). */
export function useNativeSha256(fn: HashFn): void {
  impl = fn;
}
export const portableSha256: HashFn = nobleSha256;
