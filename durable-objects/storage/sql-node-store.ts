/**
 * The sparse Merkle tree's `NodeStore` over a Durable Object's SQLite (`ctx.storage.sql`): one row
 * per node, the root id in a one-row table. Nodes are immutable, so the store only inserts and
 * deletes; the caller wraps each tree update (one batch) in `ctx.storage.transactionSync`, so a
 * crash in the middle of a batch leaves the previous root and every node it references intact.
 *
 * Memory does not grow with the number of keys: the only cache is a bounded one of node hashes
 * (the tree's hot path reads two child hashes per inner hash, mostly of nodes it just wrote or of
 * the top levels). Ids come from a counter kept here (loaded from `max(id)` at open), so an insert
 * needs no `RETURNING`; ids of a rolled-back batch are never handed out again by this instance, so
 * the cache can't confuse an old node with a new one. One instance per table per object: two
 * writers over one table would hand out the same ids. Several trees can share one database under
 * different `name`s (table prefixes).
 *
 * Versions (`retire`/`collect`): a retired node keeps its row, and a side table `<name>_retired`
 * `(at, id)` (primary key in that order, so `collect` is one range over it) says when it left the
 * state. Retiring costs one row written; `collect` is two statements whatever the count. The hash
 * cache holds only nodes that are part of the current state: `retire` and `remove` evict, and ids
 * are never reused, so a retired node can't come back into it and `collect` has nothing to evict.
 */
import {
  EMPTY_NODE,
  type MerkleNode,
  type NodeId,
  type NodeStore,
} from "../../shared/certified/node-store.js";

const INNER = 1;
const LEAF = 2;
const NAME_RE = /^[a-z][a-z0-9_]{0,30}$/;
/** Node hashes kept in memory, at most (32 bytes + a map entry each: under 1 MB). */
const HASH_CACHE_MAX = 8192;

interface NodeRow extends Record<string, SqlStorageValue> {
  kind: number;
  left: number | null;
  right: number | null;
  hash: ArrayBuffer;
  key_hash: ArrayBuffer | null;
  value_hash: ArrayBuffer | null;
}

export class SqlNodeStore implements NodeStore {
  private readonly nodes: string;
  private readonly roots: string;
  private readonly retired: string;
  private nextId: NodeId;
  /** The newest version a node was retired at (retire refuses older ones), null if none is kept. */
  private lastRetired: number | null;
  private readonly hashes = new Map<NodeId, Uint8Array>();

  /** `name` prefixes the two tables (lowercase letters, digits, `_`): one tree per name. */
  constructor(
    private readonly sql: SqlStorage,
    name = "merkle",
  ) {
    if (!NAME_RE.test(name)) throw new Error(`SqlNodeStore: bad table name '${name}'`);
    this.nodes = `${name}_nodes`;
    this.roots = `${name}_root`;
    this.retired = `${name}_retired`;
    sql.exec(
      `CREATE TABLE IF NOT EXISTS ${this.nodes} (id INTEGER PRIMARY KEY, kind INTEGER NOT NULL,` +
        ` left INTEGER, right INTEGER, hash BLOB NOT NULL, key_hash BLOB, value_hash BLOB);` +
        `CREATE TABLE IF NOT EXISTS ${this.roots} (one INTEGER PRIMARY KEY CHECK (one = 1), id INTEGER NOT NULL);` +
        `CREATE TABLE IF NOT EXISTS ${this.retired} (at INTEGER NOT NULL, id INTEGER NOT NULL,` +
        ` PRIMARY KEY (at, id)) WITHOUT ROWID;`,
    );
    this.nextId = sql.exec<{ m: number | null }>(`SELECT max(id) AS m FROM ${this.nodes}`).one().m ?? 0;
    this.lastRetired = sql.exec<{ m: number | null }>(`SELECT max(at) AS m FROM ${this.retired}`).one().m;
  }

  /** Hash-cache entries (bounded by `hashCacheMax`): for tests and benchmarks. */
  get hashCacheSize(): number {
    return this.hashes.size;
  }

  static readonly hashCacheMax = HASH_CACHE_MAX;

  private remember(id: NodeId, hash: Uint8Array): void {
    if (this.hashes.size >= HASH_CACHE_MAX) this.hashes.delete(this.hashes.keys().next().value as NodeId);
    this.hashes.set(id, hash);
  }

  get(id: NodeId): MerkleNode | undefined {
    if (id <= 0) return undefined;
    const row = this.sql
      .exec<NodeRow>(
        `SELECT kind, left, right, hash, key_hash, value_hash FROM ${this.nodes} WHERE id = ?`,
        id,
      )
      .toArray()[0];
    if (!row) return undefined;
    const hash = new Uint8Array(row.hash);
    if (row.kind === INNER && row.left !== null && row.right !== null)
      return { kind: "inner", left: row.left, right: row.right, hash };
    if (row.kind === LEAF && row.key_hash !== null && row.value_hash !== null)
      return {
        kind: "leaf",
        keyHash: new Uint8Array(row.key_hash),
        valueHash: new Uint8Array(row.value_hash),
        hash,
      };
    return undefined;
  }

  add(node: MerkleNode): NodeId {
    const id = ++this.nextId;
    if (node.kind === "inner")
      this.sql.exec(
        `INSERT INTO ${this.nodes} (id, kind, left, right, hash) VALUES (?, ?, ?, ?, ?)`,
        id,
        INNER,
        node.left,
        node.right,
        node.hash,
      );
    else
      this.sql.exec(
        `INSERT INTO ${this.nodes} (id, kind, hash, key_hash, value_hash) VALUES (?, ?, ?, ?, ?)`,
        id,
        LEAF,
        node.hash,
        node.keyHash,
        node.valueHash,
      );
    this.remember(id, node.hash.slice());
    return id;
  }

  remove(id: NodeId): void {
    this.hashes.delete(id);
    const cur = this.sql.exec(`DELETE FROM ${this.nodes} WHERE id = ?`, id);
    if (cur.rowsWritten === 0) throw new Error(`merkle store: remove of absent node ${id}`);
  }

  retire(id: NodeId, version: number): void {
    if (this.lastRetired !== null && this.lastRetired > version)
      throw new Error("merkle store: retire at a version older than the last one");
    this.hashes.delete(id);
    // Inserted only if the node exists: one statement reads the node's key and writes one row.
    const cur = this.sql.exec(
      `INSERT INTO ${this.retired} (at, id) SELECT ?, id FROM ${this.nodes} WHERE id = ?`,
      version,
      id,
    );
    if (cur.rowsWritten === 0) throw new Error(`merkle store: retire of absent node ${id}`);
    this.lastRetired = version;
  }

  collect(through: number): number {
    this.sql.exec(
      `DELETE FROM ${this.nodes} WHERE id IN (SELECT id FROM ${this.retired} WHERE at <= ?)`,
      through,
    );
    // The side table has no secondary index: rows written is the number of rows deleted.
    const removed = this.sql.exec(`DELETE FROM ${this.retired} WHERE at <= ?`, through).rowsWritten;
    if (this.lastRetired !== null && this.lastRetired <= through) this.lastRetired = null;
    return removed;
  }

  get retiredCount(): number {
    return this.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${this.retired}`).one().n;
  }

  copyHash(id: NodeId, out: Uint8Array, offset: number): void {
    if (id === EMPTY_NODE) {
      out.fill(0, offset, offset + 32);
      return;
    }
    const cached = this.hashes.get(id);
    if (cached) {
      out.set(cached, offset);
      return;
    }
    const row = this.sql
      .exec<{ hash: ArrayBuffer }>(`SELECT hash FROM ${this.nodes} WHERE id = ?`, id)
      .toArray()[0];
    if (!row) throw new Error(`merkle store: missing node ${id} (corrupt store)`);
    out.set(new Uint8Array(row.hash), offset);
  }

  getRoot(): NodeId {
    return (
      this.sql.exec<{ id: number }>(`SELECT id FROM ${this.roots} WHERE one = 1`).toArray()[0]?.id ??
      EMPTY_NODE
    );
  }

  setRoot(id: NodeId): void {
    this.sql.exec(
      `INSERT INTO ${this.roots} (one, id) VALUES (1, ?) ON CONFLICT (one) DO UPDATE SET id = excluded.id`,
      id,
    );
  }

  get size(): number {
    return this.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${this.nodes}`).one().n;
  }
}
