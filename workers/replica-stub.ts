import type { ReplicaRpc } from "../durable-objects/edge-replica.js";
import type { ReplicaConfig } from "../shared/config.js";
import type { Env } from "./env.js";

/** The Durable Object stub of one replica, created in its region. */
export function replicaStub(env: Env, r: ReplicaConfig): ReplicaRpc {
  const ns = env.EDGE_REPLICA;
  return ns.get(ns.idFromName(r.name), {
    locationHint: r.region as DurableObjectLocationHint,
  }) as unknown as ReplicaRpc;
}
