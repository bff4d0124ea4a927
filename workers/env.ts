import type { EdgeReplica } from "../durable-objects/edge-replica.js";
import type { PbftNode } from "../durable-objects/pbft-node.js";
import type { Directory } from "../durable-objects/directory.js";

export interface Env {
  EDGE_REPLICA: DurableObjectNamespace<EdgeReplica>;
  /** The four PBFT nodes (`pbft-0..3`, shared/cluster-config.ts). */
  PBFT_NODE: DurableObjectNamespace<PbftNode>;
  /** The singleton `directory`: quarantined replicas and cluster evidence (durable-objects/directory.ts). */
  DIRECTORY: DurableObjectNamespace<Directory>;
  /** Secret: the bearer token of operator actions (`POST /v1/admin/…`); unset: they are refused. */
  ADMIN_TOKEN?: string;
  /**
   * "off": ops are not handed to the PBFT nodes (plain EC, no certificates). Default "on". For
   * tests that hand-craft certificates, and for running the edge without its cluster.
   */
  CERTIFY?: string;
  /** Replicate messages, each its wire text (`replicateText`, shared/replication.ts). */
  REPLICATE: Queue<string>;
  ENVIRONMENT: string;
  DEV_SEED: string;
  /** How long a replica batches writes before draining its outbox to the queue (ms, default 20). */
  DRAIN_DELAY_MS?: string;
  /** Anti-entropy period (ms, default 1000); re-send runs every 3 periods, log collection every 5. */
  ANTI_ENTROPY_MS?: string;
  /** How old (by its signed ts) a delivered op must be before its row is collected (ms, default 600000). */
  DEDUPE_HORIZON_MS?: string;
  /** Dead-letter queue of `replicate`: messages no target took after REPLICATE_ATTEMPTS_MAX attempts. */
  REPLICATE_DLQ: Queue<unknown>;
  /** Certified batches from the PBFT nodes to every replica, each its wire text (shared/wire/certified-batch.ts). */
  CERTIFICATES: Queue<string>;
  /** Dead-letter queue of `certificates`. */
  CERTIFICATES_DLQ: Queue<unknown>;
  /**
   * How long the next node in line waits before it posts a seq's certified batch too (ms, default
   * 2000): the delay a silent or faulty poster adds to that seq (durable-objects/pbft-node.ts).
   */
  CERT_FALLBACK_MS?: string;
  /**
   * The idle cluster certifies an empty batch at least this often (ms, default 2000; `0` or `off`:
   * never), so a certificate's age bounds how stale it is (shared/pbft/heartbeat.ts).
   */
  HEARTBEAT_MS?: string;
  /**
   * Dev and tests only (ignored unless ENVIRONMENT is `dev`): a node's request pool bound, at least
   * its batch size (`poolSizeMax`, default 10,000); a tiny pool shows backpressure.
   */
  POOL_SIZE_MAX?: string;
  /** The deployment's name, in every certificate's cluster id (default `aspec-edge-pbft-v1`). */
  CLUSTER_NAME?: string;
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
  /** Origins allowed to call the API from a browser: `*` or a comma-separated list (workers/cors.ts). */
  CORS_ORIGINS?: string;
  /** JSON list of `{name, region}`. */
  REPLICAS: string;
  /** Secrets `REPLICA_KEY_<NAME>` (base64url 32-byte seeds) when deployed. */
  [secret: `REPLICA_KEY_${string}`]: string | undefined;
  /** Secrets `PBFT_KEY_<ID>` (base64url 32-byte seeds) of the PBFT nodes when deployed. */
  [nodeSecret: `PBFT_KEY_${string}`]: string | undefined;
}
