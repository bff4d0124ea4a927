/**
 * node:crypto's SHA-256 for every Durable Object (nodejs_compat): imported for its effect by each
 * Durable Object module (EdgeReplica, PbftNode, Directory), so it is installed once per isolate,
 * before any object of it runs, whichever class the isolate loads first. The certified state's
 * Merkle tree and every op id hash through `shared/hash.ts`, which is otherwise the portable
 * @noble one (several times slower per small hash). Byte-identical: test/unit/crypto/hash-native.test.ts,
 * and in workerd test/runtime/native-sha256.test.ts.
 */
import * as nodeCrypto from "node:crypto";
import { useNativeSha256, type HashFn } from "../shared/hash.js";

/** The name `sha256Implementation()` reports once this module ran. */
export const NATIVE_SHA256 = "node:crypto";

// The one-shot `hash` (no Hash object per call) where the runtime has it, `createHash` otherwise.
const oneShot = (nodeCrypto as { hash?: (alg: string, d: Uint8Array, enc: "buffer") => Buffer }).hash;
const digest = oneShot
  ? (d: Uint8Array) => oneShot("sha256", d, "buffer")
  : (d: Uint8Array) => nodeCrypto.createHash("sha256").update(d).digest();
/** A Uint8Array of its own 32 bytes: a view into a pooled buffer would bind the pool into SQLite. */
const native: HashFn = (d) => {
  const b = digest(d);
  return b.byteOffset === 0 && b.buffer.byteLength === 32
    ? new Uint8Array(b.buffer, 0, 32)
    : new Uint8Array(b);
};

useNativeSha256(native, NATIVE_SHA256);
