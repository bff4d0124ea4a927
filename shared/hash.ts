/**
 * SHA-256, synchronous, in every runtime. @noble/hashes is the portable default (browsers, Node,
 * workerd); a server — the core benchmark, and every Durable Object under nodejs_compat
 * (durable-objects/native-sha256.ts installs it once per isolate) — installs node:crypto with
 * `useNativeSha256`, ~2× faster for the many small hashes of a Merkle tree and of every op. The
 * one-shot `crypto.hash` (Node ≥ 20.12) beats `createHash`:
 *
 * @example
 *   import * as nodeCrypto from "node:crypto";
 *   useNativeSha256((d) => {
 *     const b = nodeCrypto.hash("sha256", d, "buffer");
 *     return new Uint8Array(b.buffer, b.byteOffset, b.length);
 *   }, "node:crypto");
 */
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";

export type HashFn = (data: Uint8Array) => Uint8Array;

let impl: HashFn = nobleSha256;
let implName = "portable";

export const sha256: HashFn = (data) => impl(data);

/**
 * Install a faster synchronous SHA-256. It must be byte-identical to the default (tested).
 * `name` says which one it is (`sha256Implementation`); installing `portableSha256` restores the default.
 */
export function useNativeSha256(fn: HashFn, name = "native"): void {
  impl = fn;
  implName = fn === nobleSha256 ? "portable" : name;
}
export const portableSha256: HashFn = nobleSha256;

/** Which SHA-256 `sha256` runs: "portable" (the default) or the name it was installed under. */
export const sha256Implementation = (): string => implName;
