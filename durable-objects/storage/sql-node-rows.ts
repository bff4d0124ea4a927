/**
 * The rows under a Merkle node store (durable-objects/storage/sql-node-store.ts): one table of
 * nodes (`<name>_nodes`, one row per node, inner nodes and leaves told apart by `kind`), the root
 * id in a one-row table (`<name>_root`). Multi-row statements, built once per row count and kept.
 */
import type { MerkleNode, NodeId } from "../../shared/certified/node-store.js";

const INNER = 1;
const LEAF = 2;
/** Bound parameters per statement (a Durable Object's SQLite allows 100): 4 per node row. */
const ROWS_PER_INSERT = 25;
/** Ids per DELETE (bound parameters: at most 100). */
export const DELETE_CHUNK = 100;

interface NodeRow extends Record<string, SqlStorageValue> {
  kind: number;
  left: number | null;
  right: number | null;
  hash: ArrayBuffer;
  key_hash: ArrayBuffer | null;
  value_hash: ArrayBuffer | null;
}

export class SqlNodeRows {
  private readonly nodes: string;
  private readonly roots: string;
  private readonly statements = new Map<string, string>();

  constructor(
    private readonly sql: SqlStorage,
    name: string,
  ) {
    this.nodes = `${name}_nodes`;
    this.roots = `${name}_root`;
    sql.exec(
      `CREATE TABLE IF NOT EXISTS ${this.nodes} (id INTEGER PRIMARY KEY, kind INTEGER NOT NULL,` +
        ` left INTEGER, right INTEGER, hash BLOB NOT NULL, key_hash BLOB, value_hash BLOB);` +
        `CREATE TABLE IF NOT EXISTS ${this.roots} (one INTEGER PRIMARY KEY CHECK (one = 1), id INTEGER NOT NULL);`,
    );
  }

  /** The highest id written (0: none). */
  maxId(): NodeId {
    return this.sql.exec<{ m: number | null }>(`SELECT max(id) AS m FROM ${this.nodes}`).one().m ?? 0;
  }

  read(id: NodeId): MerkleNode | undefined {
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

  exists(id: NodeId): boolean {
    return this.sql.exec(`SELECT 1 FROM ${this.nodes} WHERE id = ?`, id).toArray().length > 0;
  }

  count(): number {
    return this.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${this.nodes}`).one().n;
  }

  /** New nodes as multi-row inserts, inner nodes and leaves apart. */
  insert(nodes: Iterable<[NodeId, MerkleNode]>): void {
    const inner: (number | Uint8Array)[] = [];
    const leaves: (number | Uint8Array)[] = [];
    for (const [id, n] of nodes)
      if (n.kind === "inner") inner.push(id, n.left, n.right, n.hash);
      else leaves.push(id, n.hash, n.keyHash, n.valueHash);
    this.insertRows(`(id, left, right, hash, kind) VALUES`, INNER, inner);
    this.insertRows(`(id, hash, key_hash, value_hash, kind) VALUES`, LEAF, leaves);
  }

  /** Delete nodes by id, DELETE_CHUNK to a statement; the rows deleted. */
  delete(ids: readonly NodeId[]): number {
    let done = 0;
    for (let i = 0; i < ids.length; i += DELETE_CHUNK) {
      const chunk = ids.slice(i, i + DELETE_CHUNK);
      const q = this.statement(
        `delete:${chunk.length}`,
        () => `DELETE FROM ${this.nodes} WHERE id IN (${Array(chunk.length).fill("?").join(",")})`,
      );
      done += this.sql.exec(q, ...chunk).rowsWritten;
    }
    return done;
  }

  root(): NodeId | undefined {
    return this.sql.exec<{ id: number }>(`SELECT id FROM ${this.roots} WHERE one = 1`).toArray()[0]?.id;
  }

  setRoot(id: NodeId): void {
    this.sql.exec(
      `INSERT INTO ${this.roots} (one, id) VALUES (1, ?) ON CONFLICT (one) DO UPDATE SET id = excluded.id`,
      id,
    );
  }

  private insertRows(columns: string, kind: number, values: (number | Uint8Array)[]): void {
    for (let i = 0; i < values.length; i += 4 * ROWS_PER_INSERT) {
      const chunk = values.slice(i, i + 4 * ROWS_PER_INSERT);
      const rows = chunk.length / 4;
      const q = this.statement(
        `${kind}:${rows}`,
        () => `INSERT INTO ${this.nodes} ${columns} ` + Array(rows).fill(`(?, ?, ?, ?, ${kind})`).join(", "),
      );
      this.sql.exec(q, ...chunk);
    }
  }

  private statement(key: string, build: () => string): string {
    let q = this.statements.get(key);
    if (q === undefined) this.statements.set(key, (q = build()));
    return q;
  }
}
