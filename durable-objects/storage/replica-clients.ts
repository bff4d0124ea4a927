/**
 * Per client, in the replica's SQLite (table `clients`, durable-objects/storage/replica-schema.ts):
 * the highest seq seen (the seq window of admission), how many of its ops accepted here still wait
 * for their certificate (the bound on uncertified ops), and the highest seq whose op row was
 * collected (so a retry of a collected op is still known as one).
 */
export class ReplicaClients {
  constructor(private readonly sql: SqlStorage) {}

  maxSeq(client: string): number {
    return (
      this.sql.exec<{ max_seq: number }>("SELECT max_seq FROM clients WHERE client = ?", client).toArray()[0]
        ?.max_seq ?? 0
    );
  }

  pending(client: string): number {
    return (
      this.sql.exec<{ pending: number }>("SELECT pending FROM clients WHERE client = ?", client).toArray()[0]
        ?.pending ?? 0
    );
  }

  /**
   * Record that `client` used `seq`; `pendingDelta` counts ops accepted here awaiting certification.
   * Returns the client's pending count after the update.
   */
  noteSeq(client: string, seq: number, pendingDelta: number): number {
    return this.sql
      .exec<{ pending: number }>(
        `INSERT INTO clients (client, max_seq, pending) VALUES (?, ?, ?)
         ON CONFLICT (client) DO UPDATE SET max_seq = max(max_seq, excluded.max_seq), pending = pending + ?
         RETURNING pending`,
        client,
        seq,
        pendingDelta,
        pendingDelta,
      )
      .one().pending;
  }

  /** Ops accepted here became certified: `client → how many`, off each client's pending count. */
  certified(counts: ReadonlyMap<string, number>): void {
    for (const [client, n] of counts)
      this.sql.exec("UPDATE clients SET pending = max(0, pending - ?) WHERE client = ?", n, client);
  }

  /** Highest seq of `client` whose op row was collected here (0: none). */
  collectedSeq(client: string): number {
    return (
      this.sql
        .exec<{ c: number }>("SELECT collected_seq AS c FROM clients WHERE client = ?", client)
        .toArray()[0]?.c ?? 0
    );
  }

  /** Op rows were collected: raise each client's collected seq to at least `client → seq`. */
  collected(seqs: ReadonlyMap<string, number>): void {
    for (const [client, seq] of seqs)
      this.sql.exec("UPDATE clients SET collected_seq = max(collected_seq, ?) WHERE client = ?", seq, client);
  }
}
