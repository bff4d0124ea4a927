/**
 * The EdgeReplica's SQLite schema and statements. All state lives here, not in memory: a replica
 * holds any number of keys and ops in bounded memory, and survives eviction and restart as is.
 */
import type { Json } from "../shared/canonical.js";
import type { OpStatus, TypeName } from "../shared/datatypes/index.js";
import { formatHlc, type Hlc } from "../shared/hlc.js";
import type { KeyRecord, PendingEffect } from "../shared/materialize.js";
import type { SignedOp } from "../shared/ops.js";
import { entryText, type EntryRow } from "../shared/replica/entry-text.js";
import type { ClientEvidence, ReplicaStateStore, StoredOp } from "../shared/replica/store.js";
import type { ReplicatedOp } from "../shared/replication.js";

/** Bound values per statement: at most 100 (ids or keys one each, and one more; kv rows 3 each). */
const IDS_PER_STATEMENT = 99;
const RECORDS_PER_STATEMENT = 33;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
-- tentative state: the certified state's record with the key's uncertified ops applied on top
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, type TEXT NOT NULL, state TEXT NOT NULL);
-- the op log: one row per op id ever seen (dedupe, idempotent retries, replay protection).
-- It is also the transactional outbox: this replica's own ops above meta.drained_seq are not yet
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
 * Columns added after the first schema, so that an existing persist dir keeps working (additive:
 * rows written before them hold NULL, are never re-sent nor served to anti-entropy, and are kept).
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
const LWW_AND_EVIDENCE = `
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

/** The replica core's store (shared/replica/store.ts) over SQLite, plus what delivery and the certified side read. */
export class ReplicaStore implements ReplicaStateStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(SCHEMA);
    for (const [table, column, decl] of ADDED_COLUMNS) {
      const has = sql
        .exec("SELECT 1 FROM pragma_table_info(?) WHERE name = ?", table, column)
        .toArray().length;
      if (!has) sql.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${decl}`);
    }
    sql.exec(INDEXES);
    sql.exec(LWW_AND_EVIDENCE);
  }

  getMeta(k: string): string | undefined {
    return this.sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = ?", k).toArray()[0]?.v;
  }
  setMeta(k: string, v: string): void {
    this.sql.exec("INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v", k, v);
  }

  /** The hybrid logical clock (meta `hlc`); `parseHlc` reads it back. */
  putClock(h: Hlc): void {
    this.setMeta("hlc", formatHlc(h));
  }

  getRecord(key: string): KeyRecord | undefined {
    const row = this.sql
      .exec<{ type: string; state: string }>("SELECT type, state FROM kv WHERE key = ?", key)
      .toArray()[0];
    return row ? { type: row.type as TypeName, state: JSON.parse(row.state) } : undefined;
  }
  /**
   * Namespace records (keys `@<name>`, which hold nothing else) after `@<after>`, in key order, at
   * most `limit`: a range scan of the primary key (`@` < key < `A`, the next character).
   */
  namespaceRecords(after: string, limit: number): [key: string, rec: KeyRecord][] {
    return this.sql
      .exec<{ key: string; type: string; state: string }>(
        "SELECT key, type, state FROM kv WHERE key > ? AND key < 'A' ORDER BY key LIMIT ?",
        "@" + after,
        limit,
      )
      .toArray()
      .map((r) => [r.key, { type: r.type as TypeName, state: JSON.parse(r.state) }]);
  }
  /**
   * Tentative records in byte order of key (SQLite's BINARY collation compares the UTF-8 bytes),
   * from `prefix` on, or strictly after `after`; at most `limit`, read lazily (a listing's page).
   */
  *recordsFrom(
    prefix: string,
    after: string | null,
    limit: number,
  ): Generator<{ key: string; record: KeyRecord }> {
    const rows =
      after === null
        ? this.sql.exec<{ key: string; type: string; state: string }>(
            "SELECT key, type, state FROM kv WHERE key >= ? ORDER BY key LIMIT ?",
            prefix,
            limit,
          )
        : this.sql.exec<{ key: string; type: string; state: string }>(
            "SELECT key, type, state FROM kv WHERE key > ? ORDER BY key LIMIT ?",
            after,
            limit,
          );
    for (const r of rows)
      yield { key: r.key, record: { type: r.type as TypeName, state: JSON.parse(r.state) } };
  }
  putRecord(key: string, rec: KeyRecord): void {
    this.putRecords([[key, rec]]);
  }

  getOp(opId: string): StoredOp | undefined {
    const row = this.sql
      .exec<{ origin: string; op: string; status: string; reason: string | null; value: string }>(
        "SELECT origin, op, status, reason, value FROM ops WHERE op_id = ?",
        opId,
      )
      .toArray()[0];
    if (!row) return undefined;
    const out: StoredOp = {
      opId,
      origin: row.origin,
      op: JSON.parse(row.op),
      status: row.status as OpStatus,
      value: JSON.parse(row.value),
    };
    if (row.reason) out.reason = row.reason;
    return out;
  }
  hasOp(opId: string): boolean {
    return this.sql.exec("SELECT 1 FROM ops WHERE op_id = ?", opId).toArray().length > 0;
  }
  /** `pos`: the op's position in its origin's log (`nextOwnPos()` for own ops; null if unknown). */
  /** `certified`: the op is in the certified order already (its certificate came first). */
  insertOp(
    opId: string,
    origin: string,
    e: ReplicatedOp,
    value: Json,
    pos: number | null,
    certified = false,
  ): void {
    this.sql.exec(
      "INSERT INTO ops (op_id, origin, op, status, reason, value, effect, opos, ts, certified) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      opId,
      origin,
      JSON.stringify(e.op),
      e.status,
      e.reason ?? null,
      JSON.stringify(value),
      e.effect === null ? null : JSON.stringify(e.effect),
      pos,
      e.op.ts,
      certified ? 1 : 0,
    );
  }

  /**
   * A certified batch's ops: mark each row certified (if this replica has it and it was not yet)
   * and take the ones accepted here (`origin === me`) off their client's uncertified count, in a few
   * statements for the batch. Returns the keys of the rows it marked, in no order (the version held
   * here may name another key than the certified version of an equivocating client's op).
   */
  markCertifiedMany(ops: readonly { opId: string; client: string }[], me: string): string[] {
    const keys: string[] = [];
    const mine = new Map<string, number>(); // client → own ops certified
    for (let i = 0; i < ops.length; i += IDS_PER_STATEMENT) {
      const chunk = ops.slice(i, i + IDS_PER_STATEMENT);
      const rows = this.sql
        .exec<{ origin: string; client: string | null; key: string | null }>(
          `UPDATE ops SET certified = 1 WHERE op_id IN (${chunk.map(() => "?").join(",")}) AND certified = 0` +
            " RETURNING origin, json_extract(op, '$.client') AS client, json_extract(op, '$.key') AS key",
          ...chunk.map((o) => o.opId),
        )
        .toArray();
      for (const r of rows) {
        if (typeof r.key === "string") keys.push(r.key);
        if (r.origin === me && typeof r.client === "string")
          mine.set(r.client, (mine.get(r.client) ?? 0) + 1);
      }
    }
    for (const [client, n] of mine)
      this.sql.exec("UPDATE clients SET pending = max(0, pending - ?) WHERE client = ?", n, client);
    return keys;
  }

  /** `pendingEffects` of several keys at once, each key's in the op log's order. */
  pendingEffectsOf(keys: readonly string[], exceptOpId = ""): Map<string, PendingEffect[]> {
    const out = new Map<string, PendingEffect[]>();
    for (let i = 0; i < keys.length; i += IDS_PER_STATEMENT) {
      const chunk = keys.slice(i, i + IDS_PER_STATEMENT);
      for (const r of this.sql.exec<{ key: string; type: string; effect: string }>(
        `SELECT json_extract(op, '$.key') AS key, json_extract(op, '$.type') AS type, effect FROM ops
           WHERE json_extract(op, '$.key') IN (${chunk.map(() => "?").join(",")}) AND certified = 0
             AND effect IS NOT NULL AND op_id != ? ORDER BY seq`,
        ...chunk,
        exceptOpId,
      )) {
        let l = out.get(r.key);
        if (!l) out.set(r.key, (l = []));
        l.push({ type: r.type as TypeName, effect: JSON.parse(r.effect) });
      }
    }
    return out;
  }

  /** Set (a record) or delete (undefined) several keys' tentative records at once. */
  putRecords(entries: readonly [key: string, rec: KeyRecord | undefined][]): void {
    const puts = entries.filter((e): e is [string, KeyRecord] => e[1] !== undefined);
    for (let i = 0; i < puts.length; i += RECORDS_PER_STATEMENT) {
      const chunk = puts.slice(i, i + RECORDS_PER_STATEMENT);
      this.sql.exec(
        `INSERT INTO kv (key, type, state) VALUES ${chunk.map(() => "(?, ?, ?)").join(", ")}` +
          " ON CONFLICT (key) DO UPDATE SET type = excluded.type, state = excluded.state",
        ...chunk.flatMap(([key, rec]) => [key, rec.type, JSON.stringify(rec.state)]),
      );
    }
    for (const [key, rec] of entries) if (rec === undefined) this.deleteRecord(key);
  }

  isOpCertified(opId: string): boolean {
    return (
      this.sql.exec<{ certified: number }>("SELECT certified FROM ops WHERE op_id = ?", opId).toArray()[0]
        ?.certified === 1
    );
  }

  /** The effects of `key`'s ops not yet certified, but `exceptOpId`'s (`ReplicaStateStore`). */
  pendingEffects(key: string, exceptOpId = ""): PendingEffect[] {
    return this.pendingEffectsOf([key], exceptOpId).get(key) ?? [];
  }

  clientMaxSeq(client: string): number {
    return (
      this.sql.exec<{ max_seq: number }>("SELECT max_seq FROM clients WHERE client = ?", client).toArray()[0]
        ?.max_seq ?? 0
    );
  }
  clientPending(client: string): number {
    return (
      this.sql.exec<{ pending: number }>("SELECT pending FROM clients WHERE client = ?", client).toArray()[0]
        ?.pending ?? 0
    );
  }
  /** Record that `client` used `seq`; `pendingDelta` counts ops accepted here awaiting certification. */
  /** Returns the client's pending count after the update. */
  noteClientSeq(client: string, seq: number, pendingDelta: number): number {
    return this.sql
      .exec<{ pending: number }>(
        `INSERT INTO clients (client, max_seq, pending) VALUES (?, ?, ?)
         ON CONFLICT (client) DO UPDATE SET max_seq = max(max_seq, excluded.max_seq), pending = pending + ?
         RETURNING pending`,
        client,
        seq,
        pendingDelta,
        pendingDelta,
      )
      .one().pending;
  }

  /** Position of the newest own op (0: none yet). */
  ownHead(): number {
    return Number(this.getMeta("own_head") ?? "0");
  }
  /** Take the next position of this replica's own log (inside the write's transaction). */
  nextOwnPos(): number {
    const pos = this.ownHead() + 1;
    this.setMeta("own_head", String(pos));
    return pos;
  }

  /**
   * Own ops with position > `after`, oldest first, each as `ReplicatedOp` JSON text with its `pos`:
   * the outbox drain, the re-send and anti-entropy answers all read the log this way.
   */
  logPage(origin: string, after: number, limit: number, through = Number.MAX_SAFE_INTEGER): string[] {
    return this.sql
      .exec<EntryRow & { opos: number }>(
        "SELECT opos, op, status, reason, effect FROM ops WHERE origin = ? AND opos > ? AND opos <= ? ORDER BY opos LIMIT ?",
        origin,
        after,
        through,
        limit,
      )
      .toArray()
      .map((r) => entryText(r, r.opos));
  }

  /** One op's row as `ReplicatedOp` JSON text without a position (shared evidence, not a log entry). */
  entryOf(opId: string): string | undefined {
    const r = this.sql
      .exec<EntryRow>("SELECT op, status, reason, effect FROM ops WHERE op_id = ?", opId)
      .toArray()[0];
    return r && entryText(r);
  }

  /** Ops of `origin` not certified yet whose signed ts is before `tsBefore`, oldest first (parsed). */
  uncertifiedOwnOps(origin: string, tsBefore: number, limit: number): SignedOp[] {
    return this.sql
      .exec<{ op: string }>(
        "SELECT op FROM ops WHERE origin = ? AND certified = 0 AND ts < ? ORDER BY opos LIMIT ?",
        origin,
        tsBefore,
        limit,
      )
      .toArray()
      .map((r) => JSON.parse(r.op) as SignedOp);
  }

  /** How many of `origin`'s ops in the log are not certified yet. */
  uncertifiedOwnCount(origin: string): number {
    return this.sql
      .exec<{ n: number }>("SELECT count(*) AS n FROM ops WHERE origin = ? AND certified = 0", origin)
      .one().n;
  }

  /** Highest seq of `client` whose op row was collected here (0: none). */
  collectedSeq(client: string): number {
    return (
      this.sql
        .exec<{ c: number }>("SELECT collected_seq AS c FROM clients WHERE client = ?", client)
        .toArray()[0]?.c ?? 0
    );
  }

  /**
   * Delete up to `limit` rows of `origin` with position ≤ `posMax` and op ts < `tsBefore` (certified
   * ones only if `certifiedOnly`), and raise each affected client's `collected_seq`. Returns the count.
   */
  collectOps(
    origin: string,
    posMax: number,
    tsBefore: number,
    certifiedOnly: boolean,
    limit: number,
  ): number {
    const ids = this.sql
      .exec<{ op_id: string }>(
        `DELETE FROM ops WHERE seq IN (
           SELECT seq FROM ops WHERE origin = ? AND opos <= ? AND ts < ? AND certified >= ? LIMIT ?)
         RETURNING op_id`,
        origin,
        posMax,
        tsBefore,
        certifiedOnly ? 1 : 0,
        limit,
      )
      .toArray();
    const maxSeq = new Map<string, number>();
    for (const { op_id } of ids) {
      const at = op_id.lastIndexOf(":");
      const client = op_id.slice(0, at);
      const seq = Number(op_id.slice(at + 1));
      if (seq > (maxSeq.get(client) ?? 0)) maxSeq.set(client, seq);
    }
    for (const [client, seq] of maxSeq)
      this.sql.exec("UPDATE clients SET collected_seq = max(collected_seq, ?) WHERE client = ?", seq, client);
    // a collected op's marks go with it (its retry is refused before they would be read)
    for (const { op_id } of ids) this.sql.exec("DELETE FROM superseded_ops WHERE op_id = ?", op_id);
    return ids.length;
  }

  /** Rows in the op log. */
  opCount(): number {
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM ops").one().n;
  }

  markSuperseded(opId: string): void {
    this.sql.exec("INSERT OR IGNORE INTO superseded_ops (op_id) VALUES (?)", opId);
  }
  isSuperseded(opId: string): boolean {
    return this.sql.exec("SELECT 1 FROM superseded_ops WHERE op_id = ?", opId).toArray().length > 0;
  }
  /** The effect stored with an op (null: it changed nothing, or no such row). */
  getEffect(opId: string): unknown {
    const e = this.sql
      .exec<{ effect: string | null }>("SELECT effect FROM ops WHERE op_id = ?", opId)
      .toArray()[0]?.effect;
    return e == null ? null : JSON.parse(e);
  }
  /** Every op not certified yet (parsed): a certified state transfer marks those it executed. */
  uncertifiedOps(): SignedOp[] {
    return this.sql
      .exec<{ op: string }>("SELECT op FROM ops WHERE certified = 0")
      .toArray()
      .map((r) => JSON.parse(r.op) as SignedOp);
  }

  /** Every key of the tentative state (a full certified state transfer rebuilds them all). */
  recordKeys(): string[] {
    return this.sql
      .exec<{ key: string }>("SELECT key FROM kv")
      .toArray()
      .map((r) => r.key);
  }

  unmarkSuperseded(opId: string): void {
    this.sql.exec("DELETE FROM superseded_ops WHERE op_id = ?", opId);
  }

  deleteRecord(key: string): void {
    this.sql.exec("DELETE FROM kv WHERE key = ?", key);
  }

  /** Put another version of an op in its row (same row, origin and position: logs stay contiguous). */
  replaceOp(opId: string, e: ReplicatedOp, value: Json): void {
    this.sql.exec(
      "UPDATE ops SET op = ?, status = ?, reason = ?, value = ?, effect = ?, ts = ? WHERE op_id = ?",
      JSON.stringify(e.op),
      e.status,
      e.reason ?? null,
      JSON.stringify(value),
      e.effect === null ? null : JSON.stringify(e.effect),
      e.op.ts,
      opId,
    );
  }

  /**
   * Two ops a client signed under one op id, `kept` the one this replica holds; `refused`: replicas
   * accepted both, so this replica refuses the client's new ops (that record replaces a `refused = 0` one).
   */
  recordEvidence(kept: SignedOp, other: SignedOp, refused: boolean, atMs: number): void {
    this.sql.exec(
      `INSERT INTO client_evidence (op_id, client, kept, other, refused, at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (op_id) DO UPDATE SET refused = 1, kept = excluded.kept, other = excluded.other
         WHERE excluded.refused = 1`,
      `${kept.client}:${kept.seq}`,
      kept.client,
      JSON.stringify(kept),
      JSON.stringify(other),
      refused ? 1 : 0,
      atMs,
    );
  }
  /** Has this replica proof already that the op id's client equivocated (both versions accepted)? */
  isEquivocationKnown(opId: string): boolean {
    return (
      this.sql.exec("SELECT 1 FROM client_evidence WHERE op_id = ? AND refused = 1", opId).toArray().length >
      0
    );
  }
  isClientRefused(client: string): boolean {
    return (
      this.sql
        .exec("SELECT 1 FROM client_evidence WHERE client = ? AND refused = 1 LIMIT 1", client)
        .toArray().length > 0
    );
  }
  evidenceOf(client: string, limit: number): ClientEvidence[] {
    return this.sql
      .exec<{ op_id: string; kept: string; other: string; refused: number; at: number }>(
        "SELECT op_id, kept, other, refused, at FROM client_evidence WHERE client = ? ORDER BY at LIMIT ?",
        client,
        limit,
      )
      .toArray()
      .map((r) => ({
        opId: r.op_id,
        kept: JSON.parse(r.kept),
        other: JSON.parse(r.other),
        refused: r.refused === 1,
        at: r.at,
      }));
  }
}
