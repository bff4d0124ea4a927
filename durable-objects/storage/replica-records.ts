/**
 * The replica's tentative state in SQLite (table `kv`, durable-objects/storage/replica-schema.ts):
 * one record per key, the certified record with the key's uncertified ops applied on top. The core
 * reads and writes one key at a time; the shell rebuilds many at once, and pages through them in
 * key order for listings.
 */
import type { TypeName } from "../../shared/datatypes/index.js";
import type { KeyRecord } from "../../shared/materialize.js";
import { RECORDS_PER_STATEMENT } from "./replica-schema.js";

type Row = { key: string; type: string; state: string };

const recordOf = (r: { type: string; state: string }): KeyRecord => ({
  type: r.type as TypeName,
  state: JSON.parse(r.state),
});

export class ReplicaRecords {
  constructor(private readonly sql: SqlStorage) {}

  get(key: string): KeyRecord | undefined {
    const row = this.sql.exec<Row>("SELECT type, state FROM kv WHERE key = ?", key).toArray()[0];
    return row ? recordOf(row) : undefined;
  }

  /** Set (a record) or delete (undefined) several keys' tentative records at once. */
  putMany(entries: readonly [key: string, rec: KeyRecord | undefined][]): void {
    const puts = entries.filter((e): e is [string, KeyRecord] => e[1] !== undefined);
    for (let i = 0; i < puts.length; i += RECORDS_PER_STATEMENT) {
      const chunk = puts.slice(i, i + RECORDS_PER_STATEMENT);
      this.sql.exec(
        `INSERT INTO kv (key, type, state) VALUES ${chunk.map(() => "(?, ?, ?)").join(", ")}` +
          " ON CONFLICT (key) DO UPDATE SET type = excluded.type, state = excluded.state",
        ...chunk.flatMap(([key, rec]) => [key, rec.type, JSON.stringify(rec.state)]),
      );
    }
    for (const [key, rec] of entries) if (rec === undefined) this.delete(key);
  }

  delete(key: string): void {
    this.sql.exec("DELETE FROM kv WHERE key = ?", key);
  }

  /**
   * Namespace records (keys `@<name>`, which hold nothing else) after `@<after>`, in key order, at
   * most `limit`: a range scan of the primary key (`@` < key < `A`, the next character).
   */
  namespaces(after: string, limit: number): [key: string, rec: KeyRecord][] {
    return this.sql
      .exec<Row>(
        "SELECT key, type, state FROM kv WHERE key > ? AND key < 'A' ORDER BY key LIMIT ?",
        "@" + after,
        limit,
      )
      .toArray()
      .map((r) => [r.key, recordOf(r)]);
  }

  /**
   * Tentative records in byte order of key (SQLite's BINARY collation compares the UTF-8 bytes),
   * from `prefix` on, or strictly after `after`; at most `limit`, read lazily (a listing's page).
   */
  *from(prefix: string, after: string | null, limit: number): Generator<{ key: string; record: KeyRecord }> {
    const rows =
      after === null
        ? this.sql.exec<Row>(
            "SELECT key, type, state FROM kv WHERE key >= ? ORDER BY key LIMIT ?",
            prefix,
            limit,
          )
        : this.sql.exec<Row>(
            "SELECT key, type, state FROM kv WHERE key > ? ORDER BY key LIMIT ?",
            after,
            limit,
          );
    for (const r of rows) yield { key: r.key, record: recordOf(r) };
  }

  /** Every key of the tentative state (a full certified state transfer rebuilds them all). */
  keys(): string[] {
    return this.sql
      .exec<{ key: string }>("SELECT key FROM kv")
      .toArray()
      .map((r) => r.key);
  }

  /** How many keys the tentative state holds (a table scan: stats only). */
  count(): number {
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM kv").one().n;
  }
}
