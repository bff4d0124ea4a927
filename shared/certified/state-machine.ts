/**
 * The certified state machine the PBFT nodes run: executes committed batches in sequence order and
 * commits to the result with a state root (sparse Merkle tree over every key) and a results root
 * (Merkle tree over the batch's results). Deterministic: the same batches in the same order give
 * the same roots on every node and every replica.
 */
import type { KeyRecord } from "../materialize.js";
import type { SignedOp } from "../ops.js";
import { executeOps, recordValueBytes, stateValueOf, type RecordStore } from "./execute.js";
import { sha256 } from "../hash.js";
import { keyHashOf } from "./hashing.js";
import { AuthMap, type HashedEntry } from "./merkle-map.js";
import type { NodeStore } from "./node-store.js";
import type { StateProof, StateValue } from "./proofs.js";
import { buildResultsTree } from "./results.js";
import { decodeSnapshot, encodeSnapshot } from "./snapshot.js";
import type {
  BatchExecution,
  CertifiedStateMachine,
  Digest,
  StateMachineFactory,
  StateSnapshot,
} from "./types.js";

/** A key's certified value with the proof that goes with it against the current state root. */
export interface KeyProof {
  key: string;
  /** `{type, value, stateHash}`, or null when the key is absent. */
  value: StateValue | null;
  proof: StateProof;
}

const KEY_HASH_CACHE_MAX = 65_536;

export class MerkleStateMachine implements CertifiedStateMachine {
  private readonly records: Map<string, KeyRecord>;
  private readonly map: AuthMap;

  /** Start empty, or from a snapshot (validated; throws if malformed). `store` must be empty. */
  constructor(snapshot?: StateSnapshot, store?: NodeStore) {
    this.records = snapshot === undefined ? new Map() : decodeSnapshot(snapshot);
    this.map = buildStateMap(this.records, store);
  }

  execute(ops: readonly SignedOp[]): BatchExecution {
    const records = this.records;
    const store: RecordStore = { get: (k) => records.get(k), set: (k, r) => void records.set(k, r) };
    const { results, changed } = executeOps(store, ops);
    // One tree update per batch over the changed keys (not per op): each node on their paths is
    // rehashed once.
    const entries: HashedEntry[] = [];
    for (const [key, rec] of changed)
      entries.push({ keyHash: this.keyHashOf(key), valueHash: sha256(recordValueBytes(rec)) });
    this.map.setManyHashed(entries);
    return { results, stateRoot: this.map.root(), resultsRoot: buildResultsTree(results).root };
  }

  /** Key hashes of recently changed keys (bounded, oldest out): a hot key is hashed once. */
  private readonly keyHashes = new Map<string, Uint8Array>();

  private keyHashOf(key: string): Uint8Array {
    let h = this.keyHashes.get(key);
    if (h === undefined) {
      if (this.keyHashes.size >= KEY_HASH_CACHE_MAX)
        this.keyHashes.delete(this.keyHashes.keys().next().value as string);
      this.keyHashes.set(key, (h = keyHashOf(key)));
    }
    return h;
  }

  stateRoot(): Digest {
    return this.map.root();
  }

  snapshot(): StateSnapshot {
    return encodeSnapshot(this.records);
  }

  /** A key's record (read-only: don't mutate it). */
  get(key: string): KeyRecord | undefined {
    return this.records.get(key);
  }

  get size(): number {
    return this.records.size;
  }

  /** The key's certified `{type, value, stateHash}` (or null) with its proof against `stateRoot()`. */
  proveKey(key: string): KeyProof {
    const rec = this.records.get(key);
    return { key, value: rec ? stateValueOf(rec) : null, proof: this.map.prove(key) };
  }

  /** Tree hashes computed so far (benchmarks). */
  get hashCount(): number {
    return this.map.hashCount;
  }
}

/** The factory the PBFT core is given. */
export const merkleStateMachines: StateMachineFactory = {
  create: (snapshot?: StateSnapshot) => new MerkleStateMachine(snapshot),
};

/** Build the state tree over a set of records (a bulk build: 2n − 1 tree hashes). */
export function buildStateMap(records: Iterable<readonly [string, KeyRecord]>, store?: NodeStore): AuthMap {
  function* entries(): Iterable<readonly [string, Uint8Array]> {
    for (const [k, r] of records) yield [k, recordValueBytes(r)];
  }
  return AuthMap.fromEntries(entries(), store);
}

/**
 * The state root of any set of certified records, from scratch. A replica calls this (or keeps an
 * `AuthMap` updated with `recordValueBytes`) to compare its certified state with a certificate's
 * `stateRoot`: it is the same hashing code the PBFT nodes run.
 */
export const computeStateRoot = (records: Iterable<readonly [string, KeyRecord]>): Digest =>
  buildStateMap(records).root();
