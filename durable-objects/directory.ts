/**
 * The Directory: one Durable Object (named `directory`) holding what accepted evidence decided —
 * which replicas are quarantined and why, and the cluster equivocations seen. A thin shell: the
 * edge verifies evidence (shared/evidence.ts) before it calls `record`; this object only keeps the
 * outcome durably and idempotently (docs/architecture.md, "Evidence and quarantine").
 *
 * Tables:
 *   evidence    (digest PK, kind, against, seq, evidence JSON in normal form, at): every evidence that changed something
 *   quarantines (replica PK, kind, digest → evidence, at): the replicas the edge does not route to
 *   lifts       (id, replica, kind, digest, quarantined_at, at): the operator's lifts, kept as a log
 */
import { DurableObject } from "cloudflare:workers";
import "./native-sha256.js";
import type { Env } from "../platform/env.js";
import { decideRecord } from "../shared/quarantine.js";
import type {
  ClusterEvidenceRow,
  QuarantineRow,
  RecordInput,
  RecordOutcome,
} from "../shared/rpc/directory.js";

export { CLUSTER_EVIDENCE_MAX } from "../shared/quarantine.js";
/** Lifts kept in the log (the oldest are dropped past this). */
const LIFTS_KEPT = 1000;

export class Directory extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      const sql = ctx.storage.sql;
      sql.exec(`CREATE TABLE IF NOT EXISTS evidence (
        digest TEXT PRIMARY KEY, kind TEXT NOT NULL, against TEXT NOT NULL, seq INTEGER,
        evidence TEXT NOT NULL, at INTEGER NOT NULL)`);
      sql.exec(`CREATE TABLE IF NOT EXISTS quarantines (
        replica TEXT PRIMARY KEY, kind TEXT NOT NULL, digest TEXT NOT NULL, at INTEGER NOT NULL)`);
      sql.exec(`CREATE TABLE IF NOT EXISTS lifts (
        id INTEGER PRIMARY KEY AUTOINCREMENT, replica TEXT NOT NULL, kind TEXT NOT NULL,
        digest TEXT NOT NULL, quarantined_at INTEGER NOT NULL, at INTEGER NOT NULL)`);
    });
  }

  private get sql() {
    return this.ctx.storage.sql;
  }

  private quarantineOf(replica: string): QuarantineRow | null {
    return (
      this.sql
        .exec<{ replica: string; kind: string; digest: string; at: number }>(
          "SELECT replica, kind, digest, at FROM quarantines WHERE replica = ?",
          replica,
        )
        .toArray()[0] ?? null
    );
  }

  /** Keep a verified verdict's outcome (idempotent by digest): `decideRecord` decides, this stores. */
  async record(input: RecordInput): Promise<RecordOutcome> {
    const sql = this.sql;
    const seenAt = sql
      .exec<{ at: number }>("SELECT at FROM evidence WHERE digest = ?", input.digest)
      .toArray()[0]?.at;
    const replica = "replica" in input ? input.replica : null;
    const clusterStored =
      replica === null && seenAt === undefined
        ? sql
            .exec<{ n: number }>("SELECT count(*) AS n FROM evidence WHERE kind = 'cluster_equivocation'")
            .one().n
        : 0;
    const current = replica === null || seenAt !== undefined ? null : this.quarantineOf(replica);
    const at = Date.now();
    const outcome = decideRecord(input, { seenAt, current, clusterStored }, at);
    if (outcome.outcome === "quarantined") {
      this.ctx.storage.transactionSync(() => {
        sql.exec(
          "INSERT INTO evidence (digest, kind, against, seq, evidence, at) VALUES (?, ?, ?, NULL, ?, ?)",
          input.digest,
          input.kind,
          outcome.quarantine.replica,
          input.evidence,
          at,
        );
        sql.exec(
          "INSERT INTO quarantines (replica, kind, digest, at) VALUES (?, ?, ?, ?)",
          outcome.quarantine.replica,
          input.kind,
          input.digest,
          at,
        );
      });
      console.log({ event: "replica_quarantined", replica, kind: input.kind, digest: input.digest });
    }
    if (!("replica" in input) && outcome.outcome !== "replay") {
      console.error({
        event: "cluster_equivocation",
        seq: input.seq,
        nodes: input.nodes,
        digest: input.digest,
      });
      if (outcome.outcome === "recorded")
        sql.exec(
          "INSERT INTO evidence (digest, kind, against, seq, evidence, at) VALUES (?, ?, ?, ?, ?, ?)",
          input.digest,
          input.kind,
          JSON.stringify(input.nodes),
          input.seq,
          input.evidence,
          at,
        );
    }
    return outcome;
  }

  /** Every quarantined replica (a handful: one row per replica at most). */
  async quarantines(): Promise<QuarantineRow[]> {
    return this.sql
      .exec<{ replica: string; kind: string; digest: string; at: number }>(
        "SELECT replica, kind, digest, at FROM quarantines ORDER BY replica",
      )
      .toArray();
  }

  /** The cluster equivocations recorded, newest first. */
  async clusterEvidence(limit: number): Promise<ClusterEvidenceRow[]> {
    return this.sql
      .exec<{ digest: string; seq: number; against: string; at: number }>(
        "SELECT digest, seq, against, at FROM evidence WHERE kind = 'cluster_equivocation' ORDER BY at DESC, digest LIMIT ?",
        limit,
      )
      .toArray()
      .map((r) => ({ digest: r.digest, seq: r.seq, nodes: JSON.parse(r.against) as string[], at: r.at }));
  }

  /** An accepted evidence by digest, in the normal form it was verified in (canonical JSON), or null. */
  async evidence(digest: string): Promise<string | null> {
    return (
      this.sql
        .exec<{ evidence: string }>("SELECT evidence FROM evidence WHERE digest = ?", digest)
        .toArray()[0]?.evidence ?? null
    );
  }

  /**
   * The operator's lift: the replica is routed to again. Its evidence stays (a replay of it changes
   * nothing); new evidence quarantines it again. Null if it was not quarantined.
   */
  async lift(replica: string): Promise<QuarantineRow | null> {
    const q = this.quarantineOf(replica);
    if (!q) return null;
    const sql = this.sql;
    this.ctx.storage.transactionSync(() => {
      sql.exec("DELETE FROM quarantines WHERE replica = ?", replica);
      sql.exec(
        "INSERT INTO lifts (replica, kind, digest, quarantined_at, at) VALUES (?, ?, ?, ?, ?)",
        replica,
        q.kind,
        q.digest,
        q.at,
        Date.now(),
      );
      sql.exec("DELETE FROM lifts WHERE id <= (SELECT max(id) FROM lifts) - ?", LIFTS_KEPT);
    });
    console.log({ event: "quarantine_lifted", replica, kind: q.kind, digest: q.digest });
    return q;
  }
}
