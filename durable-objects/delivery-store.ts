/**
 * The EdgeReplica's delivery bookkeeping in SQLite (beside the op log of storage/replica-store.ts):
 * per-origin receive cursors, per-peer confirmations of this replica's own log, the alarm's task
 * deadlines. See docs/architecture.md ("Delivery and anti-entropy").
 */
import { EMPTY_CURSOR, type CursorState, type Ranges } from "../shared/delivery/origin-cursor.js";
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

export interface CursorRow extends CursorState {
  syncedAt: number;
}

export class DeliveryStore {
  constructor(private readonly sql: SqlStorage) {
    sql.exec(SCHEMA);
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
