import type { ReplicaRpc } from "../shared/rpc/replica.js";
import type { ReplicaConfig } from "../shared/config.js";
import { PEER_DEADLINE_MS, withDeadline } from "../shared/deadline.js";
import type { Env } from "./env.js";

// idFromName hashes the name on every call; ids are plain values, safe to keep per namespace.
const ids = new WeakMap<object, Map<string, DurableObjectId>>();

/**
 * The Durable Object stub of one replica, created in its region. Every call through it has a
 * deadline (PEER_DEADLINE_MS.replicaApply; callers may set a shorter one): a replica that accepts a
 * call and never answers holds no request, queue batch or alarm task for longer. A call past it
 * rejects with a `DeadlineError` (the HTTP edge answers `503 unavailable`, which clients retry
 * elsewhere).
 */
export function replicaStub(env: Env, r: ReplicaConfig): ReplicaRpc {
  const ns = env.EDGE_REPLICA;
  let byName = ids.get(ns);
  if (!byName) ids.set(ns, (byName = new Map()));
  let id = byName.get(r.name);
  if (!id) byName.set(r.name, (id = ns.idFromName(r.name)));
  const stub = ns.get(id, { locationHint: r.region as DurableObjectLocationHint }) as unknown as ReplicaRpc;
  return new Proxy(stub, {
    get(target, method) {
      const f = (target as unknown as Record<string | symbol, unknown>)[method];
      if (typeof f !== "function" || typeof method !== "string") return f;
      return (...args: unknown[]) =>
        withDeadline(
          // Reflect.apply: an RPC method's own `.apply` would be another remote property
          Reflect.apply(f, target, args) as Promise<unknown>,
          PEER_DEADLINE_MS.replicaApply,
          `${method} at ${r.name}`,
        );
    },
  });
}
