/**
 * The PBFT cluster the client checks every certificate against, pinned at connect time: fetched
 * from `GET /v1/cluster` (trust on first use, like the replica directory) or given as an option.
 * Either way its `configDigest` must be the digest of its own nodes, keys, f and open-namespace list (the one
 * `configDigest` the servers compute), and, when the caller pins a digest, that one. Certificates
 * are then checked against this configuration only: each must name `clusterId(config)`
 * (`<cluster>/<configDigest>`), so one signed before a node key rotation, or by another deployment,
 * is refused (`wrong_cluster`) even where its signatures are of keys both configurations share.
 */
import { clusterConfigProblem } from "../shared/certified/certificate.js";
import type { ClusterConfig } from "../shared/certified/types.js";
import { configDigest, type ClusterInfo } from "../shared/cluster-config.js";
import { isDefaultOpen, OPEN_ALL, openListProblem } from "../shared/namespaces/policy.js";
import { publicKeySchema } from "../shared/ops.js";
import { AspecClientError } from "./errors.js";
import { requestJson, type HttpOptions } from "./transport.js";

export interface PinnedCluster {
  info: ClusterInfo;
  /** What `verifyCertificate` checks with. */
  config: ClusterConfig;
}

const bad = (why: string): never => {
  throw new AspecClientError("invalid_cluster", `cluster: ${why}`);
};

/** Check a published cluster; throws `AspecClientError("invalid_cluster")`. */
export function checkCluster(raw: unknown, expectedDigest?: string): PinnedCluster {
  if (typeof raw !== "object" || raw === null) return bad("not an object");
  const c = raw as Partial<ClusterInfo>;
  if (!Array.isArray(c.nodes)) return bad("no nodes");
  const nodes = c.nodes.map((n: unknown, i) => {
    const { id, region, publicKey } = (n ?? {}) as Partial<ClusterInfo["nodes"][number]>;
    if (typeof id !== "string" || id === "") bad(`node ${i} has no id`);
    if (!publicKeySchema.safeParse(publicKey).success) bad(`node '${id}' has no valid public key`);
    return { id: id!, region: typeof region === "string" ? region : "", publicKey: publicKey! };
  });
  if (new Set(nodes.map((n) => n.publicKey)).size !== nodes.length) bad("two nodes share a key");
  const open: unknown = c.openNamespaces ?? [OPEN_ALL];
  if (!Array.isArray(open)) return bad("openNamespaces is not a list");
  const openProblem = openListProblem(open);
  if (openProblem) bad(`openNamespaces: ${openProblem}`);
  const openNamespaces = open as string[];
  const config: ClusterConfig = {
    cluster: c.cluster as string,
    f: c.f as number,
    nodes: nodes.map(({ id, publicKey }) => ({ id, publicKey })),
    ...(isDefaultOpen(openNamespaces) ? {} : { openNamespaces }),
  };
  const problem = clusterConfigProblem(config);
  if (problem) bad(problem);
  if (c.n !== nodes.length) bad(`n = ${String(c.n)} but ${nodes.length} nodes are listed`);
  const digest = configDigest(config);
  if (c.configDigest !== digest) bad(`configDigest ${String(c.configDigest)} is not the digest of its nodes`);
  if (expectedDigest !== undefined && digest !== expectedDigest)
    bad(`configDigest ${digest} is not the pinned ${expectedDigest}`);
  return {
    info: {
      cluster: config.cluster,
      n: nodes.length,
      f: config.f,
      nodes,
      openNamespaces,
      configDigest: digest,
    },
    config,
  };
}

export async function fetchCluster(
  endpoint: string,
  http: HttpOptions,
  expectedDigest?: string,
): Promise<PinnedCluster> {
  return checkCluster(
    await requestJson({ method: "GET", url: `${endpoint}/v1/cluster` }, http),
    expectedDigest,
  );
}
