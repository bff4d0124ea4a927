/**
 * The certified batches a PBFT node completed, kept as they were certified (`pbft_published`, the
 * newest CERTIFIED_KEPT_SEQS seqs) and served to replicas that missed a seq, through the node's
 * boundary (faults act on what is served, not on what is kept).
 */
import type { Certificate } from "../shared/certified/types.js";
import { CERTIFIED_BATCHES_BYTES_MAX, CERTIFIED_BATCHES_MAX } from "../shared/rpc/nodes.js";
import {
  certifiedBatchText,
  certifiedBatchesText,
  type CertifiedBatchMessage,
} from "../shared/wire/certified-batch.js";
import type { NodeBoundary } from "../platform/node-boundary.js";
import type { PbftEnv } from "../platform/pbft-env.js";

/** Certified batches a node keeps for replicas that missed them (`pbft_published`, the newest seqs). */
export const CERTIFIED_KEPT_SEQS = 1024;

export class KeptBatches {
  constructor(
    private readonly sql: SqlStorage,
    private readonly env: PbftEnv,
  ) {
    // the certified batches it completed ({certificate, ops} JSON), the newest CERTIFIED_KEPT_SEQS
    sql.exec("CREATE TABLE IF NOT EXISTS pbft_published (seq INTEGER PRIMARY KEY, msg TEXT NOT NULL)");
  }

  /** Keep a completed certified batch's text; forget the ones past retention. */
  keep(seq: number, text: string): void {
    this.sql.exec(
      "INSERT INTO pbft_published (seq, msg) VALUES (?, ?) ON CONFLICT (seq) DO NOTHING",
      seq,
      text,
    );
    this.sql.exec("DELETE FROM pbft_published WHERE seq <= ?", seq - this.keptSeqs());
  }

  /** CERTIFIED_KEPT_SEQS, or the env's (tests: a short retention; at least 16). */
  private keptSeqs(): number {
    const v = Number(this.env.CERTIFIED_KEPT_SEQS);
    return Number.isSafeInteger(v) && v >= 16 ? v : CERTIFIED_KEPT_SEQS;
  }

  /** The newest seq kept (0: none). */
  head(): number {
    return this.sql.exec<{ s: number | null }>("SELECT max(seq) AS s FROM pbft_published").one().s ?? 0;
  }

  /**
   * Kept certified batches from `fromSeq` on, contiguous (it stops at the first seq it lacks: one it
   * skipped by state transfer, or older than what it keeps), at most `max` (≤ CERTIFIED_BATCHES_MAX)
   * and CERTIFIED_BATCHES_BYTES_MAX of JSON past the first, as the text of a JSON array of each
   * batch's wire text, as `out` serves them.
   */
  served(fromSeq: number, max: number, out: NodeBoundary): string {
    const rows = this.sql
      .exec<{ seq: number; msg: string }>(
        "SELECT seq, msg FROM pbft_published WHERE seq >= ? ORDER BY seq LIMIT ?",
        fromSeq,
        Math.min(max, CERTIFIED_BATCHES_MAX),
      )
      .toArray();
    const texts: string[] = [];
    let bytes = 0;
    for (const [i, r] of rows.entries()) {
      if (r.seq !== fromSeq + i) break;
      bytes += r.msg.length;
      if (i > 0 && bytes > CERTIFIED_BATCHES_BYTES_MAX) break;
      const msg = JSON.parse(r.msg) as CertifiedBatchMessage; // its own row, written by `keep`
      const served = { ...msg, certificate: out.certificate(msg.certificate) };
      texts.push(out.servedText(served, certifiedBatchText(served)));
    }
    return certifiedBatchesText(texts);
  }

  /** The certificate of a kept `seq`, if kept. */
  certificate(seq: number): Certificate | undefined {
    const row = this.sql
      .exec<{ msg: string }>("SELECT msg FROM pbft_published WHERE seq = ?", seq)
      .toArray()[0];
    return row ? (JSON.parse(row.msg) as CertifiedBatchMessage).certificate : undefined;
  }
}
