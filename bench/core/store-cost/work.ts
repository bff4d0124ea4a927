/**
 * The work of `npm run bench:store` (bench/core/store-cost.ts), the same code in both hosts: inside
 * workerd over the SQLite stores (worker.ts) and in Node over the memory stores (the baseline).
 * Build a state of n keys (bulk: `AuthMap.buildPacked` and one record per key), then run batches
 * of 100 updates of distinct random existing keys as a PBFT node executes them: each batch at its
 * seq in one transaction, the tree retiring replaced nodes at the seq, every record set at the seq,
 * and every 10 batches both stores collected through seq − 10 (a stable checkpoint 10 seqs back).
 */
import { keyHashOf } from "../../../shared/certified/hashing.js";
import { AuthMap } from "../../../shared/certified/merkle-map.js";
import type { NodeStore } from "../../../shared/certified/node-store.js";
import type { VersionedRecordStore } from "../../../shared/certified/record-store.js";
import { utf8 } from "../../../shared/bytes.js";
import { sha256 } from "../../../shared/hash.js";
import type { KeyRecord } from "../../../shared/materialize.js";
import { Prng } from "../../../test/sim/prng.js";

export const BATCH = 100;
export const COLLECT_EVERY = 10;
export const CHECKPOINT_LAG = 10;

export const keyOf = (i: number): string => `bench:key:${i}`;
export const recordOf = (i: number, seq: number): KeyRecord => ({ type: "counter", state: { p: seq, n: i } });
const valueBytes = (i: number, seq: number) => utf8(`${i}@${seq}`);

/** Build n keys at seq 0: the tree in bulk, and `loadRecord` for each key. Returns the map. */
export function buildState(
  n: number,
  nodes: NodeStore,
  loadRecord: (key: string, rec: KeyRecord) => void,
  transaction: <T>(fn: () => T) => T,
): AuthMap {
  const keyHashes = new Uint8Array(n * 32);
  const valueHashes = new Uint8Array(n * 32);
  for (let i = 0; i < n; i++) {
    keyHashes.set(keyHashOf(keyOf(i)), i * 32);
    valueHashes.set(sha256(valueBytes(i, 0)), i * 32);
  }
  const map = transaction(() => AuthMap.buildPacked(keyHashes, valueHashes, nodes));
  // Records in transactions of 10,000 (one huge one would hold its whole journal).
  for (let lo = 0; lo < n; lo += 10_000)
    transaction(() => {
      for (let i = lo; i < Math.min(n, lo + 10_000); i++) loadRecord(keyOf(i), recordOf(i, 0));
    });
  return map;
}

export interface BatchRun {
  ops: number;
  ms: number;
  hashes: number;
  /** The next seq to run. */
  nextSeq: number;
}

/** `batches` batches of BATCH updates from `seq` on (see the top of this file). */
export function runBatches(
  map: AuthMap,
  nodes: NodeStore,
  records: VersionedRecordStore,
  n: number,
  seq: number,
  batches: number,
  transaction: <T>(fn: () => T) => T,
): BatchRun {
  const rng = new Prng(seq * 7919 + n);
  const hashes0 = map.hashCount;
  let ops = 0;
  const t0 = performance.now();
  for (let b = 0; b < batches; b++, seq++) {
    const picked = new Set<number>();
    while (picked.size < Math.min(BATCH, n)) picked.add(rng.int(0, n - 1));
    const s = seq;
    transaction(() => {
      map.retireAt = s;
      map.setMany([...picked].map((i) => [keyOf(i), valueBytes(i, s)] as const));
      records.setManyAt([...picked].map((i) => ({ key: keyOf(i), rec: recordOf(i, s) })), s);
      if (s % COLLECT_EVERY === 0 && s > CHECKPOINT_LAG) {
        nodes.collect(s - CHECKPOINT_LAG);
        records.collect(s - CHECKPOINT_LAG);
      }
    });
    ops += picked.size;
  }
  return { ops, ms: performance.now() - t0, hashes: map.hashCount - hashes0, nextSeq: seq };
}

/** Per-op figures of one host at one size. */
export interface CostResult {
  host: string;
  keys: number;
  buildMs: number;
  ops: number;
  usPerOp: number;
  hashesPerOp: number;
  /** SQLite only: rows read and written per op, by the node store and by the record store. */
  rows?: { nodesRead: number; nodesWritten: number; recordsRead: number; recordsWritten: number };
  /** Stored node rows (current + retired) and retired ones, after the run. */
  nodeRows: number;
  retired: number;
  /** SQLite only: the database's size in bytes; the node store's hash-cache entries. */
  dbBytes?: number;
  hashCache?: number;
  /** SQLite only: each statement's executions, rows read and written, per op. */
  statements?: { sql: string; perOp: number; readPerOp: number; writtenPerOp: number }[];
}
