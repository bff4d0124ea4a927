/**
 * The PBFT driver's storage over a Durable Object's SQLite (`shared/pbft/driver.ts` `DriverStorage`):
 * the core's rows in one table (key → JSON value), each step in one `transactionSync` together
 * with the certified state machine's store writes. Used by the PbftNode and by the driver's
 * acceptance suite inside workerd.
 *
 * A Durable Object's SQLite refuses a row over 2 MB (SQLITE_TOOBIG), and some of the core's rows are
 * bigger by design (a VIEW-CHANGE or NEW-VIEW carrying prepared batches, up to
 * `bulkMessageBytesMax`). A value longer than `PART_CHARS` is stored in parts (`<table>_parts`, in
 * key order) and its row holds a marker that is not JSON, so no real value can be mistaken for one.
 */
import type { Json } from "../../shared/canonical.js";
import type { DriverStorage } from "../../shared/pbft/driver.js";

const NAME_RE = /^[a-z][a-z0-9_]{0,24}$/;
/** UTF-16 units per stored part: at most 3 UTF-8 bytes each, so a part stays under 2 MB. */
export const PART_CHARS = 512 * 1024;
const PARTS_MARK = "\u0000parts:";

/** Split `text` into pieces of at most `size` UTF-16 units, never between the halves of a surrogate pair. */
export function splitText(text: string, size: number): string[] {
  const out: string[] = [];
  let at = 0;
  while (at < text.length) {
    let end = Math.min(at + size, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--; // keep the pair whole
    out.push(text.slice(at, end));
    at = end;
  }
  return out;
}

export function sqlDriverStorage(storage: DurableObjectStorage, table = "pbft_rows"): DriverStorage {
  if (!NAME_RE.test(table)) throw new Error(`sqlDriverStorage: bad table name '${table}'`);
  const sql = storage.sql;
  const parts = `${table}_parts`;
  sql.exec(`CREATE TABLE IF NOT EXISTS ${table} (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID`);
  sql.exec(
    `CREATE TABLE IF NOT EXISTS ${parts} (key TEXT NOT NULL, part INTEGER NOT NULL, value TEXT NOT NULL, PRIMARY KEY (key, part)) WITHOUT ROWID`,
  );
  const put = (key: string, text: string) => {
    sql.exec(`DELETE FROM ${parts} WHERE key = ?`, key);
    let value = text;
    if (text.length > PART_CHARS) {
      const pieces = splitText(text, PART_CHARS);
      pieces.forEach((p, i) =>
        sql.exec(`INSERT INTO ${parts} (key, part, value) VALUES (?, ?, ?)`, key, i, p),
      );
      value = PARTS_MARK + pieces.length;
    }
    sql.exec(
      `INSERT INTO ${table} (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      key,
      value,
    );
  };
  const textOf = (key: string, value: string): string => {
    if (!value.startsWith(PARTS_MARK)) return value;
    const pieces = sql
      .exec<{ value: string }>(`SELECT value FROM ${parts} WHERE key = ? ORDER BY part`, key)
      .toArray();
    if (pieces.length !== Number(value.slice(PARTS_MARK.length)))
      throw new Error(`sqlDriverStorage: row '${key}' lost parts`);
    return pieces.map((p) => p.value).join("");
  };
  return {
    transaction: (body) => storage.transactionSync(body),
    write(rows) {
      for (const r of rows)
        if (r.op === "put") put(r.key, JSON.stringify(r.value));
        else {
          sql.exec(`DELETE FROM ${table} WHERE key = ?`, r.key);
          sql.exec(`DELETE FROM ${parts} WHERE key = ?`, r.key);
        }
    },
    readRows: () =>
      sql
        .exec<{ key: string; value: string }>(`SELECT key, value FROM ${table}`)
        .toArray()
        .map((r) => [r.key, JSON.parse(textOf(r.key, r.value)) as Json]),
  };
}
