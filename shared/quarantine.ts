/**
 * What accepted evidence decides (docs/architecture.md, "Evidence and quarantine"), as pure
 * functions: the edge turns a verified verdict into the Directory's input (`recordInputOf`), and
 * the Directory decides from what it holds (`decideRecord`) whether the evidence quarantines a
 * replica, is recorded against the cluster, or changes nothing. The Directory only persists what
 * this decides; the whole-system simulator runs the same decision.
 */
import type { EvidenceVerdict } from "./evidence.js";
import type { QuarantineRow, RecordInput, RecordOutcome } from "./rpc/directory.js";

/** Cluster equivocations kept at most (each needs f+1 faulty nodes; the bound keeps storage finite anyway). */
export const CLUSTER_EVIDENCE_MAX = 256;

/** The Directory's input for an accepted verdict; `evidence` is its normal form as canonical JSON. */
export function recordInputOf(
  verdict: Extract<EvidenceVerdict, { ok: true }>,
  evidence: string,
): RecordInput {
  return verdict.kind === "cluster_equivocation"
    ? { kind: verdict.kind, nodes: verdict.nodes, seq: verdict.seq, digest: verdict.digest, evidence }
    : { kind: verdict.kind, replica: verdict.replica, digest: verdict.digest, evidence };
}

/** What the Directory holds that the decision reads. */
export interface RecordState {
  /** When evidence of this digest was accepted, if ever. */
  seenAt: number | undefined;
  /** The quarantine of the input's replica, if it is quarantined (replica evidence only). */
  current: QuarantineRow | null;
  /** Cluster equivocations stored. */
  clusterStored: number;
}

/**
 * The outcome of recording `input` at time `at`: `quarantined` and `recorded` are the two that the
 * Directory must store (the evidence, and for `quarantined` the replica's quarantine); every other
 * outcome stores nothing.
 */
export function decideRecord(input: RecordInput, state: RecordState, at: number): RecordOutcome {
  if (state.seenAt !== undefined) return { outcome: "replay", at: state.seenAt };
  if ("replica" in input) {
    if (state.current) return { outcome: "already_quarantined", quarantine: state.current };
    return {
      outcome: "quarantined",
      quarantine: { replica: input.replica, kind: input.kind, digest: input.digest, at },
    };
  }
  if (state.clusterStored >= CLUSTER_EVIDENCE_MAX) return { outcome: "not_recorded" };
  return { outcome: "recorded" };
}
