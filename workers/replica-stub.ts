import type { ReplicaRpc } from "../durable-objects/edge-replica.js";
import type { ReplicaConfig } from "../shared/config.js";
import type { Env } from "./env.js";

// idFromName hashes the name on every call; ids are plain values, safe to keep per namespace.
const ids = new WeakMap<object, Map<string, DurableObjectId>>();

/** The Durable Object stub of one replica, created in its region. */
export function replicaStub(env: Env, r: ReplicaConfig): ReplicaRpc {
  const ns = env.EDGE_REPLICA;
  let byName = ids.get(ns);
  if (!byName) ids.set(ns, (byName = new Map()));
  let id = byName.get(r.name);
  if (!id) byName.set(r.name, (id = ns.idFromName(r.name)));
  return ns.get(id, { locationHint: r.region as DurableObjectLocationHint }) as unknown as ReplicaRpc;
}
