/**
 * The delivery core's state in SQLite (shared/delivery/state.ts `DeliveryState`; the memory one is
 * shared/delivery/memory-state.ts, both run by one acceptance suite): per-origin receive cursors,
 * per-peer confirmations of this replica's own log, the alarm's task deadlines, and the marks in
 * the replica's `meta` rows (`sent_pos`, `resend_mark`, `idle_level`). And the own op log read by
 * position for the core (`ownLog`). See docs/architecture.md ("Delivery and anti-entropy").
 */
import type { SignedOp } from "../shared/ops.js";
import { EMPTY_CURSOR, type Ranges } from "../shared/delivery/origin-cursor.js";
import type { CursorRow, DeliveryState, Mark, OwnLog } from "../shared/delivery/state.js";
import { TASKS, type Deadlines, type Task } from "../shared/delivery/timers.js";

const SCHEMA = `
-- receiver side: per origin, the highest contiguous position of its log handled here, the ranges
-- handled above it (JSON), and when this replica last caught up with that origin's whole log
CREATE TABLE IF NOT EXISTS cursors (
  origin TEXT PRIMARY KEY, cursor INTEGER NOT NULL, above TEXT NOT NULL, synced_at INTEGER NOT NULL DEFAULT 0
);
-- origin side: per peer, the highest position of this replica's own log the peer confirmed
CREATE TABLE IF NOT EXISTS acks (peer TEXT PRIMARY KEY, pos INTEGER NOT NULL);
-- the one alarm's task deadlines (ms since epoch)
CREATE TABLE IF NOT EXISTS deadlines (task TEXT PRIMARY KEY, at INTEGER NOT NULL);
`;

/** Where the marks live: the replica store's `meta` rows. */
export interface MetaStore {
  getMeta(name: string): string | undefined;
  setMeta(name: string, value: string): void;
}

export class DeliveryStore implements DeliveryState {
  private readonly sql: SqlStorage;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly meta: MetaStore,
  ) {
    this.sql = storage.sql;
    this.sql.exec(SCHEMA);
  }

  transaction<T>(body: () => T): T {
    return this.storage.transactionSync(body);
  }

  mark(name: Mark): number {
    const v = Number(this.meta.getMeta(name) ?? "0");
    return Number.isFinite(v) ? v : 0;
  }
  putMark(name: Mark, value: number): void {
    this.meta.setMeta(name, String(value));
  }

  cursor(origin: string): CursorRow {
    const r = this.sql
      .exec<{ cursor: number; above: string; synced_at: number }>(
        "SELECT cursor, above, synced_at FROM cursors WHERE origin = ?",
        origin,
      )
      .toArray()[0];
    return r
      ? { cursor: r.cursor, above: JSON.parse(r.above) as Ranges, syncedAt: r.synced_at }
      : { ...EMPTY_CURSOR, syncedAt: 0 };
  }
  putCursor(origin: string, c: CursorRow): void {
    this.sql.exec(
      `INSERT INTO cursors (origin, cursor, above, synced_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (origin) DO UPDATE SET cursor = excluded.cursor, above = excluded.above, synced_at = excluded.synced_at`,
      origin,
      c.cursor,
      JSON.stringify(c.above),
      c.syncedAt,
    );
  }

  acks(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.sql.exec<{ peer: string; pos: number }>("SELECT peer, pos FROM acks"))
      out[r.peer] = r.pos;
    return out;
  }
  /** Confirmations only move forward. */
  noteAck(peer: string, pos: number): void {
    this.sql.exec(
      "INSERT INTO acks (peer, pos) VALUES (?, ?) ON CONFLICT (peer) DO UPDATE SET pos = max(pos, excluded.pos)",
      peer,
      pos,
    );
  }

  deadlines(): Deadlines {
    const out: Deadlines = {};
    for (const r of this.sql.exec<{ task: string; at: number }>("SELECT task, at FROM deadlines"))
      if ((TASKS as readonly string[]).includes(r.task)) out[r.task as Task] = r.at;
    return out;
  }
  putDeadlines(d: Deadlines): void {
    for (const t of TASKS) {
      const at = d[t];
      if (at === undefined) this.sql.exec("DELETE FROM deadlines WHERE task = ?", t);
      else
        this.sql.exec(
          "INSERT INTO deadlines (task, at) VALUES (?, ?) ON CONFLICT (task) DO UPDATE SET at = excluded.at",
          t,
          at,
        );
    }
  }
}

/** What the own-log reads of storage/replica-origin-logs.ts offer, for one origin. */
interface OriginLogs {
  ownHead(): number;
  page(origin: string, after: number, limit: number, through?: number): string[];
  uncertifiedOf(origin: string, tsBefore: number, limit: number): SignedOp[];
  uncertifiedCountOf(origin: string): number;
}

/** Replica `me`'s own log as the delivery core reads it. */
export const ownLog = (logs: OriginLogs, me: string): OwnLog => ({
  head: () => logs.ownHead(),
  page: (after, limit, through) => logs.page(me, after, limit, through),
  uncertified: (tsBefore, limit) => logs.uncertifiedOf(me, tsBefore, limit),
  uncertifiedCount: () => logs.uncertifiedCountOf(me),
});
