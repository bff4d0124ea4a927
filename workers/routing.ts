/** Which replica serves a request: explicit choice, else the request's region, else the first. */
import { parseReplicas, type ReplicaConfig } from "../shared/config.js";
import { AspecError } from "../shared/errors.js";

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

export function chooseReplica(
  replicas: ReplicaConfig[],
  explicit: string | undefined | null,
  continent: string | undefined,
): ReplicaConfig {
  if (explicit) {
    const r = replicas.find((x) => x.name === explicit);
    if (!r)
      throw new AspecError("unknown_replica", `no replica named '${explicit}'`, {
        replicas: replicas.map((x) => x.name),
      });
    return r;
  }
  const preferred =
    continent && Object.hasOwn(CONTINENT_REGION, continent) ? CONTINENT_REGION[continent]! : [];
  for (const region of preferred) {
    const r = replicas.find((x) => x.region === region);
    if (r) return r;
  }
  return replicas[0]!;
}
