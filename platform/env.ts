/**
 * The Worker's environment. Bindings and the vars `wrangler.jsonc` sets are generated into
 * `worker-configuration.d.ts` (`npm run cf-typegen`; `npm run typecheck` fails when it is stale);
 * below are the optional knobs and secrets the config does not set, merged into the same type.
 */
export interface Knobs {
  /** Secret: the bearer token of operator actions (`POST /v1/admin/…`); unset: they are refused. */
  ADMIN_TOKEN?: string;
  /**
   * "off": ops are not handed to the PBFT nodes (plain EC, no certificates). Default "on". For
   * tests that hand-craft certificates, and for running the edge without its cluster.
   */
  CERTIFY?: string;
  /** How old (by its signed ts) a delivered op must be before its row is collected (ms, default 600000). */
  DEDUPE_HORIZON_MS?: string;
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
   * How long the PBFT heartbeat runs after the last client activity (an op submitted, a reader
   * asking for a fresh certificate) (ms, default 300000; `always` or `0`: beat whatever happens).
   */
  HEARTBEAT_ACTIVITY_MS?: string;
  /** `GET /v1/replicas` marks a replica `stale` past this certificate age (ms, default 10000, the SDK's). */
  STALE_CERTIFICATE_MS?: string;
  /**
   * Certified batches each node keeps for replicas catching up (default 1024 seqs; at least 16).
   * A replica further behind recovers by state transfer. Tests set it low to reach that case fast.
   */
  CERTIFIED_KEPT_SEQS?: string;
  /** Dev only: the token that switches fault injection on (tests and demos). */
  FAULT_TOKEN?: string;
  /** `POST /v1/evidence` per client address (CF-Connecting-IP) and minute, per isolate (default 30). */
  EVIDENCE_RATE_PER_MIN?: string;
  /** Secrets `REPLICA_KEY_<NAME>` (base64url 32-byte seeds) when deployed. */
  [secret: `REPLICA_KEY_${string}`]: string | undefined;
  /**
   * JSON `{ "<node id>": "<base64url Ed25519 public key>" }`: how the edge knows the nodes' keys
   * when deployed (it never holds their secrets; shared/cluster-config.ts).
   */
  PBFT_PUBLIC_KEYS?: string;
}

declare global {
  namespace Cloudflare {
    interface Env extends Knobs {}
  }
}

export type Env = Cloudflare.Env;
