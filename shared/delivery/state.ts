/**
 * What the delivery core (core.ts) keeps durable, behind one interface with a memory implementation
 * (memory-state.ts: the simulator, unit tests) and a SQLite one (durable-objects/delivery-store.ts):
 * per-origin receive cursors, per-peer confirmations of this replica's own log, the alarm's task
 * deadlines, and three marks (how far the drain sent, where the previous re-send tick stood, the
 * idle level). And what it reads of the op log: this replica's own log by position. The core writes
 * during a step; the host runs the step inside `transaction`, so a step that throws leaves nothing.
 */
import type { SignedOp } from "../ops.js";
import type { CursorState } from "./origin-cursor.js";
import type { Deadlines } from "./timers.js";

/** A receiver's cursor for one origin, and when it last caught up with that origin's whole log. */
export interface CursorRow extends CursorState {
  syncedAt: number;
}

/** `sent_pos`: own positions drained; `resend_mark`: sent at the previous re-send tick; `idle_level`. */
export const MARKS = ["sent_pos", "resend_mark", "idle_level"] as const;
export type Mark = (typeof MARKS)[number];

export interface DeliveryState {
  cursor(origin: string): CursorRow;
  putCursor(origin: string, c: CursorRow): void;
  /** Per peer, the highest own position it confirmed. */
  acks(): Record<string, number>;
  /** Confirmations only move forward. */
  noteAck(peer: string, pos: number): void;
  deadlines(): Deadlines;
  putDeadlines(d: Deadlines): void;
  /** A mark's value (0 when never written). */
  mark(name: Mark): number;
  putMark(name: Mark, value: number): void;
  /** `body`'s writes all kept, or none if it throws. A DO: `ctx.storage.transactionSync`. */
  transaction<T>(body: () => T): T;
}

/** This replica's own op log, read by position (the outbox the drain, re-sends and pages read). */
export interface OwnLog {
  /** Position of the newest own op (0: none). */
  head(): number;
  /** Entries (`ReplicatedOp` JSON text with `pos`) with position in `(after, through]`, oldest first. */
  page(after: number, limit: number, through?: number): string[];
  /** Own ops not certified yet whose signed ts is before `tsBefore`, oldest first. */
  uncertified(tsBefore: number, limit: number): SignedOp[];
  /** How many own ops are not certified yet. */
  uncertifiedCount(): number;
}
