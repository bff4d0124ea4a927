/**
 * The nodes' Worker's environment: bindings and vars of workers/pbft/wrangler.jsonc, generated into
 * workers/pbft/worker-configuration.d.ts (`npm run cf-typegen`), plus the optional knobs and secrets
 * the config does not set.
 */
export interface PbftKnobs {
  /**
   * How long the next node in line waits before it posts a seq's certified batch too (ms, default
   * 2000): the delay a silent or faulty poster adds to that seq (durable-objects/pbft-node.ts).
   */
  CERT_FALLBACK_MS?: string;
  /**
   * Dev and tests only (ignored unless ENVIRONMENT is `dev`): a node's request pool bound, at least
   * its batch size (`poolSizeMax`, default 10,000); a tiny pool shows backpressure.
   */
  POOL_SIZE_MAX?: string;
  /**
   * Certified batches each node keeps for replicas catching up (default 1024 seqs; at least 16).
   * A replica further behind recovers by state transfer. Tests set it low to reach that case fast.
   */
  CERTIFIED_KEPT_SEQS?: string;
  /** How long the heartbeat runs after the last client activity (ms, default 300000; shared/pbft/heartbeat.ts). */
  HEARTBEAT_ACTIVITY_MS?: string;
  /** Dev only: the token that switches fault injection on (tests and demos). */
  FAULT_TOKEN?: string;
  /** JSON `{ "<node id>": "<base64url Ed25519 public key>" }` (see shared/cluster-config.ts). */
  PBFT_PUBLIC_KEYS?: string;
  /** Secrets `PBFT_KEY_<ID>` (base64url 32-byte seeds) of the PBFT nodes when deployed. */
  [nodeSecret: `PBFT_KEY_${string}`]: string | undefined;
}

export type PbftEnv = PbftEnvGenerated & PbftKnobs;
