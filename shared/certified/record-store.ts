/**
 * Where the certified state keeps its records: one per key, the key's full record (type and
 * data-type state). Synchronous, like a Durable Object's `ctx.storage.sql`; the SQLite version is
 * `durable-objects/storage/sql-record-store.ts`, run in one `transactionSync` with the tree update.
 *
 * Versioned like the node store: a record replaced at version v (a batch seq) stays readable as
 * of older versions until `collect` passes v, so a node can serve chunks of its stable checkpoint
 * while it executes past it. A key a `delete` removed is absent from then on (its record before
 * stays readable at older versions, like any replaced record); `keyOf` still knows its hash.
 *
 * Without history (`{ history: false }`, a replica's certified state, which never serves an older
 * version): a set keeps nothing of the record before, `collect` does nothing and `getAt` throws.
 */
import { toHex } from "../bytes.js";
import type { KeyRecord } from "../materialize.js";
import { keyHashOf } from "./hashing.js";

/** What executing ops needs: read and write a key's record (undefined: remove the key). */
export interface RecordStore {
  get(key: string): KeyRecord | undefined;
  set(key: string, rec: KeyRecord | undefined): void;
}

/** A `RecordStore` over a plain Map (a removed key is deleted from it): models and tests. */
export const recordStoreOver = (map: Map<string, KeyRecord>): RecordStore => ({
  get: (k) => map.get(k),
  set: (k, rec) => void (rec === undefined ? map.delete(k) : map.set(k, rec)),
});

export interface VersionedRecordStore {
  /** The key's current record. */
  get(key: string): KeyRecord | undefined;
  /**
   * Set `key` at `version` (undefined: remove it): its record before (or its absence) stays readable
   * at versions below `version` until collected. Setting one key twice at one version keeps the
   * first "before".
   */
  setAt(key: string, rec: KeyRecord | undefined, version: number): void;
  /**
   * `setAt` for each of a batch's changed keys (distinct), at one `version`; `keyHash` is the key's
   * `keyHashOf` where the caller has it. The same result as one `setAt` each; a store may write
   * them together (SQLite: a few multi-row statements instead of two per key).
   */
  setManyAt(entries: readonly RecordEntry[], version: number): void;
  /** The key's record as of `version` (after the batch of that seq), if not collected yet. */
  getAt(key: string, version: number): KeyRecord | undefined;
  /** The key whose SHA-256 (`keyHashOf`) is `keyHash`, if a record was ever stored under it. */
  keyOf(keyHash: Uint8Array): string | undefined;
  /** Forget the "before" records replaced at versions ≤ `through`; returns how many. */
  collect(through: number): number;
  /** Number of keys. */
  readonly size: number;
}

export interface RecordEntry {
  key: string;
  /** undefined: the key is removed. */
  rec: KeyRecord | undefined;
  keyHash?: Uint8Array;
}

interface Replaced {
  key: string;
  at: number;
  before: KeyRecord | undefined;
}

export interface RecordStoreOptions {
  /** Keep the records replaced at each version for `getAt` (default true). */
  history?: boolean;
}

/** In memory: a Map per key, a hash index, and the replaced records in version order. */
export class MemoryRecordStore implements VersionedRecordStore {
  private readonly keepsHistory: boolean;
  /** Without history: the newest version set (to refuse an older one), null if none. */
  private lastAt: number | null = null;
  private records = new Map<string, KeyRecord>();
  private byHash = new Map<string, string>();
  /** key → replacements still kept, oldest first. */
  private history = new Map<string, Replaced[]>();
  /** All replacements, in version order (for collect). */
  private queue: Replaced[] = [];
  private head = 0;

  constructor(opts: RecordStoreOptions = {}) {
    this.keepsHistory = opts.history !== false;
  }

  get(key: string): KeyRecord | undefined {
    return this.records.get(key);
  }

  setManyAt(entries: readonly RecordEntry[], version: number): void {
    for (const e of entries) this.setAt(e.key, e.rec, version);
  }

  setAt(key: string, rec: KeyRecord | undefined, version: number): void {
    const last = this.queue.length > this.head ? this.queue[this.queue.length - 1]! : undefined;
    if ((last && last.at > version) || (this.lastAt !== null && this.lastAt > version))
      throw new Error("record store: set at a version older than the last one");
    if (!this.keepsHistory) this.lastAt = version;
    let list = this.history.get(key);
    if (this.keepsHistory && (!list || list[list.length - 1]!.at !== version)) {
      const r: Replaced = { key, at: version, before: this.records.get(key) };
      if (!list) this.history.set(key, (list = []));
      list.push(r);
      this.queue.push(r);
    }
    if (rec === undefined) return void this.records.delete(key);
    if (!this.records.has(key)) this.byHash.set(toHex(keyHashOf(key)), key);
    this.records.set(key, rec);
  }

  getAt(key: string, version: number): KeyRecord | undefined {
    if (!this.keepsHistory) throw new Error("record store: getAt on a store that keeps no history");
    const list = this.history.get(key);
    if (list) for (const r of list) if (r.at > version) return r.before;
    return this.records.get(key);
  }

  keyOf(keyHash: Uint8Array): string | undefined {
    return this.byHash.get(toHex(keyHash));
  }

  collect(through: number): number {
    let n = 0;
    while (this.head < this.queue.length && this.queue[this.head]!.at <= through) {
      const r = this.queue[this.head++]!;
      const list = this.history.get(r.key)!;
      list.shift(); // r is the oldest kept for its key
      if (list.length === 0) this.history.delete(r.key);
      n++;
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return n;
  }

  get size(): number {
    return this.records.size;
  }

  /** Replaced records not collected yet. */
  get historySize(): number {
    return this.queue.length - this.head;
  }

  /** An independent copy (records are never mutated in place, so sharing them is safe). */
  clone(): MemoryRecordStore {
    const c = new MemoryRecordStore({ history: this.keepsHistory });
    c.lastAt = this.lastAt;
    c.records = new Map(this.records);
    c.byHash = new Map(this.byHash);
    c.queue = this.queue.slice(this.head);
    for (const r of c.queue) {
      let list = c.history.get(r.key);
      if (!list) c.history.set(r.key, (list = []));
      list.push(r);
    }
    return c;
  }
}
