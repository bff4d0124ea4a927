/** The PBFT core's public API (see replica.ts for how a shell drives it). */
export { PbftReplica, type Input, type ReplicaOptions } from "./replica.js";
export { DEFAULT_PBFT_CONFIG, primaryOf, quorum, type PbftConfig } from "./config.js";
export type { Effects, Outgoing, PersistOp, CertifiedBatch, ExecutedBatch } from "./effects.js";
export type * from "./messages.js";
export { parseEnvelope } from "./validate.js";
export {
  PbftBoundary,
  signedBytes,
  certificateBytes,
  OPEN_REJECTIONS,
  type OpenDrop,
  type OpenVerdict,
} from "./boundary.js";
export { ed25519Scheme, standInScheme, standInSignOp, type SignatureScheme } from "./signature-scheme.js";
export { invariants } from "./invariants.js";
export type { ReplicaState } from "./state.js";
export {
  PbftDriver,
  applyRows,
  type DriverHooks,
  type DriverHost,
  type DriverStorage,
  type Signer,
  type StepReport,
  type Transport,
} from "./driver.js";
