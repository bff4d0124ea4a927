/**
 * The certified follower's tables in a replica's SQLite (durable-objects/storage/sql-follower-store.ts):
 * - `cert_head` (one row: seq, log_root, op_count, diverged), `cert_certificates` (seq → JSON),
 * - `cert_results` (op_id → seq, result, proof), `cert_result_seqs` (seq → certificate time),
 * - `cert_buffer` ((seq, digest) → batch text),
 * - the certified state: `cert_records` (no history) and the Merkle tree's `cert_nodes`,
 *   `cert_root`, `cert_retired_at`.
 */
import { SqlNodeStore } from "./sql-node-store.js";
import { SqlRecordStore } from "./sql-record-store.js";

export const FOLLOWER_SCHEMA = `
-- the newest certified seq applied, the log chain at it, and the first divergence (if any)
CREATE TABLE IF NOT EXISTS cert_head (
  one INTEGER PRIMARY KEY CHECK (one = 1), seq INTEGER NOT NULL, log_root TEXT NOT NULL,
  op_count INTEGER NOT NULL, diverged TEXT
);
-- the newest CERTS_KEPT certificates applied, by seq
CREATE TABLE IF NOT EXISTS cert_certificates (seq INTEGER PRIMARY KEY, certificate TEXT NOT NULL);
-- each certified op's result and its proof against its batch's resultsRoot (for RESULTS_KEPT_MS)
CREATE TABLE IF NOT EXISTS cert_results (
  op_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, result TEXT NOT NULL, proof TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS cert_results_seq ON cert_results (seq);
-- the seqs that have results here, with their certificate's time: results and certificates are kept by it
CREATE TABLE IF NOT EXISTS cert_result_seqs (seq INTEGER PRIMARY KEY, time INTEGER NOT NULL);
-- verified batches ahead of the next seq, by (seq, batch digest): applied once the gap fills
CREATE TABLE IF NOT EXISTS cert_buffer (
  seq INTEGER NOT NULL, digest TEXT NOT NULL, batch TEXT NOT NULL, PRIMARY KEY (seq, digest)
) WITHOUT ROWID;
`;

/** The certified state's record store keeps no history (a replica never serves an older version). */
export const CERT_RECORDS = { history: false } as const;

/** The certified state's tables (SqlRecordStore "cert_records", SqlNodeStore "cert"). */
export const CERT_STATE_TABLES = [
  ...SqlRecordStore.tablesOf("cert_records", CERT_RECORDS),
  ...SqlNodeStore.tablesOf("cert"),
];
