import type { EdgeReplica } from "../durable-objects/edge-replica.js";
import type { ReplicateMessage } from "../shared/replication.js";

export interface Env {
  EDGE_REPLICA: DurableObjectNamespace<EdgeReplica>;
  REPLICATE: Queue<ReplicateMessage>;
  ENVIRONMENT: string;
  DEV_SEED: string;
  /** How long a replica batches writes before draining its outbox to the queue (ms, default 20). */
  DRAIN_DELAY_MS?: string;
  /** JSON list of `{name, region}`. */
  REPLICAS: string;
  /** Secrets `REPLICA_KEY_<NAME>` (base64url 32-byte seeds) when deployed. */
  [secret: `REPLICA_KEY_${string}`]: string | undefined;
}
