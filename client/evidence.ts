/**
 * Evidence on the client side: turn what the SDK caught into evidence the server will accept, and
 * submit it (`POST /v1/evidence`). Every builder checks its evidence with the one verifier
 * (shared/evidence.ts) against the client's pins before returning it, so a client never submits
 * what proves nothing; `null` means "not provable from this alone".
 *
 * @example
 *   try { await client.get("k"); } catch (e) {
 *     if (e instanceof ReplyVerificationError) {
 *       const ev = await evidenceFrom(e, evidencePins(client.replicas, client.cluster));
 *       if (ev) console.log(await submitEvidence(endpoint, ev));
 *     }
 *   }
 */
import type { Certificate, ClusterConfig } from "../shared/certified/types.js";
import { verifyEvidence, type Evidence, type EvidenceKind, type EvidencePins } from "../shared/evidence.js";
import type { CertifiedResult, ReplicaReply } from "../shared/replies.js";
import { DEFAULT_RETRY, type RetryPolicy } from "./backoff.js";
import { requestJson, type FetchFn } from "./transport.js";

export type { Evidence, EvidenceKind, EvidencePins, EvidenceVerdict } from "../shared/evidence.js";

/**
 * The pins evidence is checked against, from what a client pinned at connect
 * (`evidencePins(client.replicas, client.cluster)`).
 */
export function evidencePins(
  replicas: readonly { name: string; publicKey: string }[],
  cluster: ClusterConfig,
): EvidencePins {
  return {
    cluster: {
      cluster: cluster.cluster,
      f: cluster.f,
      nodes: cluster.nodes.map((n) => ({ id: n.id, publicKey: n.publicKey })),
      ...(cluster.openNamespaces ? { openNamespaces: cluster.openNamespaces } : {}),
    },
    replicaKeys: new Map(replicas.map((r) => [r.name, r.publicKey])),
  };
}

/** What a failed reply check carries (the SDK's `ReplyVerificationError`): why, and the reply as received. */
export interface CaughtReply {
  readonly reason?: string;
  readonly reply: unknown;
}

/** The single-reply kinds worth trying first for a verification failure's reason. */
const BY_REASON: Readonly<Record<string, EvidenceKind>> = {
  bad_certificate: "bad_certificate",
  bad_read_proof: "bad_certified_read",
  bad_result_proof: "bad_certified_result",
};
const SINGLE_REPLY_KINDS = ["bad_certificate", "bad_certified_read", "bad_certified_result"] as const;

/** `e` if it verifies against `pins`, else null. */
async function provable(e: Evidence, pins: EvidencePins): Promise<Evidence | null> {
  return (await verifyEvidence(e, pins)).ok ? e : null;
}

/**
 * Evidence from a reply the SDK refused (a `ReplyVerificationError`), or null when the reply alone
 * proves nothing (a bad signature, a stale or regressed certificate: no honest-replica rule broken
 * that a third party can check). Tries the kind the reason suggests first, then the others.
 */
export async function evidenceFrom(err: CaughtReply, pins: EvidencePins): Promise<Evidence | null> {
  const first = err.reason === undefined ? undefined : BY_REASON[err.reason];
  const kinds = first ? [first, ...SINGLE_REPLY_KINDS.filter((k) => k !== first)] : SINGLE_REPLY_KINDS;
  for (const kind of kinds) {
    const e = await provable({ kind, reply: err.reply } as Evidence, pins);
    if (e) return e;
  }
  return null;
}

/**
 * Evidence that a replica's certified result for op X is not X's: its signed op status, plus the
 * true certified result (e.g. another replica's `GET /v1/ops/:id` `certified`). Null if the pair
 * proves nothing against the replica (same result, a bad truth, or both valid: a cluster fault).
 */
export const contradictionEvidence = (
  reply: ReplicaReply | unknown,
  truth: CertifiedResult,
  pins: EvidencePins,
): Promise<Evidence | null> => provable({ kind: "contradicted_result", reply, truth } as Evidence, pins);

/** Evidence that the cluster certified two bodies for one seq; null unless both verify and differ. */
export const equivocationEvidence = (
  a: Certificate,
  b: Certificate,
  pins: EvidencePins,
): Promise<Evidence | null> => provable({ kind: "cluster_equivocation", certificates: [a, b] }, pins);

/** What `POST /v1/evidence` answers for accepted evidence. */
export interface EvidenceSubmission {
  /** The verdict without `ok` (an accepted one). */
  verdict:
    | { kind: Exclude<EvidenceKind, "cluster_equivocation">; replica: string; digest: string; detail: string }
    | { kind: "cluster_equivocation"; nodes: string[]; seq: number; digest: string; detail: string };
  outcome: "quarantined" | "already_quarantined" | "recorded" | "not_recorded" | "replay";
  quarantine?: { replica: string; kind: string; digest: string; at: number };
  at?: number;
}

export interface SubmitOptions {
  retry?: RetryPolicy;
  timeoutMs?: number;
}

/**
 * Submit evidence. Retried on network failures and 5xx (safe: the server is idempotent by the
 * evidence's digest). Refused evidence throws `AspecError` (`invalid_evidence`, the reason in
 * `details.reason`); anything unexpected `BadResponseError` / `NetworkError`.
 */
export async function submitEvidence(
  endpoint: string,
  evidence: unknown,
  fetchFn: FetchFn = (input, init) => fetch(input, init),
  options: SubmitOptions = {},
): Promise<EvidenceSubmission> {
  const url = `${endpoint.replace(/\/+$/, "")}/v1/evidence`;
  return (await requestJson(
    { method: "POST", url, body: JSON.stringify(evidence) },
    { fetch: fetchFn, retry: options.retry ?? DEFAULT_RETRY, timeoutMs: options.timeoutMs ?? 10_000 },
  )) as EvidenceSubmission;
}
