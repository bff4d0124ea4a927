/**
 * The PBFT driver's storage over a Durable Object's SQLite (`shared/pbft/driver.ts` `DriverStorage`):
 * the core's rows in one table (key → JSON value), each step in one `transactionSync` together
 * with the certified state machine's store writes. Used by the PbftNode and by the driver's
 * acceptance suite inside workerd.
 */
import type { Json } from "../../shared/canonical.js";
import type { DriverStorage } from "../../shared/pbft/driver.js";

const NAME_RE = /^[a-z][a-z0-9_]{0,30}$/;

export function sqlDriverStorage(storage: DurableObjectStorage, table = "pbft_rows"): DriverStorage {
  if (!NAME_RE.test(table)) throw new Error(`sqlDriverStorage: bad table name '${table}'`);
  const sql = storage.sql;
  sql.exec(`CREATE TABLE IF NOT EXISTS ${table} (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID`);
  return {
    transaction: (body) => storage.transactionSync(body),
    write(rows) {
      for (const r of rows)
        if (r.op === "put")
          sql.exec(
            `INSERT INTO ${table} (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
            r.key,
            JSON.stringify(r.value),
          );
        else sql.exec(`DELETE FROM ${table} WHERE key = ?`, r.key);
    },
    readRows: () =>
      sql
        .exec<{ key: string; value: string }>(`SELECT key, value FROM ${table}`)
        .toArray()
        .map((r) => [r.key, JSON.parse(r.value) as Json]),
  };
}
