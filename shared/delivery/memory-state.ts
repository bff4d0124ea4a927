/**
 * The delivery core's state in memory (shared/delivery/state.ts): the simulator's and the unit
 * tests' host. A transaction snapshots everything and puts the snapshot back on a throw (nested
 * ones each keep their own); `clone` is what a restart reads back (a copy, as a database gives).
 */
import { EMPTY_CURSOR } from "./origin-cursor.js";
import type { CursorRow, DeliveryState, Mark } from "./state.js";
import type { Deadlines } from "./timers.js";

interface Rows {
  cursors: Map<string, CursorRow>;
  acks: Map<string, number>;
  deadlines: Deadlines;
  marks: Map<Mark, number>;
}

const copyCursor = (c: CursorRow): CursorRow => ({
  cursor: c.cursor,
  above: c.above.map(([a, b]) => [a, b]),
  syncedAt: c.syncedAt,
});

const copy = (r: Rows): Rows => ({
  cursors: new Map([...r.cursors].map(([k, c]) => [k, copyCursor(c)])),
  acks: new Map(r.acks),
  deadlines: { ...r.deadlines },
  marks: new Map(r.marks),
});

export class MemoryDeliveryState implements DeliveryState {
  private rows: Rows = { cursors: new Map(), acks: new Map(), deadlines: {}, marks: new Map() };

  cursor(origin: string): CursorRow {
    const c = this.rows.cursors.get(origin);
    return c ? copyCursor(c) : { ...EMPTY_CURSOR, above: [], syncedAt: 0 };
  }
  putCursor(origin: string, c: CursorRow): void {
    this.rows.cursors.set(origin, copyCursor(c));
  }
  acks(): Record<string, number> {
    return Object.fromEntries(this.rows.acks);
  }
  noteAck(peer: string, pos: number): void {
    this.rows.acks.set(peer, Math.max(pos, this.rows.acks.get(peer) ?? pos));
  }
  deadlines(): Deadlines {
    return { ...this.rows.deadlines };
  }
  putDeadlines(d: Deadlines): void {
    this.rows.deadlines = { ...d };
  }
  mark(name: Mark): number {
    return this.rows.marks.get(name) ?? 0;
  }
  putMark(name: Mark, value: number): void {
    this.rows.marks.set(name, value);
  }
  transaction<T>(body: () => T): T {
    const saved = copy(this.rows);
    try {
      return body();
    } catch (e) {
      this.rows = saved;
      throw e;
    }
  }
  clone(): MemoryDeliveryState {
    const c = new MemoryDeliveryState();
    c.rows = copy(this.rows);
    return c;
  }
}
