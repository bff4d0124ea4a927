/**
 * The EdgeReplica's SQLite schema and statements. All state lives here, not in memory: a replica
 * holds any number of keys and ops in bounded memory, and survives eviction and restart as is.
 */
import type { Json } from "../shared/canonical.js";
import type { OpStatus, TypeName } from "../shared/datatypes/index.js";
import type { KeyRecord } from "../shared/materialize.js";
import type { SignedOp } from "../shared/ops.js";
import type { ReplicatedOp } from "../shared/replication.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
-- tentative state: every op this replica has applied, in any order
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

export interface StoredOp {
  opId: string;
  origin: string;
  op: SignedOp;
  status: OpStatus;
  reason?: string;
  value: Json;
}

export class ReplicaStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(SCHEMA);
    sql.exec(LWW_AND_EVIDENCE);
  }

  getMeta(k: string): string | undefined {
    return this.sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = ?", k).toArray()[0]?.v;
  }
  setMeta(k: string, v: string): void {
    this.sql.exec("INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v", k, v);
  }

  getRecord(key: string): KeyRecord | undefined {
    const row = this.sql
      .exec<{ type: string; state: string }>("SELECT type, state FROM kv WHERE key = ?", key)
      .toArray()[0];
    return row ? { type: row.type as TypeName, state: JSON.parse(row.state) } : undefined;
  }
  putRecord(key: string, rec: KeyRecord): void {
    this.sql.exec(
      "INSERT INTO kv (key, type, state) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET state = excluded.state",
      key,
      rec.type,
      JSON.stringify(rec.state),
    );
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
  insertOp(opId: string, origin: string, e: ReplicatedOp, value: Json): void {
    this.sql.exec(
      "INSERT INTO ops (op_id, origin, op, status, reason, value, effect) VALUES (?, ?, ?, ?, ?, ?, ?)",
      opId,
      origin,
      JSON.stringify(e.op),
      e.status,
      e.reason ?? null,
      JSON.stringify(value),
      e.effect === null ? null : JSON.stringify(e.effect),
    );
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

  private drainedSeq(): number {
    return Number(this.getMeta("drained_seq") ?? "0");
  }

  /** The next undrained ops of `origin` (this replica), each as `ReplicatedOp` JSON text. */
  peekOutbox(origin: string, limit: number): { seq: number; entry: string }[] {
    return this.sql
      .exec<{ seq: number; op: string; status: string; reason: string | null; effect: string | null }>(
        "SELECT seq, op, status, reason, effect FROM ops WHERE seq > ? AND origin = ? ORDER BY seq LIMIT ?",
        this.drainedSeq(),
        origin,
        limit,
      )
      .toArray()
      .map((r) => ({
        seq: r.seq,
        // stitched from stored JSON texts: nothing is parsed or re-encoded on the way out
        entry:
          `{"op":${r.op},"status":${JSON.stringify(r.status)}` +
          (r.reason === null ? "" : `,"reason":${JSON.stringify(r.reason)}`) +
          `,"effect":${r.effect ?? "null"}}`,
      }));
  }
  markDrained(seq: number): void {
    this.setMeta("drained_seq", String(seq));
  }
  outboxSize(origin: string): number {
    return this.sql
      .exec<{ n: number }>(
        "SELECT count(*) AS n FROM ops WHERE seq > ? AND origin = ?",
        this.drainedSeq(),
        origin,
      )
      .one().n;
  }

  markSuperseded(opId: string): void {
    this.sql.exec("INSERT OR IGNORE INTO superseded_ops (op_id) VALUES (?)", opId);
  }
  isSuperseded(opId: string): boolean {
    return this.sql.exec("SELECT 1 FROM superseded_ops WHERE op_id = ?", opId).toArray().length > 0;
  }
}
