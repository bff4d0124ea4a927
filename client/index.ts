/**
 * Aspec Edge client SDK. Runs wherever `fetch` and WebCrypto do (Node ≥ 20, browsers, Workers).
 *
 * @example
 * ```ts
 * import { AspecClient } from "./client/index.js";
 * const c = await AspecClient.connect({ endpoint: "http://127.0.0.1:8787", replica: "weur" });
 * const w = await c.counter("hits").add(1);
 * console.log(w.tentative.value, (await w.certified).result.value);
 * ```
 */
export {
  AspecClient,
  type BatchOutcome,
  type ClientEvents,
  type ConnectOptions,
  type CertifiedOutcome,
  type EvidenceReport,
  type FailoverEvent,
  type RollbackEvent,
} from "./client.js";
export type {
  AccountHandle,
  CounterHandle,
  NamespaceHandle,
  RegisterHandle,
  SetHandle,
  SubmittedOp,
} from "./handles.js";
export {
  AspecClientError,
  BadResponseError,
  NetworkError,
  ReplyVerificationError,
  isAspecClientError,
  UNPROVEN_REASONS,
  type ClientErrorCode,
  type VerificationReason,
} from "./errors.js";
export { DEFAULT_RETRY, backoffDelayMs, type RetryPolicy } from "./backoff.js";
export { SeqCounter } from "./seq.js";
export {
  CertificateGuard,
  DEFAULT_CLOCK_SKEW_MS,
  DEFAULT_MAX_CERTIFICATE_AGE_MS,
  type GuardOptions,
} from "./certificates.js";
export { NONCE_HEADER, freshNonce, type RequestBinding } from "./nonce.js";
export { checkCluster, type PinnedCluster } from "./cluster.js";
export {
  checkErrorReply,
  verifyCertificateReply,
  verifyCertifiedReadReply,
  verifyListReply,
  verifyOpReply,
  verifyOpStatusReply,
  verifyReadReply,
  type Bound,
  type ErrorExpectation,
  type ListExpectation,
  type PinnedKeys,
} from "./verify.js";
export type { OpIntent } from "./build-op.js";
export type { ListEntry } from "../shared/kv-list.js";
export type { FetchFn } from "./transport.js";
export {
  contradictionEvidence,
  equivocationEvidence,
  evidenceFrom,
  evidencePins,
  submitEvidence,
  type CaughtReply,
  type Evidence,
  type EvidencePins,
  type EvidenceSubmission,
} from "./evidence.js";
// Re-exported so SDK users need one import.
export { AspecError, isAspecError, type ErrorCode } from "../shared/errors.js";
export { generateKeyPair, type KeyPair } from "../shared/crypto/keys.js";
export type {
  CertifiedReadReply,
  CertifiedResult,
  CertifiedValue,
  ErrorReply,
  ListReply,
  OpReply,
  OpStatusReply,
  ReadReply,
  ReplicaInfo,
  TentativeResult,
} from "../shared/replies.js";
export { configDigest as clusterConfigDigest, type ClusterInfo } from "../shared/cluster-config.js";
export type { Certificate, CertificateBody, OpResult } from "../shared/certified/types.js";
export type { Json } from "../shared/canonical.js";
