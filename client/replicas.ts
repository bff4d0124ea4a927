/**
 * `GET /v1/replicas`: the replica directory the client pins at connect time. The response itself is
 * not signed (trust on first use, like an SSH host key); pass `replicas` to `connect` to pin keys
 * obtained some other way.
 */
import { publicKeySchema } from "../shared/ops.js";
import type { ReplicaInfo } from "../shared/replies.js";
import { BadResponseError } from "./errors.js";
import { requestJson, type HttpOptions } from "./transport.js";

export function checkReplicas(list: unknown): ReplicaInfo[] {
  const bad = (why: string): never => {
    throw new BadResponseError(`replica directory: ${why}`, 200);
  };
  if (!Array.isArray(list) || list.length === 0) bad("no replicas");
  const seen = new Set<string>();
  return (list as unknown[]).map((r) => {
    const { name, region, publicKey } = (r ?? {}) as Partial<ReplicaInfo>;
    if (typeof name !== "string" || name === "") bad("a replica without a name");
    if (seen.has(name!)) bad(`replica '${name}' listed twice`);
    seen.add(name!);
    if (!publicKeySchema.safeParse(publicKey).success) bad(`replica '${name}' has no valid public key`);
    return { name: name!, region: typeof region === "string" ? region : "", publicKey: publicKey! };
  });
}

export async function fetchReplicas(endpoint: string, http: HttpOptions): Promise<ReplicaInfo[]> {
  const body = await requestJson({ method: "GET", url: `${endpoint}/v1/replicas` }, http);
  return checkReplicas((body as { replicas?: unknown } | null)?.replicas);
}
