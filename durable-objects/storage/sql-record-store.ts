/**
 * The certified state's `VersionedRecordStore` over a Durable Object's SQLite: one row per key
 * holding the key's full record (type and data-type state as JSON) and the key's hash (`keyHashOf`,
 * unique index: `keyOf`), plus a history table of the records replaced at each version, so that a
 * node can read its stable checkpoint's records while it executes past it. Synchronous like the
 * interface; the caller runs a batch inside `ctx.storage.transactionSync` together with the tree
 * update, so records, history and root always change together.
 *
 * Tables (`name`: lowercase letters, digits, `_`): `<name>` (key, key_hash, type, state) and
 * `<name>_history` (key, at, type, state), primary key (key, at), type/state null where the key was
 * absent before `at`, an index on `at` for `collect`. Nothing is kept in memory but the newest
 * version set (to refuse an older one), so memory does not grow with the number of keys.
 *
 * `{ history: false }` (a replica's certified state): no history table. A replica never serves an
 * older version and collected through each batch at once, so the history rows were two writes per
 * changed key for nothing; here a set writes the record row only, `collect` does nothing and
 * `getAt` throws (a bug if anything asks: only nodes serve state-transfer chunks). A history table
 * an earlier version left is dropped at open. The newest version set is kept in memory only.
 *
 * A key a `delete` removed: with history, its row stays with type and state '' (absent), so `keyOf`
 * still names it for the older versions a node serves, and its history row keeps the record before;
 * without history, its row is deleted.
 */
import { keyHashOf } from "../../shared/certified/hashing.js";
import type { RecordEntry, VersionedRecordStore } from "../../shared/certified/record-store.js";
import type { TypeName } from "../../shared/datatypes/index.js";
import type { KeyRecord } from "../../shared/materialize.js";

const NAME_RE = /^[a-z][a-z0-9_]{0,30}$/;
/** Keys per history INSERT (one bound value each, and the version: at most 100 a statement). */
const HISTORY_KEYS_PER_INSERT = 99;
/** Records per upsert (4 bound values each). */
const RECORDS_PER_INSERT = 25;

interface RecordRow extends Record<string, SqlStorageValue> {
  type: string | null;
  state: string | null;
}

/** type and state of a removed key's row (history kept): the columns are NOT NULL. */
const REMOVED = "";

const recordOf = (row: RecordRow): KeyRecord | undefined =>
  row.type === null || row.state === null || row.type === REMOVED
    ? undefined
    : { type: row.type as TypeName, state: JSON.parse(row.state) };

export interface SqlRecordStoreOptions {
  /** Keep the records replaced at each version for `getAt` (default true; false: a replica). */
  history?: boolean;
}

export class SqlRecordStore implements VersionedRecordStore {
  private readonly table: string;
  private readonly history: string;
  private readonly keepsHistory: boolean;
  /** The newest version a "before" is kept for (without history: set), null if none. */
  private lastAt: number | null;

  /** The store's tables (e.g. to empty them): the history table only where one is kept. */
  static tablesOf(name: string, opts: SqlRecordStoreOptions = {}): string[] {
    return opts.history === false ? [name] : [name, `${name}_history`];
  }

  constructor(
    private readonly sql: SqlStorage,
    name = "certified_records",
    opts: SqlRecordStoreOptions = {},
  ) {
    if (!NAME_RE.test(name)) throw new Error(`SqlRecordStore: bad table name '${name}'`);
    this.table = name;
    this.history = `${name}_history`;
    this.keepsHistory = opts.history !== false;
    sql.exec(
      `CREATE TABLE IF NOT EXISTS ${name} (key TEXT PRIMARY KEY, key_hash BLOB NOT NULL,` +
        ` type TEXT NOT NULL, state TEXT NOT NULL) WITHOUT ROWID;` +
        `CREATE UNIQUE INDEX IF NOT EXISTS ${name}_by_hash ON ${name} (key_hash);`,
    );
    if (!this.keepsHistory) {
      sql.exec(`DROP TABLE IF EXISTS ${this.history}`);
      this.lastAt = null;
      return;
    }
    sql.exec(
      `CREATE TABLE IF NOT EXISTS ${this.history} (key TEXT NOT NULL, at INTEGER NOT NULL,` +
        ` type TEXT, state TEXT, PRIMARY KEY (key, at)) WITHOUT ROWID;` +
        `CREATE INDEX IF NOT EXISTS ${this.history}_at ON ${this.history} (at);`,
    );
    this.lastAt = sql.exec<{ m: number | null }>(`SELECT max(at) AS m FROM ${this.history}`).one().m;
  }

  get(key: string): KeyRecord | undefined {
    const row = this.sql
      .exec<RecordRow>(`SELECT type, state FROM ${this.table} WHERE key = ?`, key)
      .toArray()[0];
    return row ? recordOf(row) : undefined;
  }

  setAt(key: string, rec: KeyRecord | undefined, version: number): void {
    this.setManyAt([{ key, rec }], version);
  }

  /**
   * A batch's records in a few multi-row statements (history: one bound value per key; records: 4):
   * a statement is a call into the runtime, and two per changed key were most of the certified
   * state's cost per op beside the tree.
   */
  setManyAt(entries: readonly RecordEntry[], version: number): void {
    if (entries.length === 0) return;
    if (this.lastAt !== null && this.lastAt > version)
      throw new Error("record store: set at a version older than the last one");
    if (this.keepsHistory)
      for (let i = 0; i < entries.length; i += HISTORY_KEYS_PER_INSERT) {
        const chunk = entries.slice(i, i + HISTORY_KEYS_PER_INSERT);
        this.sql.exec(
          `INSERT OR IGNORE INTO ${this.history} (key, at, type, state)` +
            ` SELECT q.column1, ?, r.type, r.state FROM (VALUES ${chunk.map(() => "(?)").join(", ")}) AS q` +
            ` LEFT JOIN ${this.table} AS r ON r.key = q.column1`,
          version,
          ...chunk.map((e) => e.key),
        );
      }
    const removed = this.keepsHistory ? [] : entries.filter((e) => e.rec === undefined);
    for (let i = 0; i < removed.length; i += HISTORY_KEYS_PER_INSERT) {
      const chunk = removed.slice(i, i + HISTORY_KEYS_PER_INSERT);
      this.sql.exec(
        `DELETE FROM ${this.table} WHERE key IN (${chunk.map(() => "?").join(", ")})`,
        ...chunk.map((e) => e.key),
      );
    }
    const upserts = this.keepsHistory ? entries : entries.filter((e) => e.rec !== undefined);
    for (let i = 0; i < upserts.length; i += RECORDS_PER_INSERT) {
      const chunk = upserts.slice(i, i + RECORDS_PER_INSERT);
      this.sql.exec(
        `INSERT INTO ${this.table} (key, key_hash, type, state) VALUES ${chunk.map(() => "(?, ?, ?, ?)").join(", ")}` +
          ` ON CONFLICT (key) DO UPDATE SET type = excluded.type, state = excluded.state`,
        ...chunk.flatMap((e) => [e.key, e.keyHash ?? keyHashOf(e.key), ...columnsOf(e.rec)]),
      );
    }
    this.lastAt = version;
  }

  getAt(key: string, version: number): KeyRecord | undefined {
    if (!this.keepsHistory) throw new Error("record store: getAt on a store that keeps no history");
    // The oldest record replaced after `version` is the one that was current at `version`.
    const row = this.sql
      .exec<RecordRow>(
        `SELECT type, state FROM ${this.history} WHERE key = ? AND at > ? ORDER BY at LIMIT 1`,
        key,
        version,
      )
      .toArray()[0];
    return row ? recordOf(row) : this.get(key);
  }

  keyOf(keyHash: Uint8Array): string | undefined {
    return this.sql
      .exec<{ key: string }>(`SELECT key FROM ${this.table} WHERE key_hash = ?`, keyHash.slice())
      .toArray()[0]?.key;
  }

  collect(through: number): number {
    if (!this.keepsHistory) return 0;
    const n = this.sql
      .exec<{ n: number }>(`SELECT count(*) AS n FROM ${this.history} WHERE at <= ?`, through)
      .one().n;
    if (n > 0) this.sql.exec(`DELETE FROM ${this.history} WHERE at <= ?`, through);
    if (this.lastAt !== null && this.lastAt <= through) this.lastAt = null;
    return n;
  }

  /** Number of keys. */
  get size(): number {
    return this.sql
      .exec<{ n: number }>(`SELECT count(*) AS n FROM ${this.table} WHERE type != ?`, REMOVED)
      .one().n;
  }

  /** Replaced records not collected yet. */
  get historySize(): number {
    if (!this.keepsHistory) return 0;
    return this.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${this.history}`).one().n;
  }
}

/** A record's type and state columns; a removed key's are '' (see the header). */
const columnsOf = (rec: KeyRecord | undefined): [string, string] =>
  rec === undefined ? [REMOVED, REMOVED] : [rec.type, JSON.stringify(rec.state)];
