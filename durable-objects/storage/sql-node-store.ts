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
 * Memory does not grow with the number of keys: a bounded cache of nodes (the tree's hot path reads
 * every node on the updated paths and two child hashes per inner hash, mostly of nodes it just
 * wrote or of the top levels), and the buffer of one update. Ids come from a counter kept here
 * (loaded from `max(id)` at open), so an insert needs no `RETURNING`; ids of a rolled-back batch
 * are never handed out again by this instance, so the cache can't confuse an old node with a new
 * one. One instance per table per object: two writers over one table would hand out the same ids.
 * Several trees can share one database under different `name`s (table prefixes).
 *
 * Versions (`retire`/`collect`): a retired node keeps its row, and a side table
 * `<name>_retired_at (at, first, ids)` holds, per update, the JSON list of the node ids it retired
 * at version `at` (`first`: the list's first id, unique). Retiring costs one row per update whatever
 * the count; `collect` reads the lists, deletes their nodes by primary key (a statement per 100
 * ids) and deletes the lists. The one-row-per-node `<name>_retired (at, id)` of earlier
 * versions is folded into it at open.
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
/**
 * Nodes kept in memory, at most: enough for the whole tree of ~15,000 keys, so that an update's
 * sibling hashes are rarely read from SQLite (at 10^4 keys and 4,096 nodes, 9 of the ~9 node reads
 * per update missed; none at this bound; `npm run bench:store`). ~330 bytes per node in the JS heap
 * (9.2 MiB with 24,500 cached, measured there): ~11 MiB per object at most.
 */
const NODE_CACHE_MAX = 32768;
/** Buffered new nodes, at most: past it they are written early (a bulk build adds millions). */
const PENDING_MAX = 4096;
/** Bound parameters per statement (a Durable Object's SQLite allows 100): 4 per node row. */
const ROWS_PER_INSERT = 25;
/** Ids per DELETE (bound parameters: at most 100). */
const DELETE_CHUNK = 100;

interface NodeRow extends Record<string, SqlStorageValue> {
  kind: number;
  left: number | null;
  right: number | null;
  hash: ArrayBuffer;
  key_hash: ArrayBuffer | null;
  value_hash: ArrayBuffer | null;
}

/** A node with arrays of its own (the caller's may be views into larger buffers). */
const ownCopy = (n: MerkleNode): MerkleNode =>
  n.kind === "inner"
    ? { kind: "inner", left: n.left, right: n.right, hash: n.hash.slice() }
    : { kind: "leaf", keyHash: n.keyHash.slice(), valueHash: n.valueHash.slice(), hash: n.hash.slice() };

export class SqlNodeStore implements NodeStore {
  private readonly nodes: string;
  private readonly roots: string;
  private readonly retired: string;
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
  private readonly insertSql = new Map<string, string>();

  /** `name` prefixes the tables (lowercase letters, digits, `_`): one tree per name. */
  constructor(
    private readonly sql: SqlStorage,
    name = "merkle",
  ) {
    if (!NAME_RE.test(name)) throw new Error(`SqlNodeStore: bad table name '${name}'`);
    this.nodes = `${name}_nodes`;
    this.roots = `${name}_root`;
    this.retired = `${name}_retired_at`;
    sql.exec(
      `CREATE TABLE IF NOT EXISTS ${this.nodes} (id INTEGER PRIMARY KEY, kind INTEGER NOT NULL,` +
        ` left INTEGER, right INTEGER, hash BLOB NOT NULL, key_hash BLOB, value_hash BLOB);` +
        `CREATE TABLE IF NOT EXISTS ${this.roots} (one INTEGER PRIMARY KEY CHECK (one = 1), id INTEGER NOT NULL);` +
        `CREATE TABLE IF NOT EXISTS ${this.retired} (at INTEGER NOT NULL, first INTEGER NOT NULL,` +
        ` ids TEXT NOT NULL, PRIMARY KEY (at, first)) WITHOUT ROWID;`,
    );
    this.foldLegacyRetired(`${name}_retired`);
    this.nextId = sql.exec<{ m: number | null }>(`SELECT max(id) AS m FROM ${this.nodes}`).one().m ?? 0;
    this.lastRetired = sql.exec<{ m: number | null }>(`SELECT max(at) AS m FROM ${this.retired}`).one().m;
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
    const row = this.sql
      .exec<NodeRow>(
        `SELECT kind, left, right, hash, key_hash, value_hash FROM ${this.nodes} WHERE id = ?`,
        id,
      )
      .toArray()[0];
    if (!row) return undefined;
    const hash = new Uint8Array(row.hash);
    let node: MerkleNode | undefined;
    if (row.kind === INNER && row.left !== null && row.right !== null)
      node = { kind: "inner", left: row.left, right: row.right, hash };
    else if (row.kind === LEAF && row.key_hash !== null && row.value_hash !== null)
      node = {
        kind: "leaf",
        keyHash: new Uint8Array(row.key_hash),
        valueHash: new Uint8Array(row.value_hash),
        hash,
      };
    if (node) this.remember(id, node);
    return node;
  }

  get(id: NodeId): MerkleNode | undefined {
    return id <= 0 ? undefined : this.read(id);
  }

  add(node: MerkleNode): NodeId {
    const id = ++this.nextId;
    const own = ownCopy(node);
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
    const lists = this.sql
      .exec<{ ids: string }>(`SELECT ids FROM ${this.retired} WHERE at <= ?`, through)
      .toArray();
    if (lists.length === 0) return 0;
    // the ids parsed here and deleted by primary key, 100 to a statement: json_each in SQL reads
    // ~4 rows per id deleted (measured: 36 rows read per op at 10^4 keys), this reads one
    let removed = 0;
    const ids: NodeId[] = [];
    for (const l of lists) for (const id of JSON.parse(l.ids) as NodeId[]) ids.push(id);
    for (const id of ids) this.cache.delete(id);
    for (let i = 0; i < ids.length; i += DELETE_CHUNK) {
      const chunk = ids.slice(i, i + DELETE_CHUNK);
      removed += this.sql.exec(this.deleteStatement(chunk.length), ...chunk).rowsWritten;
    }
    this.sql.exec(`DELETE FROM ${this.retired} WHERE at <= ?`, through);
    if (this.lastRetired !== null && this.lastRetired <= through) this.lastRetired = null;
    return removed;
  }

  get retiredCount(): number {
    this.flush();
    return (
      this.sql
        .exec<{ n: number | null }>(`SELECT sum(json_array_length(ids)) AS n FROM ${this.retired}`)
        .one().n ?? 0
    );
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
    if (this.pendingRoot !== null) return this.pendingRoot;
    return (
      this.sql.exec<{ id: number }>(`SELECT id FROM ${this.roots} WHERE one = 1`).toArray()[0]?.id ??
      EMPTY_NODE
    );
  }

  setRoot(id: NodeId): void {
    this.pendingRoot = id;
  }

  get size(): number {
    this.flush();
    return this.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${this.nodes}`).one().n;
  }

  /** Write what the update buffered: new nodes, deletions, the retired list, the root. */
  flush(): void {
    this.writePending();
    for (let i = 0; i < this.removing.length; i += DELETE_CHUNK) {
      const ids = this.removing.slice(i, i + DELETE_CHUNK);
      const done = this.sql.exec(this.deleteStatement(ids.length), ...ids).rowsWritten;
      if (done !== ids.length) throw new Error("merkle store: remove of absent node (corrupt store)");
    }
    this.removing = [];
    this.writeRetired();
    if (this.pendingRoot !== null) {
      this.sql.exec(
        `INSERT INTO ${this.roots} (one, id) VALUES (1, ?) ON CONFLICT (one) DO UPDATE SET id = excluded.id`,
        this.pendingRoot,
      );
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
    return (
      this.cache.has(id) || this.sql.exec(`SELECT 1 FROM ${this.nodes} WHERE id = ?`, id).toArray().length > 0
    );
  }

  /** Buffered new nodes as multi-row inserts, inner nodes and leaves apart. */
  private writePending(): void {
    if (this.pending.size === 0) return;
    const inner: (number | Uint8Array)[] = [];
    const leaves: (number | Uint8Array)[] = [];
    for (const [id, n] of this.pending)
      if (n.kind === "inner") inner.push(id, n.left, n.right, n.hash);
      else leaves.push(id, n.hash, n.keyHash, n.valueHash);
    this.pending.clear();
    this.insertRows(`(id, left, right, hash, kind) VALUES`, INNER, inner);
    this.insertRows(`(id, hash, key_hash, value_hash, kind) VALUES`, LEAF, leaves);
  }

  private insertRows(columns: string, kind: number, values: (number | Uint8Array)[]): void {
    for (let i = 0; i < values.length; i += 4 * ROWS_PER_INSERT) {
      const chunk = values.slice(i, i + 4 * ROWS_PER_INSERT);
      this.sql.exec(this.insertStatement(columns, kind, chunk.length / 4), ...chunk);
    }
  }

  private deleteStatement(n: number): string {
    const key = `delete:${n}`;
    let q = this.insertSql.get(key);
    if (q === undefined) {
      q = `DELETE FROM ${this.nodes} WHERE id IN (${Array(n).fill("?").join(",")})`;
      this.insertSql.set(key, q);
    }
    return q;
  }

  private insertStatement(columns: string, kind: number, rows: number): string {
    const key = `${kind}:${rows}`;
    let q = this.insertSql.get(key);
    if (q === undefined) {
      q = `INSERT INTO ${this.nodes} ${columns} ` + Array(rows).fill(`(?, ?, ?, ?, ${kind})`).join(", ");
      this.insertSql.set(key, q);
    }
    return q;
  }

  /** The buffered retired ids as one row of their version. */
  private writeRetired(): void {
    if (this.retiring.length === 0) return;
    this.sql.exec(
      `INSERT INTO ${this.retired} (at, first, ids) VALUES (?, ?, ?)`,
      this.retiringAt,
      this.retiring[0]!,
      JSON.stringify(this.retiring),
    );
    this.retiring = [];
  }

  /** Rows of the one-row-per-node retired table of earlier versions, as lists; then drop it. */
  private foldLegacyRetired(legacy: string): void {
    const has = this.sql
      .exec(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`, legacy)
      .toArray().length;
    if (has === 0) return;
    const byAt = new Map<number, NodeId[]>();
    for (const r of this.sql.exec<{ at: number; id: number }>(
      `SELECT at, id FROM ${legacy} ORDER BY at, id`,
    )) {
      let l = byAt.get(r.at);
      if (!l) byAt.set(r.at, (l = []));
      l.push(r.id);
    }
    for (const [at, ids] of byAt)
      this.sql.exec(
        `INSERT OR IGNORE INTO ${this.retired} (at, first, ids) VALUES (?, ?, ?)`,
        at,
        ids[0]!,
        JSON.stringify(ids),
      );
    this.sql.exec(`DROP TABLE ${legacy}`);
  }
}
