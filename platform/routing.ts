/**
 * Which replica serves a request: explicit choice, else the request's region, else the first — never
 * a quarantined one (an explicit choice of one is `503 replica_quarantined`, so clients fail over).
 */
import { parseReplicas, type ReplicaConfig } from "../shared/config.js";
import { AspecError } from "../shared/errors.js";
import type { Quarantine } from "../shared/rpc/directory.js";

export const REPLICA_HEADER = "x-aspec-replica";

/** Continent (request.cf.continent) → preferred locationHint. */
const CONTINENT_REGION: Record<string, string[]> = {
  EU: ["weur", "eeur"],
  AF: ["weur", "afr", "me"],
  NA: ["enam", "wnam"],
  SA: ["enam", "sam", "wnam"],
  AS: ["apac", "me"],
  OC: ["oc", "apac"],
  AN: ["oc", "apac"],
};

let cached: { json: string; replicas: ReplicaConfig[] } | undefined;
export function replicasOf(json: string): ReplicaConfig[] {
  if (cached?.json !== json) cached = { json, replicas: parseReplicas(json) };
  return cached.replicas;
}

const NONE: ReadonlyMap<string, Quarantine> = new Map();

export function chooseReplica(
  replicas: ReplicaConfig[],
  explicit: string | undefined | null,
  continent: string | undefined,
  quarantined: ReadonlyMap<string, Quarantine> = NONE,
): ReplicaConfig {
  const open = quarantined.size === 0 ? replicas : replicas.filter((x) => !quarantined.has(x.name));
  if (explicit) {
    const r = replicas.find((x) => x.name === explicit);
    if (!r)
      throw new AspecError("unknown_replica", `no replica named '${explicit}'`, {
        replicas: replicas.map((x) => x.name),
      });
    const q = quarantined.get(r.name);
    if (q)
      throw new AspecError("replica_quarantined", `replica '${r.name}' is quarantined (${q.kind})`, {
        replica: r.name,
        ...q,
        replicas: open.map((x) => x.name),
      });
    return r;
  }
  if (open.length === 0)
    throw new AspecError("replica_quarantined", "every replica is quarantined", { replicas: [] });
  const preferred =
    continent && Object.hasOwn(CONTINENT_REGION, continent) ? CONTINENT_REGION[continent]! : [];
  for (const region of preferred) {
    const r = open.find((x) => x.region === region);
    if (r) return r;
  }
  return open[0]!;
}
