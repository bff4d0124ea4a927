/**
 * Evidence against equivocating clients, in the replica's SQLite (table `client_evidence`,
 * durable-objects/storage/replica-schema.ts): two ops a client signed under one op id, both
 * verifying. Kept to answer `GET /v1/clients/:client/evidence` and, once replicas accepted both
 * versions (`refused`), to refuse the client's new ops.
 */
import type { SignedOp } from "../../shared/ops.js";
import type { ClientEvidence } from "../../shared/replica/store.js";

export class ReplicaEvidence {
  constructor(private readonly sql: SqlStorage) {}

  /**
   * Two ops a client signed under one op id, `kept` the one this replica holds; `refused`: replicas
   * accepted both, so this replica refuses the client's new ops (that record replaces a `refused = 0` one).
   */
  record(kept: SignedOp, other: SignedOp, refused: boolean, atMs: number): void {
    this.sql.exec(
      `INSERT INTO client_evidence (op_id, client, kept, other, refused, at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (op_id) DO UPDATE SET refused = 1, kept = excluded.kept, other = excluded.other
         WHERE excluded.refused = 1`,
      `${kept.client}:${kept.seq}`,
      kept.client,
      JSON.stringify(kept),
      JSON.stringify(other),
      refused ? 1 : 0,
      atMs,
    );
  }

  /** Has this replica proof already that the op id's client equivocated (both versions accepted)? */
  isEquivocationKnown(opId: string): boolean {
    return (
      this.sql.exec("SELECT 1 FROM client_evidence WHERE op_id = ? AND refused = 1", opId).toArray().length >
      0
    );
  }

  isClientRefused(client: string): boolean {
    return (
      this.sql
        .exec("SELECT 1 FROM client_evidence WHERE client = ? AND refused = 1 LIMIT 1", client)
        .toArray().length > 0
    );
  }

  /** Oldest first, at most `limit`. */
  of(client: string, limit: number): ClientEvidence[] {
    return this.sql
      .exec<{ op_id: string; kept: string; other: string; refused: number; at: number }>(
        "SELECT op_id, kept, other, refused, at FROM client_evidence WHERE client = ? ORDER BY at LIMIT ?",
        client,
        limit,
      )
      .toArray()
      .map((r) => ({
        opId: r.op_id,
        kept: JSON.parse(r.kept),
        other: JSON.parse(r.other),
        refused: r.refused === 1,
        at: r.at,
      }));
  }
}
