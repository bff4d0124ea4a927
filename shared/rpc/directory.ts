/**
 * The Directory's RPC surface as the HTTP edge sees it (durable-objects/directory.ts keeps them):
 * quarantines, the verdicts the edge hands in after verifying evidence, and what recording one did.
 */

/** A replica's quarantine as `GET /v1/replicas` shows it. */
export interface Quarantine {
  kind: string;
  /** The directory's clock (ms) when the evidence was accepted. */
  at: number;
  /** The digest of the evidence (`GET /v1/evidence/:digest` serves it). */
  digest: string;
}

export interface QuarantineRow extends Quarantine {
  replica: string;
}

export interface ClusterEvidenceRow {
  digest: string;
  seq: number;
  nodes: string[];
  at: number;
}

/** A verified verdict, as the edge hands it in. */
export type RecordInput =
  | { kind: string; replica: string; digest: string; evidence: string }
  | { kind: "cluster_equivocation"; nodes: string[]; seq: number; digest: string; evidence: string };

export type RecordOutcome =
  /** New evidence against a replica: it is quarantined from now on. */
  | { outcome: "quarantined"; quarantine: QuarantineRow }
  /** New evidence against a replica already quarantined: nothing changes (nothing is stored). */
  | { outcome: "already_quarantined"; quarantine: QuarantineRow }
  /** New cluster evidence, stored. */
  | { outcome: "recorded" }
  /** Cluster evidence past the bound: verified, not stored. */
  | { outcome: "not_recorded" }
  /** This very evidence (same digest) was accepted before: nothing changes, even after a lift. */
  | { outcome: "replay"; at: number };
