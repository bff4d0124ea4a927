/**
 * The fallback posts a PBFT node owes (`pbft_fallback`): certified batches of seqs it is next in line
 * for, each due CERT_FALLBACK_MS after the batch completed (docs/architecture.md, "Posting
 * certificates"). Bounded: past CERT_FALLBACK_PENDING_MAX waiting, the oldest are due at once (a
 * delay, never a loss).
 */
import type { PbftEnv } from "../platform/pbft-env.js";

/** How long the next node in line waits before it posts a seq's certificate too (CERT_FALLBACK_MS). */
export const CERT_FALLBACK_MS_DEFAULT = 2_000;
/** Fallback posts waiting at most (past it, the oldest is posted at once: a delay, never a loss). */
export const CERT_FALLBACK_PENDING_MAX = 256;

export class FallbackPosts {
  constructor(
    private readonly sql: SqlStorage,
    private readonly env: PbftEnv,
  ) {
    // fallback posts of certified batches ({certificate, ops} JSON), due at `due_at` (ms)
    sql.exec(
      "CREATE TABLE IF NOT EXISTS pbft_fallback (seq INTEGER PRIMARY KEY, due_at INTEGER NOT NULL, msg TEXT NOT NULL)",
    );
  }

  /** The wait before a fallback post: CERT_FALLBACK_MS, or the default. */
  delayMs(): number {
    const v = Number(this.env.CERT_FALLBACK_MS);
    return Number.isSafeInteger(v) && v >= 0 && v <= 3_600_000 ? v : CERT_FALLBACK_MS_DEFAULT;
  }

  schedule(seq: number, text: string): void {
    this.sql.exec(
      "INSERT INTO pbft_fallback (seq, due_at, msg) VALUES (?, ?, ?) ON CONFLICT (seq) DO NOTHING",
      seq,
      Date.now() + this.delayMs(),
      text,
    );
    const pending = this.pending();
    if (pending > CERT_FALLBACK_PENDING_MAX)
      this.sql.exec(
        "UPDATE pbft_fallback SET due_at = 0 WHERE seq IN (SELECT seq FROM pbft_fallback ORDER BY seq LIMIT ?)",
        pending - CERT_FALLBACK_PENDING_MAX,
      );
  }

  /** Posts due at `now`, oldest seq first, at most `max`. */
  due(now: number, max: number): { seq: number; msg: string }[] {
    return this.sql
      .exec<{ seq: number; msg: string }>(
        "SELECT seq, msg FROM pbft_fallback WHERE due_at <= ? ORDER BY seq LIMIT ?",
        now,
        max,
      )
      .toArray();
  }

  /** Due again at `at` (a post in flight, unless it lands first). */
  postpone(seq: number, at: number): void {
    this.sql.exec("UPDATE pbft_fallback SET due_at = ? WHERE seq = ?", at, seq);
  }

  /** Posted, or not needed any more. */
  done(seq: number): void {
    this.sql.exec("DELETE FROM pbft_fallback WHERE seq = ?", seq);
  }

  /** When the next fallback post is due (ms), null if none waits. */
  nextDueAt(): number | null {
    return (
      this.sql.exec<{ at: number | null }>("SELECT min(due_at) AS at FROM pbft_fallback").one().at ?? null
    );
  }

  pending(): number {
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM pbft_fallback").one().n;
  }
}
