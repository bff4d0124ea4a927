/**
 * SHA-256, synchronous, in every runtime. @noble/hashes is the portable default (browsers, Node,
 * workerd); a server — the core benchmark, and the PBFT node and replica DOs under nodejs_compat —
 * should install node:crypto with `useNativeSha256`, ~2× faster for the many small hashes of a
 * Merkle tree and of every op. The one-shot `crypto.hash` (Node ≥ 20.12) beats `createHash`:
 *
 * @example
 *   import * as nodeCrypto from "node:crypto";
 *   useNativeSha256((d) => {
 *     const b = nodeCrypto.hash("sha256", d, "buffer");
 *     return new Uint8Array(b.buffer, b.byteOffset, b.length);
 *   });
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
