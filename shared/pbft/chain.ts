/**
 * The certificate body's hash chain, shared with the verifiers (shared/certified/log-chain.ts):
 *   batchDigest = H(canonical ops), logRoot_s = H(logRoot_{s-1} ‖ batchDigest_s).
 * The core hashes the ops it actually executed at a seq (after dedupe), so a replica applying a
 * certificate's batch needs no dedupe to check the chain.
 */
export { batchDigest, GENESIS_LOG_ROOT, nextLogRoot } from "../certified/log-chain.js";
