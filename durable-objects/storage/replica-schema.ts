/**
 * The EdgeReplica's SQLite tables, declared in one place and brought up to date on every start
 * (durable-objects/storage/replica-store.ts opens them): the first schema, then what was added to it
 * since, all additive, so an existing persist dir keeps working as is.
 * - `meta` (k → v: the clock, the own log's head, the outbox marks, …),
 * - `kv` (the tentative state by key), `ops` (the op log, also the outbox), `clients` (per client),
 * - `superseded_ops` and `client_evidence` (marks and evidence beside the op log).
 */

const FIRST_SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
-- tentative state: the certified state's record with the key's uncertified ops applied on top
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, type TEXT NOT NULL, state TEXT NOT NULL);
-- the op log: one row per op id ever seen (dedupe, idempotent retries, replay protection).
-- It is also the transactional outbox: this replica's own ops above meta.sent_pos are not yet
-- on the replicate queue. Written in the same transaction as the state, so nothing acknowledged
-- can be lost before it is sent, at no extra row write per op.
CREATE TABLE IF NOT EXISTS ops (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, op_id TEXT NOT NULL UNIQUE, origin TEXT NOT NULL,
  op TEXT NOT NULL, status TEXT NOT NULL, reason TEXT, value TEXT NOT NULL, effect TEXT,
  certified INTEGER NOT NULL DEFAULT 0
);
-- per client: highest seq seen (seq window), ops accepted here and not yet certified
CREATE TABLE IF NOT EXISTS clients (client TEXT PRIMARY KEY, max_seq INTEGER NOT NULL, pending INTEGER NOT NULL);
`;

/**
 * Columns added after the first schema (additive: rows written before them hold NULL, are never
 * re-sent nor served to anti-entropy, and are kept).
 *   ops.opos  — the op's position in its origin's log (own ops: 1, 2, 3, ... in acceptance order)
 *   ops.ts    — the op's signed ts, for the dedupe horizon of log collection
 *   clients.collected_seq — highest seq of this client whose row was collected (dedupe after GC)
 */
const ADDED_COLUMNS: [table: string, column: string, decl: string][] = [
  ["ops", "opos", "INTEGER"],
  ["ops", "ts", "INTEGER"],
  ["clients", "collected_seq", "INTEGER NOT NULL DEFAULT 0"],
];

// not UNIQUE: a faulty origin may send two ops under one position; each is still kept by op id
const INDEXES = `CREATE INDEX IF NOT EXISTS ops_origin_pos ON ops (origin, opos);
-- a key's ops still waiting for their certificate (the tentative state is rebuilt from them)
CREATE INDEX IF NOT EXISTS ops_pending_key ON ops (json_extract(op, '$.key')) WHERE certified = 0;`;

/** Tables added beside the first schema (additive). */
const MARKS_AND_EVIDENCE = `
-- register writes that arrived here already older than the key's winner (replies say so)
CREATE TABLE IF NOT EXISTS superseded_ops (op_id TEXT PRIMARY KEY);
-- evidence against a client: two ops it signed under one op id (kept: the version this replica holds).
-- refused = 1: replicas accepted both versions, so this replica refuses the client's new ops.
CREATE TABLE IF NOT EXISTS client_evidence (
  op_id TEXT PRIMARY KEY, client TEXT NOT NULL, kept TEXT NOT NULL, other TEXT NOT NULL,
  refused INTEGER NOT NULL, at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS client_evidence_client ON client_evidence (client, refused);
`;

/** Bound values per statement: at most 100 (ids or keys one each, and one more; kv rows 3 each). */
export const IDS_PER_STATEMENT = 99;
export const RECORDS_PER_STATEMENT = 33;

/** `?,?,…` for `n` bound values. */
export function placeholders(n: number): string {
  return Array.from({ length: n }, () => "?").join(",");
}

/** Create the replica's tables, or bring an older database's up to date (idempotent). */
export function openReplicaSchema(sql: SqlStorage): void {
  sql.exec(FIRST_SCHEMA);
  for (const [table, column, decl] of ADDED_COLUMNS) {
    const has = sql.exec("SELECT 1 FROM pragma_table_info(?) WHERE name = ?", table, column).toArray().length;
    if (!has) sql.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${decl}`);
  }
  sql.exec(INDEXES);
  sql.exec(MARKS_AND_EVIDENCE);
}
