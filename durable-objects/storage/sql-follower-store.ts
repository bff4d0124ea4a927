/**
 * The certified follower's stores over a replica Durable Object's SQLite (shared/follower/store.ts
 * says what each method keeps; test/support/follower-acceptance.ts checks this against the memory
 * store). The tables are the ones replicas have always had, so existing storage reads unchanged:
 *
 * - `cert_head` (one row: seq, log_root, op_count, diverged), `cert_certificates` (seq → JSON),
 * - `cert_results` (op_id → seq, result, proof), `cert_result_seqs` (seq → certificate time),
 * - `cert_buffer` ((seq, digest) → batch text),
 * - the certified state: `cert_records` (no history: a replica never serves an older version) and
 *   the Merkle tree's `cert_nodes`, `cert_root`, `cert_retired_at`.
 *
 * `transaction` is `transactionSync`, which nests (an inner call is a savepoint).
 */
import { canonicalJson } from "../../shared/canonical.js";
import type { CertifiedStores } from "../../shared/certified/state-machine.js";
import type { Certificate, Digest } from "../../shared/certified/types.js";
import type { BufferedBatch, FollowerStore, StoredResult } from "../../shared/follower/store.js";
import type { Head } from "../../shared/follower/types.js";
import { CERT_RECORDS, CERT_STATE_TABLES, FOLLOWER_SCHEMA } from "./sql-follower-schema.js";
import { SqlNodeStore } from "./sql-node-store.js";
import { SqlRecordStore } from "./sql-record-store.js";

/** Result rows per INSERT (4 bound values each; a statement takes at most 100). */
const RESULT_ROWS_PER_INSERT = 25;

interface HeadRow extends Record<string, SqlStorageValue> {
  seq: number;
  log_root: string;
  op_count: number;
  diverged: string | null;
}

export class SqlFollowerStore implements FollowerStore {
  constructor(private readonly storage: DurableObjectStorage) {
    storage.sql.exec(FOLLOWER_SCHEMA);
  }

  private get sql(): SqlStorage {
    return this.storage.sql;
  }

  private first<T extends Record<string, SqlStorageValue>>(query: string, ...args: SqlStorageValue[]) {
    return this.sql.exec<T>(query, ...args).toArray()[0];
  }

  transaction<T>(body: () => T): T {
    return this.storage.transactionSync(body);
  }

  openState(): CertifiedStores {
    return {
      records: new SqlRecordStore(this.sql, "cert_records", CERT_RECORDS),
      nodes: new SqlNodeStore(this.sql, "cert"),
    };
  }

  wipeState(): void {
    for (const t of CERT_STATE_TABLES) this.sql.exec(`DELETE FROM ${t}`);
  }

  head(): Head | undefined {
    const row = this.first<HeadRow>("SELECT seq, log_root, op_count, diverged FROM cert_head WHERE one = 1");
    if (!row) return undefined;
    const diverged = row.diverged === null ? null : (JSON.parse(row.diverged) as Head["diverged"]);
    return { seq: row.seq, logRoot: row.log_root, opCount: row.op_count, diverged };
  }

  putHead(h: Head): void {
    this.sql.exec(
      `INSERT INTO cert_head (one, seq, log_root, op_count, diverged) VALUES (1, ?, ?, ?, ?)
       ON CONFLICT (one) DO UPDATE SET seq = excluded.seq, log_root = excluded.log_root,
         op_count = excluded.op_count, diverged = excluded.diverged`,
      h.seq,
      h.logRoot,
      h.opCount,
      h.diverged === null ? null : JSON.stringify(h.diverged),
    );
  }

  putCertificate(certificate: Certificate): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO cert_certificates (seq, certificate) VALUES (?, ?)",
      certificate.body.seq,
      canonicalJson(certificate),
    );
  }

  certificate(seq: number): Certificate | undefined {
    const row = this.first<{ certificate: string }>(
      "SELECT certificate FROM cert_certificates WHERE seq = ?",
      seq,
    );
    return row ? (JSON.parse(row.certificate) as Certificate) : undefined;
  }

  latestCertificate(): Certificate | undefined {
    const row = this.first<{ certificate: string }>(
      "SELECT certificate FROM cert_certificates ORDER BY seq DESC LIMIT 1",
    );
    return row ? (JSON.parse(row.certificate) as Certificate) : undefined;
  }

  dropCertificatesThrough(seq: number): void {
    this.sql.exec(
      "DELETE FROM cert_certificates WHERE seq <= ? AND seq NOT IN (SELECT seq FROM cert_result_seqs)",
      seq,
    );
  }

  putResults(seq: number, time: number, results: readonly Omit<StoredResult, "seq">[]): void {
    if (results.length === 0) return; // a seq without results keeps no certificate for them
    // multi-row statements (4 bound values a row, at most 100 a statement): each statement costs
    // a call into the runtime, and one per op was a visible share of a replica's certified apply
    for (let i = 0; i < results.length; i += RESULT_ROWS_PER_INSERT) {
      const chunk = results.slice(i, i + RESULT_ROWS_PER_INSERT);
      this.sql.exec(
        "INSERT OR REPLACE INTO cert_results (op_id, seq, result, proof) VALUES " +
          chunk.map(() => "(?, ?, ?, ?)").join(", "),
        ...chunk.flatMap((r) => [r.result.opId, seq, JSON.stringify(r.result), JSON.stringify(r.proof)]),
      );
    }
    this.sql.exec("INSERT OR REPLACE INTO cert_result_seqs (seq, time) VALUES (?, ?)", seq, time);
  }

  result(opId: string): StoredResult | undefined {
    const row = this.first<{ seq: number; result: string; proof: string }>(
      "SELECT seq, result, proof FROM cert_results WHERE op_id = ?",
      opId,
    );
    return row ? { seq: row.seq, result: JSON.parse(row.result), proof: JSON.parse(row.proof) } : undefined;
  }

  resultSeqBefore(time: number): number | null {
    return this.sql
      .exec<{ s: number | null }>("SELECT max(seq) AS s FROM cert_result_seqs WHERE time < ?", time)
      .one().s;
  }

  dropResultsThrough(seq: number): void {
    this.sql.exec("DELETE FROM cert_results WHERE seq <= ?", seq);
    this.sql.exec("DELETE FROM cert_result_seqs WHERE seq <= ?", seq);
  }

  bufferHas(seq: number, digest: Digest): boolean {
    return (
      this.first("SELECT 1 AS one FROM cert_buffer WHERE seq = ? AND digest = ?", seq, digest) !== undefined
    );
  }

  bufferCount(seq: number): number {
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM cert_buffer WHERE seq = ?", seq).one().n;
  }

  bufferPut(seq: number, batch: BufferedBatch): void {
    this.sql.exec(
      "INSERT INTO cert_buffer (seq, digest, batch) VALUES (?, ?, ?)",
      seq,
      batch.digest,
      batch.text,
    );
  }

  bufferAt(seq: number): BufferedBatch[] {
    return this.sql
      .exec<{ digest: string; text: string }>(
        "SELECT digest, batch AS text FROM cert_buffer WHERE seq = ? ORDER BY digest",
        seq,
      )
      .toArray();
  }

  bufferDropThrough(seq: number): void {
    this.sql.exec("DELETE FROM cert_buffer WHERE seq <= ?", seq);
  }

  bufferDropSeq(seq: number): void {
    this.sql.exec("DELETE FROM cert_buffer WHERE seq = ?", seq);
  }

  bufferClear(): void {
    this.sql.exec("DELETE FROM cert_buffer");
  }

  bufferSize(): number {
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM cert_buffer").one().n;
  }
}
