/**
 * The sparse Merkle tree's `NodeStore` over a Durable Object's SQLite (`ctx.storage.sql`): one row
 * per node, the root id in a one-row table. Nodes are immutable, so the store only inserts and
 * deletes; the caller wraps each tree update (one batch) in `ctx.storage.transactionSync`, so a
 * crash in the middle of a batch leaves the previous root and every node it references intact.
 *
 * Writes are buffered for the length of one tree update (`AuthMap` calls `flush` at its end): a
 * node added and replaced within the update is never written, and the rest goes out as multi-row
 * statements — one row per node the update adds, one per node it removes, one for its retired
 * list, one for the root. What is buffered is readable at once (`get`, `copyHash`, `getRoot`).
 *
 * Memory does not grow with the number of keys: a bounded cache of nodes, and one update's buffer.
 * Ids come from a counter kept here (from `max(id)` at open), so an insert needs no `RETURNING`; ids
 * of a rolled-back batch are never handed out again, so the cache can't confuse an old node with a
 * new one. One instance per table per object: two writers would hand out the same ids.
 *
 * Versions: a retired node keeps its row and joins its version's list (sql-retired-lists.ts);
 * `collect` deletes the nodes of the lists by primary key, then the lists. Rows: sql-node-rows.ts.
 */
import {
  copyNode,
  EMPTY_NODE,
  type MerkleNode,
  type NodeId,
  type NodeStore,
} from "../../shared/certified/node-store.js";
import { SqlNodeRows } from "./sql-node-rows.js";
import { SqlRetiredLists } from "./sql-retired-lists.js";

const NAME_RE = /^[a-z][a-z0-9_]{0,30}$/;
/**
 * Nodes kept in memory, at most (the tree's hot path reads every node on the updated paths and two
 * child hashes per inner hash, mostly of nodes it just wrote or of the top levels): enough for the whole tree of ~15,000 keys, so that an update's
 * sibling hashes are rarely read from SQLite (at 10^4 keys and 4,096 nodes, 9 of the ~9 node reads
 * per update missed; none at this bound; `npm run bench:store`). ~330 bytes per node in the JS heap
 * (9.2 MiB with 24,500 cached, measured there): ~11 MiB per object at most.
 */
const NODE_CACHE_MAX = 32768;
/** Buffered new nodes, at most: past it they are written early (a bulk build adds millions). */
const PENDING_MAX = 4096;

export class SqlNodeStore implements NodeStore {
  private readonly rows: SqlNodeRows;
  private readonly retired: SqlRetiredLists;
  private nextId: NodeId;
  /** The newest version a node was retired at (retire refuses older ones), null if none is kept. */
  private lastRetired: number | null;
  private readonly cache = new Map<NodeId, MerkleNode>();
  // The buffer of the update under way (see the top of this file).
  private readonly pending = new Map<NodeId, MerkleNode>();
  private removing: NodeId[] = [];
  private retiring: NodeId[] = [];
  private retiringAt = 0;
  private pendingRoot: NodeId | null = null;

  /** `name` prefixes the tables (lowercase letters, digits, `_`): one tree per name. */
  constructor(sql: SqlStorage, name = "merkle") {
    if (!NAME_RE.test(name)) throw new Error(`SqlNodeStore: bad table name '${name}'`);
    this.rows = new SqlNodeRows(sql, name);
    this.retired = new SqlRetiredLists(sql, name);
    this.nextId = this.rows.maxId();
    this.lastRetired = this.retired.newest();
  }

  /** The tables this store keeps under `name` (to clear a whole state). */
  static tablesOf(name: string): string[] {
    return [`${name}_nodes`, `${name}_root`, `${name}_retired_at`];
  }

  /** Cached nodes (bounded by `hashCacheMax`): for tests and benchmarks. */
  get hashCacheSize(): number {
    return this.cache.size;
  }

  static readonly hashCacheMax = NODE_CACHE_MAX;

  private remember(id: NodeId, node: MerkleNode): void {
    if (this.cache.size >= NODE_CACHE_MAX) this.cache.delete(this.cache.keys().next().value as NodeId);
    this.cache.set(id, node);
  }

  /** A node written or buffered (cached on the way), undefined if there is none. */
  private read(id: NodeId): MerkleNode | undefined {
    const known = this.pending.get(id) ?? this.cache.get(id);
    if (known) return known;
    const node = this.rows.read(id);
    if (node) this.remember(id, node);
    return node;
  }

  get(id: NodeId): MerkleNode | undefined {
    return id <= 0 ? undefined : this.read(id);
  }

  add(node: MerkleNode): NodeId {
    const id = ++this.nextId;
    const own = copyNode(node); // the caller's arrays may be views into larger buffers
    this.pending.set(id, own);
    this.remember(id, own);
    if (this.pending.size >= PENDING_MAX) this.writePending();
    return id;
  }

  remove(id: NodeId): void {
    if (this.pending.delete(id)) return void this.cache.delete(id); // never written: nothing to delete
    if (id <= 0 || !this.exists(id)) throw new Error(`merkle store: remove of absent node ${id}`);
    this.cache.delete(id);
    this.removing.push(id);
  }

  retire(id: NodeId, version: number): void {
    if (this.lastRetired !== null && this.lastRetired > version)
      throw new Error("merkle store: retire at a version older than the last one");
    if (this.pending.has(id)) this.writePending(); // retired rows must exist
    if (id <= 0 || !this.exists(id)) throw new Error(`merkle store: retire of absent node ${id}`);
    if (this.retiring.length > 0 && this.retiringAt !== version) this.writeRetired();
    this.cache.delete(id);
    this.retiring.push(id);
    this.retiringAt = version;
    this.lastRetired = version;
  }

  collect(through: number): number {
    this.flush();
    // the ids parsed here and deleted by primary key, 100 to a statement: json_each in SQL reads
    // ~4 rows per id deleted (measured: 36 rows read per op at 10^4 keys), this reads one
    const ids = this.retired.idsThrough(through);
    for (const id of ids) this.cache.delete(id);
    const removed = this.rows.delete(ids);
    this.retired.drop(through);
    if (this.lastRetired !== null && this.lastRetired <= through) this.lastRetired = null;
    return removed;
  }

  get retiredCount(): number {
    this.flush();
    return this.retired.count();
  }

  copyHash(id: NodeId, out: Uint8Array, offset: number): void {
    if (id === EMPTY_NODE) {
      out.fill(0, offset, offset + 32);
      return;
    }
    const node = this.read(id);
    if (!node) throw new Error(`merkle store: missing node ${id} (corrupt store)`);
    out.set(node.hash, offset);
  }

  getRoot(): NodeId {
    return this.pendingRoot ?? this.rows.root() ?? EMPTY_NODE;
  }

  setRoot(id: NodeId): void {
    this.pendingRoot = id;
  }

  get size(): number {
    this.flush();
    return this.rows.count();
  }

  /** Write what the update buffered: new nodes, deletions, the retired list, the root. */
  flush(): void {
    this.writePending();
    if (this.rows.delete(this.removing) !== this.removing.length)
      throw new Error("merkle store: remove of absent node (corrupt store)");
    this.removing = [];
    this.writeRetired();
    if (this.pendingRoot !== null) {
      this.rows.setRoot(this.pendingRoot);
      this.pendingRoot = null;
    }
  }

  discard(): void {
    for (const id of this.pending.keys()) this.cache.delete(id);
    this.pending.clear();
    this.removing = [];
    this.retiring = [];
    this.pendingRoot = null;
  }

  private exists(id: NodeId): boolean {
    return this.cache.has(id) || this.rows.exists(id);
  }

  private writePending(): void {
    this.rows.insert(this.pending);
    this.pending.clear();
  }

  /** The buffered retired ids as one row of their version. */
  private writeRetired(): void {
    if (this.retiring.length === 0) return;
    this.retired.write(this.retiringAt, this.retiring);
    this.retiring = [];
  }
}
