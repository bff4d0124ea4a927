/**
 * Aspec Edge client SDK. Runs wherever `fetch` and WebCrypto do (Node ≥ 20, browsers, Workers).
 *
 * @example
 * ```ts
 * import { AspecClient } from "./client/index.js";
 * const c = await AspecClient.connect({ endpoint: "http://127.0.0.1:8787", replica: "weur" });
 * await c.counter("hits").add(1);
 * console.log((await c.get("hits")).value);
 * ```
 */
export { AspecClient, type ConnectOptions } from "./client.js";
export type { AccountHandle, CounterHandle, RegisterHandle, SetHandle } from "./handles.js";
export {
  AspecClientError,
  BadResponseError,
  NetworkError,
  ReplyVerificationError,
  isAspecClientError,
  type ClientErrorCode,
} from "./errors.js";
export { DEFAULT_RETRY, backoffDelayMs, type RetryPolicy } from "./backoff.js";
export { SeqCounter } from "./seq.js";
export {
  checkErrorReply,
  verifyOpReply,
  verifyReadReply,
  type ErrorExpectation,
  type PinnedKeys,
} from "./verify.js";
export type { FetchFn } from "./transport.js";
export {
  contradictionEvidence,
  equivocationEvidence,
  evidenceFrom,
  submitEvidence,
  type CaughtReply,
  type Evidence,
  type EvidencePins,
  type EvidenceSubmission,
} from "./evidence.js";
// Re-exported so SDK users need one import.
export { AspecError, isAspecError, type ErrorCode } from "../shared/errors.js";
export { generateKeyPair, type KeyPair } from "../shared/crypto/keys.js";
export type { ErrorReply, OpReply, ReadReply, ReplicaInfo, TentativeResult } from "../shared/replies.js";
export type { Json } from "../shared/canonical.js";
