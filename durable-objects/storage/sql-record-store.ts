/**
 * The certified state's `RecordStore` over a Durable Object's SQLite: one row per key holding the
 * key's full record (type and data-type state as JSON). Synchronous like the interface; the caller
 * runs a batch inside `ctx.storage.transactionSync` together with the tree update, so records and
 * root always change together.
 */
import type { RecordStore } from "../../shared/certified/execute.js";
import type { TypeName } from "../../shared/datatypes/index.js";
import type { KeyRecord } from "../../shared/materialize.js";

const NAME_RE = /^[a-z][a-z0-9_]{0,30}$/;

export class SqlRecordStore implements RecordStore {
  private readonly table: string;

  constructor(
    private readonly sql: SqlStorage,
    name = "certified_records",
  ) {
    if (!NAME_RE.test(name)) throw new Error(`SqlRecordStore: bad table name '${name}'`);
    this.table = name;
    sql.exec(
      `CREATE TABLE IF NOT EXISTS ${name} (key TEXT PRIMARY KEY, type TEXT NOT NULL, state TEXT NOT NULL) WITHOUT ROWID`,
    );
  }

  get(key: string): KeyRecord | undefined {
    const row = this.sql
      .exec<{ type: string; state: string }>(`SELECT type, state FROM ${this.table} WHERE key = ?`, key)
      .toArray()[0];
    return row ? { type: row.type as TypeName, state: JSON.parse(row.state) } : undefined;
  }

  set(key: string, rec: KeyRecord): void {
    this.sql.exec(
      `INSERT INTO ${this.table} (key, type, state) VALUES (?, ?, ?)` +
        ` ON CONFLICT (key) DO UPDATE SET type = excluded.type, state = excluded.state`,
      key,
      rec.type,
      JSON.stringify(rec.state),
    );
  }

  /** Number of keys. */
  get size(): number {
    return this.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${this.table}`).one().n;
  }
}
