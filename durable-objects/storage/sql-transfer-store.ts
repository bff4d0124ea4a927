/**
 * A replica's certified state transfer in progress, in SQLite (durable-objects/certified-transfer.ts
 * drives it): its verified certificate and the node it asks (`cert_xfer`, one row while there is a
 * transfer) and one row per subtree (`cert_xfer_paths`), written after every answer in one
 * transaction, so an eviction or a restart resumes where it was.
 */
import type { Certificate, ChunkRecord } from "../../shared/certified/types.js";
import type { Changes, PathState, TransferState } from "../../shared/certified/replica-transfer.js";

const SCHEMA = `
-- the certified state transfer in progress (one row while there is one): its verified certificate
CREATE TABLE IF NOT EXISTS cert_xfer (
  one INTEGER PRIMARY KEY CHECK (one = 1), certificate TEXT, fresh INTEGER NOT NULL,
  node INTEGER NOT NULL, need_point INTEGER NOT NULL
);
-- its subtrees: pending (to fetch), reused (this replica's own), fetched (records JSON)
CREATE TABLE IF NOT EXISTS cert_xfer_paths (
  path TEXT PRIMARY KEY, kind TEXT NOT NULL, hash TEXT NOT NULL, records TEXT
) WITHOUT ROWID;
`;

export class SqlTransferStore {
  /** The transfer in progress as loaded (undefined: not read yet; null: none). */
  private s: TransferState | null | undefined;

  constructor(private readonly storage: DurableObjectStorage) {
    storage.sql.exec(SCHEMA);
  }

  private get sql(): SqlStorage {
    return this.storage.sql;
  }

  /** A new transfer, stored whole. */
  start(s: TransferState): void {
    this.s = s;
    this.write(s, { paths: new Set(), head: true, kept: 0, refused: 0 });
  }

  load(): TransferState | null {
    if (this.s !== undefined) return this.s;
    const row = this.sql
      .exec<{ certificate: string | null; fresh: number; node: number; need_point: number }>(
        "SELECT certificate, fresh, node, need_point FROM cert_xfer WHERE one = 1",
      )
      .toArray()[0];
    if (!row) return (this.s = null);
    const paths = new Map<string, PathState>();
    for (const r of this.sql.exec<{ path: string; kind: string; hash: string; records: string | null }>(
      "SELECT path, kind, hash, records FROM cert_xfer_paths",
    ))
      paths.set(
        r.path,
        r.kind === "fetched"
          ? { kind: "fetched", hash: r.hash, records: JSON.parse(r.records ?? "[]") as ChunkRecord[] }
          : { kind: r.kind === "reused" ? "reused" : "pending", hash: r.hash },
      );
    return (this.s = {
      // written by this driver after verifying it
      target: row.certificate === null ? null : (JSON.parse(row.certificate) as Certificate),
      fresh: row.fresh === 1,
      paths,
      node: row.node,
      failedInRow: 0,
      needPoint: row.need_point === 1,
    });
  }

  /** Write what an input changed (in one transaction: a restart sees all of it or none). */
  write(s: TransferState, ch: Changes): void {
    if (!ch.head && ch.paths.size === 0) return;
    this.storage.transactionSync(() => {
      if (ch.head)
        this.sql.exec(
          `INSERT INTO cert_xfer (one, certificate, fresh, node, need_point) VALUES (1, ?, ?, ?, ?)
           ON CONFLICT (one) DO UPDATE SET certificate = excluded.certificate, fresh = excluded.fresh,
             node = excluded.node, need_point = excluded.need_point`,
          s.target === null ? null : JSON.stringify(s.target),
          s.fresh ? 1 : 0,
          s.node,
          s.needPoint ? 1 : 0,
        );
      for (const p of ch.paths) {
        const st = s.paths.get(p);
        if (st === undefined) this.sql.exec("DELETE FROM cert_xfer_paths WHERE path = ?", p);
        else
          this.sql.exec(
            "INSERT OR REPLACE INTO cert_xfer_paths (path, kind, hash, records) VALUES (?, ?, ?, ?)",
            p,
            st.kind,
            st.hash,
            st.kind === "fetched" ? JSON.stringify(st.records) : null,
          );
      }
    });
  }

  clear(): void {
    this.storage.transactionSync(() => {
      this.sql.exec("DELETE FROM cert_xfer");
      this.sql.exec("DELETE FROM cert_xfer_paths");
    });
    this.s = null;
  }
}
