/**
 * The op log read by origin and position (the column `ops.opos`: each origin numbers its own ops 1,
 * 2, 3, … in acceptance order). This replica's own log is its outbox: its head (meta `own_head`)
 * and next position, the pages delivery sends (drain, re-send, anti-entropy answers), the own ops
 * still uncertified that it re-submits to the nodes. Rows of any origin are collected by position
 * once delivered and certified (durable-objects/outbox.ts). The rows by op id: replica-op-log.ts.
 */
import type { SignedOp } from "../../shared/ops.js";
import { entryText, type EntryRow } from "../../shared/replica/entry-text.js";
import type { ReplicaClients } from "./replica-clients.js";

/** Where the own log's head is kept (the store's `meta`). */
interface Meta {
  getMeta(k: string): string | undefined;
  setMeta(k: string, v: string): void;
}

export class ReplicaOriginLogs {
  constructor(
    private readonly sql: SqlStorage,
    private readonly meta: Meta,
    private readonly clients: ReplicaClients,
  ) {}

  /** Position of the newest own op (0: none yet). */
  ownHead(): number {
    return Number(this.meta.getMeta("own_head") ?? "0");
  }

  /** Take the next position of this replica's own log (inside the write's transaction). */
  nextOwnPos(): number {
    const pos = this.ownHead() + 1;
    this.meta.setMeta("own_head", String(pos));
    return pos;
  }

  /**
   * Ops of `origin` with position > `after` (and ≤ `through`), oldest first, each as `ReplicatedOp`
   * JSON text with its `pos`: the outbox drain, the re-send and anti-entropy answers all read it so.
   */
  page(origin: string, after: number, limit: number, through = Number.MAX_SAFE_INTEGER): string[] {
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

  /** Ops of `origin` not certified yet whose signed ts is before `tsBefore`, oldest first (parsed). */
  uncertifiedOf(origin: string, tsBefore: number, limit: number): SignedOp[] {
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
  uncertifiedCountOf(origin: string): number {
    return this.sql
      .exec<{ n: number }>("SELECT count(*) AS n FROM ops WHERE origin = ? AND certified = 0", origin)
      .one().n;
  }

  /**
   * Delete up to `limit` rows of `origin` with position ≤ `posMax` and op ts < `tsBefore` (certified
   * ones only if `certifiedOnly`), raise each affected client's collected seq and drop the rows'
   * superseded marks (a collected op's retry is refused before they would be read). Returns the count.
   */
  collect(origin: string, posMax: number, tsBefore: number, certifiedOnly: boolean, limit: number): number {
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
    this.clients.collected(maxSeq);
    for (const { op_id } of ids) this.sql.exec("DELETE FROM superseded_ops WHERE op_id = ?", op_id);
    return ids.length;
  }
}
