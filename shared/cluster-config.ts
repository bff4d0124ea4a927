/**
 * The PBFT cluster, in one place: its four nodes (`pbft-0..3`, each a Durable Object created with
 * its region as `locationHint`), f = 1, the cluster id every certificate names, and where each
 * node's Ed25519 key comes from: the `PBFT_KEY_<ID>` secret (`secretName("PBFT", id)`) when
 * deployed, the dev seed (`devKeyPair(devSeed, id)`) in dev, `not_configured` otherwise — the same
 * rule as the replicas' keys (shared/config.ts `resolveKey`). The nodes and every verifier (edge
 * replicas, clients) check certificates against the `ClusterConfig` built here; its digest names
 * the configuration exactly (a change of any key changes it).
 */
import { toHex, utf8 } from "./bytes.js";
import { canonicalJson } from "./canonical.js";
import type { ClusterConfig } from "./certified/types.js";
import { resolveKey, secretName } from "./config.js";
import type { KeyPair } from "./crypto/keys.js";
import { sha256 } from "./hash.js";

/** The id every certificate body carries (`CertificateBody.cluster`). */
export const CLUSTER_ID = "aspec-edge-pbft-v1";
/** Tolerated Byzantine nodes: n = 3f+1 = 4. */
export const CLUSTER_F = 1;

export interface NodePlacement {
  id: string;
  /** Durable Object locationHint. */
  region: string;
}

/** The nodes, in index order (a certificate signature's `node` is an index into this list). */
export const PBFT_NODES: readonly NodePlacement[] = [
  { id: "pbft-0", region: "wnam" },
  { id: "pbft-1", region: "enam" },
  { id: "pbft-2", region: "weur" },
  { id: "pbft-3", region: "apac" },
];

/** What the key of a node is resolved from (the Worker's env, in the shape `resolveKey` needs). */
export interface ClusterKeySource {
  ENVIRONMENT: string;
  DEV_SEED?: string | undefined;
}

/** The Wrangler secret holding a node's seed, e.g. `PBFT_KEY_PBFT_0`. */
export const nodeSecretName = (id: string): string => secretName("PBFT", id);

/** A node's signing key (its secret, or the dev seed in dev); `not_configured` otherwise. */
export function nodeKey(env: ClusterKeySource, id: string): Promise<KeyPair> {
  const name = nodeSecretName(id);
  const secret = (env as unknown as Record<string, unknown>)[name];
  return resolveKey(
    {
      environment: env.ENVIRONMENT,
      devSeed: env.DEV_SEED,
      secret: typeof secret === "string" && secret !== "" ? secret : undefined,
      secretName: name,
    },
    id,
  );
}

/** The cluster as published (`GET /v1/cluster`). */
export interface ClusterInfo {
  cluster: string;
  n: number;
  f: number;
  nodes: { id: string; region: string; publicKey: string }[];
  /** Hex SHA-256 of the canonical JSON of the `ClusterConfig` (`configDigest`). */
  configDigest: string;
}

/** Hex SHA-256 over the canonical JSON (RFC 8785) of the config `verifyCertificate` checks with. */
export const configDigest = (config: ClusterConfig): string =>
  toHex(sha256(utf8(canonicalJson({ cluster: config.cluster, f: config.f, nodes: config.nodes }))));

export interface ResolvedCluster {
  config: ClusterConfig;
  info: ClusterInfo;
}

/** Resolve every node's public key; throws `not_configured` naming the first missing secret. */
export async function resolveCluster(env: ClusterKeySource): Promise<ResolvedCluster> {
  const keys = await Promise.all(PBFT_NODES.map((n) => nodeKey(env, n.id)));
  const config: ClusterConfig = {
    cluster: CLUSTER_ID,
    f: CLUSTER_F,
    nodes: PBFT_NODES.map((n, i) => ({ id: n.id, publicKey: keys[i]!.publicKey })),
  };
  const info: ClusterInfo = {
    cluster: CLUSTER_ID,
    n: PBFT_NODES.length,
    f: CLUSTER_F,
    nodes: PBFT_NODES.map((n, i) => ({ id: n.id, region: n.region, publicKey: keys[i]!.publicKey })),
    configDigest: configDigest(config),
  };
  return { config, info };
}

const cache = new WeakMap<object, Promise<ResolvedCluster>>();

/** `resolveCluster`, once per env object (a missing secret is retried on the next call). */
export function clusterOf(env: ClusterKeySource): Promise<ResolvedCluster> {
  let p = cache.get(env);
  if (!p) {
    p = resolveCluster(env);
    p.catch(() => cache.delete(env));
    cache.set(env, p);
  }
  return p;
}
