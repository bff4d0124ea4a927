/**
 * The certified state machine the PBFT nodes (and the edge replicas' certified state) run: executes
 * committed batches in sequence order over records and tree nodes kept in stores, and commits to
 * the result with a state root (sparse Merkle tree over every key, executed-ids records included)
 * and a results root (Merkle tree over the batch's results). Deterministic: the same batches in the
 * same order give the same roots on every node and every replica. Memory does not grow with keys:
 * everything per key is in the stores (SQLite in a Durable Object), only bounded caches are here.
 *
 * State transfer (docs/architecture.md, "Checkpoints and state transfer"): a checkpoint is named by
 * its root; a lagging node fetches the subtrees it lacks in chunks, each checked against the hash
 * its parent committed to, and adopts them at once when all are in.
 */
import { bytesEqual, toHex, utf8Length } from "../bytes.js";
import { canonicalJson } from "../canonical.js";
import { isTypeName, type TypeName } from "../datatypes/index.js";
import { sha256 } from "../hash.js";
import { keyProblem } from "../kv-key.js";
import type { KeyRecord } from "../materialize.js";
import { NAMESPACE_POLICY, type NamespacePolicy } from "../namespaces/policy.js";
import type { SignedOp } from "../ops.js";
import {
  EMPTY_ENTRY,
  EXECUTED_TYPE,
  entryAdd,
  entryHas,
  executedKey,
  isExecutedEntry,
  isExecutedKey,
  type ExecutedEntry,
} from "./executed.js";
import { executeOps, recordValueBytes, stateValueOf, type RecordStore } from "./execute.js";
import { EMPTY_HASH, digestBytes, innerHash, isDigestHex, keyHashOf } from "./hashing.js";
import { AuthMap, hasPrefix, subtreeHashOf, type HashedEntry } from "./merkle-map.js";
import { EMPTY_NODE, MemoryNodeStore, type NodeStore } from "./node-store.js";
import type { StateProof, StateValue } from "./proofs.js";
import { MemoryRecordStore, type RecordEntry, type VersionedRecordStore } from "./record-store.js";
import { buildResultsTree } from "./results.js";
import type {
  BatchExecution,
  CertifiedStateMachine,
  ChunkCheck,
  ChunkLimits,
  ChunkRecord,
  Digest,
  StateChunk,
  StateHandle,
} from "./types.js";

/** A key's certified value with the proof that goes with it against the current state root. */
export interface KeyProof {
  key: string;
  /** `{type, value, stateHash}`, or null when the key is absent. */
  value: StateValue | null;
  proof: StateProof;
}

/** Where the certified state lives. */
export interface CertifiedStores {
  records: VersionedRecordStore;
  nodes: NodeStore;
}

export const memoryStores = (): { records: MemoryRecordStore; nodes: MemoryNodeStore } => ({
  records: new MemoryRecordStore(),
  nodes: new MemoryNodeStore(),
});

const KEY_HASH_CACHE_MAX = 8192;
/** The deepest path a chunk can name: one bit per level of a SHA-256 key hash. */
const PATH_MAX = 256;
const PATH_RE = /^[01]*$/;

/** An executed-ids record as the record store keeps it (not a data type: see executed.ts). */
const executedRecord = (e: ExecutedEntry): KeyRecord => ({ type: EXECUTED_TYPE as TypeName, state: e });

export class MerkleStateMachine implements CertifiedStateMachine {
  readonly map: AuthMap;

  /**
   * Continue from whatever the stores hold (empty stores: the empty state). `policy`: which
   * unclaimed namespaces are open; it decides results, so every node and replica must run the same.
   */
  constructor(
    readonly stores: CertifiedStores = memoryStores(),
    readonly policy: NamespacePolicy = NAMESPACE_POLICY,
  ) {
    this.map = new AuthMap(stores.nodes);
  }

  /**
   * `proposed`: objects shaped like signed ops (the only entries the PBFT envelope parser admits).
   * `policy`: this machine's unless a host that learns the configuration per batch (a replica's
   * follower) gives the one the batch's certificate was checked against.
   */
  execute(
    proposed: readonly SignedOp[],
    version: number,
    policy: NamespacePolicy = this.policy,
  ): BatchExecution {
    // Dedupe by op id: ops executed in earlier batches (any view, any node) and repeats within the batch.
    const entries = new Map<string, ExecutedEntry>();
    const ops: SignedOp[] = [];
    for (const op of proposed) {
      // An op id that is not one (a shape the order must still decide): executed, and rejected
      // as invalid_op, but not recorded, so executed-ids records only ever hold valid ids.
      if (typeof op.client !== "string" || !Number.isSafeInteger(op.seq) || op.seq < 1) {
        ops.push(op);
        continue;
      }
      const e = entries.get(op.client) ?? this.executedEntry(op.client);
      if (entryHas(e, op.seq)) continue;
      entries.set(op.client, entryAdd(e, op.seq));
      ops.push(op);
    }
    const records = this.stores.records;
    // undefined in the overlay: removed in this batch (so `has`, not `??`)
    const overlay = new Map<string, KeyRecord | undefined>();
    const store: RecordStore = {
      get: (k) => (overlay.has(k) ? overlay.get(k) : records.get(k)),
      set: (k, r) => void overlay.set(k, r),
    };
    const { results, changed } = executeOps(store, ops, policy);
    for (const [client, e] of entries) changed.set(executedKey(client), executedRecord(e));
    // One tree update per batch over the changed keys (not per op): each node on their paths is
    // rehashed once; replaced nodes and records stay readable for older versions until collected.
    const hashed: HashedEntry[] = [];
    const removed: Uint8Array[] = [];
    const written: RecordEntry[] = [];
    for (const [key, rec] of changed) {
      const keyHash = this.keyHashOf(key);
      written.push({ key, rec, keyHash });
      if (rec === undefined) removed.push(keyHash);
      else hashed.push({ keyHash, valueHash: sha256(recordValueBytes(rec)) });
    }
    records.setManyAt(written, version);
    this.map.retireAt = version;
    this.map.setManyHashed(hashed);
    // keys a delete removed leave the tree: the root is the one of a state that never held them
    for (const keyHash of removed) this.map.deleteHashed(keyHash);
    return { ops, results, stateRoot: this.map.root(), resultsRoot: buildResultsTree(results).root };
  }

  hasExecuted(op: Pick<SignedOp, "client" | "seq">): boolean {
    return entryHas(this.executedEntry(op.client), op.seq);
  }

  private executedEntry(client: string): ExecutedEntry {
    const rec = this.stores.records.get(executedKey(client));
    return rec ? (rec.state as ExecutedEntry) : EMPTY_ENTRY;
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

  handle(): StateHandle {
    return { root: this.map.root(), node: this.stores.nodes.getRoot() };
  }

  collect(through: number): void {
    this.stores.nodes.collect(through);
    this.stores.records.collect(through);
  }

  /** A user key's record (read-only: don't mutate it). */
  get(key: string): KeyRecord | undefined {
    return isExecutedKey(key) ? undefined : this.stores.records.get(key);
  }

  /** Number of records (user keys and one executed-ids record per client). */
  get size(): number {
    return this.stores.records.size;
  }

  /** The key's certified `{type, value, stateHash}` (or null) with its proof against `stateRoot()`. */
  proveKey(key: string): KeyProof {
    const rec = this.get(key);
    return { key, value: rec ? stateValueOf(rec) : null, proof: this.map.prove(key) };
  }

  /** Tree hashes computed so far (benchmarks). */
  get hashCount(): number {
    return this.map.hashCount;
  }

  // --- state transfer ------------------------------------------------------------------------

  serveChunk(h: StateHandle, version: number, path: string, limits: ChunkLimits): StateChunk {
    const id = this.map.subtreeAt(path, h.node);
    if (id === EMPTY_NODE) return { records: [] };
    const kids = this.map.childHashes(id);
    const split = (): StateChunk => ({ split: [toHex(kids![0]), toHex(kids![1])] });
    const leaves = this.map.leavesUnder(id, Math.max(1, limits.records));
    if (leaves === null) return split();
    const out: ChunkRecord[] = [];
    let bytes = 0;
    for (const leaf of leaves) {
      const key = this.stores.records.keyOf(leaf.keyHash);
      const rec = key === undefined ? undefined : this.stores.records.getAt(key, version);
      if (key === undefined || rec === undefined) throw new Error("state machine: a leaf without its record");
      const item: ChunkRecord = [key, rec.type, rec.state as ChunkRecord[2]];
      bytes += utf8Length(canonicalJson(item));
      if (bytes > limits.bytes && kids) return split();
      out.push(item);
    }
    return { records: out };
  }

  hashAt(path: string): Digest {
    return toHex(this.map.hashAt(path));
  }

  checkChunk(path: string, expected: Digest, chunk: StateChunk): ChunkCheck {
    if (typeof path !== "string" || !PATH_RE.test(path) || path.length > PATH_MAX || !isDigestHex(expected))
      return { ok: false, reason: "bad_path" };
    if (typeof chunk !== "object" || chunk === null) return { ok: false, reason: "bad_chunk" };
    const want = digestBytes(expected);
    if (bytesEqual(want, EMPTY_HASH)) return { ok: false, reason: "empty_subtree" };
    if ("split" in chunk) {
      const split: unknown = chunk.split;
      if (!Array.isArray(split) || split.length !== 2 || path.length >= PATH_MAX)
        return { ok: false, reason: "bad_split" };
      const [l, r] = split as unknown[];
      if (!isDigestHex(l) || !isDigestHex(r)) return { ok: false, reason: "bad_split" };
      if (!bytesEqual(innerHash(digestBytes(l), digestBytes(r)), want))
        return { ok: false, reason: "split_hash" };
      // Empty halves too: a node with a key where the checkpoint has none must see it (and refuse).
      return {
        ok: true,
        children: [
          [path + "0", l],
          [path + "1", r],
        ],
      };
    }
    if (!("records" in chunk) || !Array.isArray(chunk.records)) return { ok: false, reason: "bad_chunk" };
    const seen = new Set<string>();
    const entries: HashedEntry[] = [];
    for (const item of chunk.records) {
      const rec = chunkRecord(item);
      if (rec === null || seen.has(item[0])) return { ok: false, reason: "bad_record" };
      seen.add(item[0]);
      const keyHash = keyHashOf(item[0]);
      if (!hasPrefix(keyHash, path)) return { ok: false, reason: "record_off_path" };
      let valueHash: Uint8Array;
      try {
        valueHash = sha256(recordValueBytes(rec));
      } catch {
        return { ok: false, reason: "bad_record" };
      }
      entries.push({ keyHash, valueHash });
    }
    if (!bytesEqual(subtreeHashOf(entries, path.length), want)) return { ok: false, reason: "records_hash" };
    return { ok: true, records: chunk.records };
  }

  /**
   * The user keys this state holds under a tree path (an adopted subtree replaces them: one that the
   * checkpoint lacks is removed, so a replica rebuilds its tentative record too).
   */
  keysUnder(path: string): string[] {
    const out: string[] = [];
    for (const l of this.map.leavesUnder(this.map.subtreeAt(path), Number.MAX_SAFE_INTEGER) ?? []) {
      const key = this.stores.records.keyOf(l.keyHash);
      if (key !== undefined && !isExecutedKey(key)) out.push(key);
    }
    return out;
  }

  adopt(staged: readonly [string, ChunkRecord[]][], version: number): Digest | null {
    const records = this.stores.records;
    const changes: { key: string; rec: KeyRecord; entry: HashedEntry }[] = [];
    const removals: { key: string; keyHash: Uint8Array }[] = [];
    for (const [path, items] of staged) {
      // this node's leaves under the path, by key hash (their value hashes tell what is unchanged)
      const local = new Map<string, { keyHash: Uint8Array; valueHash: Uint8Array }>();
      for (const l of this.map.leavesUnder(this.map.subtreeAt(path), Number.MAX_SAFE_INTEGER)!)
        local.set(toHex(l.keyHash), l);
      for (const item of items) {
        const rec = chunkRecord(item)!; // checked by checkChunk
        const keyHash = keyHashOf(item[0]);
        const valueHash = sha256(recordValueBytes(rec));
        const hex = toHex(keyHash);
        const mine = local.get(hex)?.valueHash;
        local.delete(hex);
        // unchanged since this node's state: nothing to write
        if (mine === undefined || !bytesEqual(mine, valueHash))
          changes.push({ key: item[0], rec, entry: { keyHash, valueHash } });
      }
      // a key the checkpoint lacks was deleted since (a `delete` removes a key): it goes too
      for (const l of local.values()) {
        const key = this.stores.records.keyOf(l.keyHash);
        if (key === undefined) return null; // a leaf without its record: this state is not sound
        removals.push({ key, keyHash: l.keyHash });
      }
    }
    records.setManyAt(
      [
        ...changes.map((c) => ({ key: c.key, rec: c.rec, keyHash: c.entry.keyHash })),
        ...removals.map((r) => ({ key: r.key, rec: undefined, keyHash: r.keyHash })),
      ],
      version,
    );
    const hashed: HashedEntry[] = changes.map((c) => c.entry);
    this.map.retireAt = version;
    this.map.setManyHashed(hashed);
    for (const r of removals) this.map.deleteHashed(r.keyHash);
    return this.map.root();
  }
}

/** A chunk's record as a `KeyRecord`, or null if malformed (the hash check comes after). */
function chunkRecord(item: unknown): KeyRecord | null {
  if (!Array.isArray(item) || item.length !== 3 || typeof item[0] !== "string" || typeof item[1] !== "string")
    return null;
  const [key, type, state] = item as [string, string, unknown];
  if (isExecutedKey(key))
    return type === EXECUTED_TYPE && isExecutedEntry(state) ? executedRecord(state) : null;
  if (keyProblem(key) !== null || !isTypeName(type)) return null;
  return { type, state };
}

/** Build the state tree over a set of records (a bulk build: 2n − 1 tree hashes). */
export function buildStateMap(records: Iterable<readonly [string, KeyRecord]>, store?: NodeStore): AuthMap {
  function* entries(): Iterable<readonly [string, Uint8Array]> {
    for (const [k, r] of records) yield [k, recordValueBytes(r)];
  }
  return AuthMap.fromEntries(entries(), store ?? new MemoryNodeStore());
}
