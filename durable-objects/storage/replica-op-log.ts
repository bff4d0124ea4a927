/**
 * The replica's op log in SQLite (table `ops`, durable-objects/storage/replica-schema.ts): one row
 * per op id ever seen, from any origin — dedupe, idempotent retries, replay protection — with the
 * op's outcome, its effect, and whether it is certified yet; the ops not certified yet are what the
 * tentative state holds beyond the certified one. Beside it, the marks of register writes that lost
 * on arrival (`superseded_ops`). Each origin's log by position: replica-origin-logs.ts.
 */
import type { Json } from "../../shared/canonical.js";
import type { OpStatus, TypeName } from "../../shared/datatypes/index.js";
import type { PendingEffect } from "../../shared/materialize.js";
import type { SignedOp } from "../../shared/ops.js";
import { entryText, type EntryRow } from "../../shared/replica/entry-text.js";
import type { StoredOp } from "../../shared/replica/store.js";
import type { ReplicatedOp } from "../../shared/replication.js";
import type { ReplicaClients } from "./replica-clients.js";
import { IDS_PER_STATEMENT, placeholders } from "./replica-schema.js";

export class ReplicaOpLog {
  constructor(
    private readonly sql: SqlStorage,
    private readonly clients: ReplicaClients,
  ) {}

  get(opId: string): StoredOp | undefined {
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

  has(opId: string): boolean {
    return this.sql.exec("SELECT 1 FROM ops WHERE op_id = ?", opId).toArray().length > 0;
  }

  /**
   * `pos`: the op's position in its origin's log (null if unknown); `certified`: the op is in the
   * certified order already (its certificate came first).
   */
  insert(
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

  /** Put another version of an op in its row (same row, origin and position: logs stay contiguous). */
  replace(opId: string, e: ReplicatedOp, value: Json): void {
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

  /** The effect stored with an op (null: it changed nothing, or no such row). */
  effect(opId: string): unknown {
    const e = this.sql
      .exec<{ effect: string | null }>("SELECT effect FROM ops WHERE op_id = ?", opId)
      .toArray()[0]?.effect;
    return e == null ? null : JSON.parse(e);
  }

  isCertified(opId: string): boolean {
    return (
      this.sql.exec<{ certified: number }>("SELECT certified FROM ops WHERE op_id = ?", opId).toArray()[0]
        ?.certified === 1
    );
  }

  /** One op's row as `ReplicatedOp` JSON text without a position (shared evidence, not a log entry). */
  entryOf(opId: string): string | undefined {
    const r = this.sql
      .exec<EntryRow>("SELECT op, status, reason, effect FROM ops WHERE op_id = ?", opId)
      .toArray()[0];
    return r && entryText(r);
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
          `UPDATE ops SET certified = 1 WHERE op_id IN (${placeholders(chunk.length)}) AND certified = 0` +
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
    this.clients.certified(mine);
    return keys;
  }

  /** The effects of several keys' ops not certified yet but `exceptOpId`'s, each key's in log order. */
  pendingEffectsOf(keys: readonly string[], exceptOpId = ""): Map<string, PendingEffect[]> {
    const out = new Map<string, PendingEffect[]>();
    for (let i = 0; i < keys.length; i += IDS_PER_STATEMENT) {
      const chunk = keys.slice(i, i + IDS_PER_STATEMENT);
      for (const r of this.sql.exec<{ key: string; type: string; effect: string }>(
        `SELECT json_extract(op, '$.key') AS key, json_extract(op, '$.type') AS type, effect FROM ops
           WHERE json_extract(op, '$.key') IN (${placeholders(chunk.length)}) AND certified = 0
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

  /** Every op not certified yet (parsed): a certified state transfer marks those it executed. */
  uncertified(): SignedOp[] {
    return this.sql
      .exec<{ op: string }>("SELECT op FROM ops WHERE certified = 0")
      .toArray()
      .map((r) => JSON.parse(r.op) as SignedOp);
  }

  /** Rows in the op log. */
  count(): number {
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM ops").one().n;
  }

  markSuperseded(opId: string): void {
    this.sql.exec("INSERT OR IGNORE INTO superseded_ops (op_id) VALUES (?)", opId);
  }
  unmarkSuperseded(opId: string): void {
    this.sql.exec("DELETE FROM superseded_ops WHERE op_id = ?", opId);
  }
  isSuperseded(opId: string): boolean {
    return this.sql.exec("SELECT 1 FROM superseded_ops WHERE op_id = ?", opId).toArray().length > 0;
  }
}
