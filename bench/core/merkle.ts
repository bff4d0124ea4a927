/**
 * Benchmark of the certified state's sparse Merkle tree: bulk build, incremental updates and proof
 * size at 10^4, 10^5 and 10^6 keys. Hashes per update and proof siblings should track log2(n).
 *
 *   npx tsx bench/core/merkle.ts          (alone)   — or through bench/core/run.ts
 */
import * as nodeCrypto from "node:crypto";
import { pathToFileURL } from "node:url";
import { canonicalJson } from "../../shared/canonical.js";
import {
  keyHashOf,
  recordStateHash,
  stateValueBytes,
  stateValueHash,
  type StateValue,
} from "../../shared/certified/hashing.js";
import { AuthMap } from "../../shared/certified/merkle-map.js";
import { verifyStateProof } from "../../shared/certified/proofs.js";
import { portableSha256, useNativeSha256 } from "../../shared/hash.js";

const SIZES = [1e4, 1e5, 1e6];
const UPDATES = 20_000;
const PROOFS = 2_000;

/** xorshift32: a fixed sequence of keys to touch, the same every run. */
function prng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const keyOf = (i: number) => `bench:key:${i}`;

interface Row {
  keys: number;
  log2n: number;
  buildS: number;
  updatesPerS: number;
  usPerUpdate: number;
  hashesPerUpdate: number;
  proofSiblings: number;
  proofBytes: number;
  verifyUs: number;
}

/** A counter's committed content (a counter's state is its value). */
const counterValue = (n: number): StateValue => ({
  type: "counter",
  value: n,
  stateHash: recordStateHash(n),
});

function measure(n: number, updates = UPDATES, proofs = PROOFS): Row {
  let t = performance.now();
  const keyHashes = new Uint8Array(n * 32);
  const valueHashes = new Uint8Array(n * 32);
  for (let i = 0; i < n; i++) {
    keyHashes.set(keyHashOf(keyOf(i)), i * 32);
    valueHashes.set(stateValueHash(counterValue(i)), i * 32);
  }
  const map = AuthMap.buildPacked(keyHashes, valueHashes);
  const buildS = (performance.now() - t) / 1000;

  // Updates of random existing keys, each with its key and value hashing (what execute() pays).
  const rnd = prng(n);
  const touched = Array.from({ length: updates }, () => Math.floor(rnd() * n));
  const hashesBefore = map.hashCount;
  t = performance.now();
  for (let u = 0; u < updates; u++) map.set(keyOf(touched[u]!), stateValueBytes(counterValue(-u - 1)));
  const updateMs = performance.now() - t;
  const treeHashes = (map.hashCount - hashesBefore) / updates;

  const latest = new Map<number, number>(); // key index → its value after the updates
  touched.forEach((i, u) => latest.set(i, -u - 1));
  const root = map.root();
  let siblings = 0;
  let bytes = 0;
  let verifyMs = 0;
  for (let p = 0; p < proofs; p++) {
    const i = Math.floor(rnd() * n);
    const proof = map.prove(keyOf(i));
    siblings += proof.siblings.filter((s) => s !== null).length;
    bytes += canonicalJson(proof).length;
    const expected = counterValue(latest.get(i) ?? i);
    const tv = performance.now();
    const ok = verifyStateProof(root, keyOf(i), expected, proof);
    verifyMs += performance.now() - tv;
    if (!ok) throw new Error(`bench: proof for key ${i} failed to verify`);
  }
  return {
    keys: n,
    log2n: Math.log2(n),
    buildS,
    updatesPerS: (updates / updateMs) * 1000,
    usPerUpdate: (updateMs * 1000) / updates,
    hashesPerUpdate: treeHashes + 2, // + key hash + value hash
    proofSiblings: siblings / proofs,
    proofBytes: bytes / proofs,
    verifyUs: (verifyMs * 1000) / proofs,
  };
}

function print(title: string, rows: Row[]): void {
  console.log(`\n${title}`);
  console.table(
    rows.map((r) => ({
      keys: r.keys,
      "log2(n)": r.log2n.toFixed(1),
      "build s": r.buildS.toFixed(2),
      "updates/s": Math.round(r.updatesPerS),
      "µs/update": r.usPerUpdate.toFixed(1),
      "hashes/update": r.hashesPerUpdate.toFixed(1),
      "proof hashes": r.proofSiblings.toFixed(1),
      "proof bytes": Math.round(r.proofBytes),
      "µs/hash": (r.usPerUpdate / r.hashesPerUpdate).toFixed(2),
      "verify µs": r.verifyUs.toFixed(1),
    })),
  );
}

/** Print the Merkle benchmark table (portable SHA-256, then node:crypto for comparison at 10^5). */
export async function runMerkleBench(): Promise<void> {
  console.log(
    `merkle: sparse Merkle tree (compressed leaves), ${UPDATES} random updates and ${PROOFS} proofs per size; ` +
      "hashes/update = tree hashes + key hash + value hash",
  );
  measure(2_000, 5_000, 500); // warm the JIT so the first size isn't charged for compilation
  print(
    "portable SHA-256 (@noble/hashes)",
    SIZES.map((n) => measure(n)),
  );
  // crypto.hash (Node ≥ 20.12) is a one-shot call, cheaper than createHash for 65-byte inputs.
  const native =
    typeof nodeCrypto.hash === "function"
      ? (d: Uint8Array) => new Uint8Array(nodeCrypto.hash("sha256", d, "buffer"))
      : (d: Uint8Array) => new Uint8Array(nodeCrypto.createHash("sha256").update(d).digest());
  useNativeSha256(native);
  try {
    print("native SHA-256 (node:crypto)", [measure(1e5)]);
  } finally {
    useNativeSha256(portableSha256);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runMerkleBench();
