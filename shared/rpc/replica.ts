/**
 * The EdgeReplica's RPC surface, as the Workers (the HTTP edge, the queue consumers, the certified
 * inbox) and other replicas call it through `replicaStub` (platform/replica-stub.ts). Declared apart
 * from the Durable Object's class to keep RPC type inference shallow, and in shared/ so that callers
 * depend on the surface, never on the class.
 */
import type { ErrorBody } from "../errors.js";
import type { FaultSettings } from "./fault-settings.js";
import type { CertificationStats, CertReport } from "../follower/types.js";
import type { ListQuery } from "../kv-list.js";
import type { SignedOp } from "../ops.js";
import type {
  CertificateReply,
  Certification,
  CertifiedReadReply,
  ErrorReply,
  EvidenceReply,
  NamespacesReply,
  ListReply,
  OpReply,
  OpStatusReply,
  ReadReply,
} from "../replies.js";
import type { ReplicaStats } from "./replica-stats.js";

/**
 * RPC results carry errors as data: an exception's code would not survive the RPC boundary. An
 * error is the HTTP body to answer with: signed by the replica (`ErrorReply`) whenever it has its key.
 */
export type RpcResult<T> = { ok: true; value: T } | ({ ok: false } & (ErrorReply | ErrorBody));

/** Where a replica's certified state stands (`certifiedHead`). */
export interface CertifiedHead {
  seq: number;
  /** The newest certificate's `body.time` (the cluster's clock, ms); null before the first. */
  time: number | null;
  certification: Certification;
  /**
   * The edge must neither cache this replica's certified reads nor serve them cached (set only by a
   * wrapper of the replica's boundary: platform/replica-boundary.ts).
   */
  noStore?: true;
}

/** The RPC surface the Worker calls (declared apart to keep RPC type inference shallow). */
export interface ReplicaRpc {
  // `nonce`: the request's `x-aspec-nonce` (absent: the request had none), signed back in the reply.
  submit(name: string, op: SignedOp, nonce?: string): Promise<RpcResult<OpReply>>;
  /**
   * POST /v1/ops/batch: the parsed ops (at most BATCH_OPS_MAX), decided in order in one transaction;
   * one result per op, each what `submit` of that op alone would have answered.
   */
  submitMany(
    name: string,
    ops: readonly SignedOp[],
    nonce?: string,
  ): Promise<RpcResult<RpcResult<OpReply>[]>>;
  read(name: string, key: string, nonce?: string): Promise<RpcResult<ReadReply>>;
  /** GET /v1/kv?prefix=&cursor=&limit=: one page of keys (the query checked by the edge). */
  list(name: string, query: ListQuery, nonce?: string): Promise<RpcResult<ListReply>>;
  evidence(name: string, client: string, nonce?: string): Promise<RpcResult<EvidenceReply>>;
  /** GET /v1/namespaces: the namespace records held here, by name, after `after` (a page). */
  namespaces(name: string, after: string, nonce?: string): Promise<RpcResult<NamespacesReply>>;
  /** A replicate message's wire text (`replicateText`); answers its `ApplyReport`'s text. */
  applyRemote(name: string, text: string): Promise<string>;
  /**
   * Anti-entropy: this replica's own ops after `after` (the requester's cursor, thereby confirmed),
   * as a page's wire text (`logPageText`).
   */
  opsSince(name: string, requester: string, after: number, limit: number): Promise<string>;
  /** The queue consumer's confirmations, `{peer: that peer's cursor for this origin}` as text (`acksText`). */
  confirm(name: string, text: string): Promise<void>;
  /** The dead-letter consumer: `count` replication messages of this origin were dead-lettered. */
  noteDeadLetter(name: string, count: number): Promise<void>;
  /**
   * One certified batch `{certificate, ops}` (the certificates queue's consumer, or a PBFT node
   * directly): verified, applied in seq order, idempotent. Throws only on a bug or storage failure.
   */
  receiveCertified(name: string, text: string): Promise<CertReport>;
  /** GET /v1/replicas: the certified state's stats alone (cheap: no table scans, unlike `stats`). */
  certificationStats(): Promise<CertificationStats>;
  /** GET /v1/certificates/latest (`seq` null) and /v1/certificates/:seq. */
  certificate(name: string, seq: number | null, nonce?: string): Promise<RpcResult<CertificateReply>>;
  /** GET /v1/ops/:id. */
  opStatus(name: string, opId: string, nonce?: string): Promise<RpcResult<OpStatusReply>>;
  certifiedHead(name: string): Promise<CertifiedHead>;
  /** No `nonce`: a reply the edge may cache for every reader (`CertifiedReadReply`). */
  certifiedRead(name: string, key: string, nonce?: string): Promise<RpcResult<CertifiedReadReply>>;
  /**
   * Dev only, behind FAULT_TOKEN (refused where no fault wrapper is installed): replace the faults
   * (`{}` switches them off); returns them as stored.
   */
  setFaults(name: string, token: string, faults: FaultSettings): Promise<FaultSettings>;
  stats(): Promise<ReplicaStats>;
}
