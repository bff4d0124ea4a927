/**
 * The PBFT cluster, in one place: its four nodes (`pbft-0..3`, each a Durable Object created with
 * its region as `locationHint`), f = 1, the deployment name (`CLUSTER_NAME`, a var), and where each
 * node's Ed25519 key comes from: the `PBFT_KEY_<ID>` secret (`secretName("PBFT", id)`) when
 * deployed, the dev seed (`devKeyPair(devSeed, id)`) in dev, `not_configured` otherwise — the same
 * rule as the replicas' keys (shared/config.ts `resolveKey`). The nodes and every verifier (edge
 * replicas, clients) check certificates against the `ClusterConfig` built here; its digest names
 * the configuration exactly (a change of any key changes it), and every certificate body names it
 * (`clusterId`: `<name>/<configDigest>`, shared/certified/cluster-id.ts).
 */
import { CLUSTER_NAME_MAX, configDigest } from "./certified/cluster-id.js";
import type { ClusterConfig } from "./certified/types.js";
import { resolveKey, secretName } from "./config.js";
import type { KeyPair } from "./crypto/keys.js";
import { AspecError } from "./errors.js";
import { isDefaultOpen, parseOpenNamespaces } from "./namespaces/policy.js";

export { clusterId, configDigest } from "./certified/cluster-id.js";

/** The deployment name when `CLUSTER_NAME` is unset (what dev and the tests run with). */
export const CLUSTER_NAME_DEFAULT = "aspec-edge-pbft-v1";
/** Letters, digits, `.`, `_`, `-`: a name that reads the same in every log and id. */
const CLUSTER_NAME_RE = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._-]{0,${CLUSTER_NAME_MAX - 1}}$`);
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
  /** The deployment's name (a var): two deployments with the same keys still sign different ids. */
  CLUSTER_NAME?: string | undefined;
  /**
   * JSON `{"pbft-0": "<base64url Ed25519 public key>", …}`: the nodes' public keys, for a Worker that
   * must not hold their secrets (the edge: a replica's operator holding node keys could forge
   * certificates). Unset: each public key is derived from the node's key (its secret, or the dev seed).
   */
  PBFT_PUBLIC_KEYS?: string | undefined;
  /**
   * The unclaimed namespaces anyone may write: `*` (every one), a comma-separated list of names, or
   * empty (none); parsed by `parseOpenNamespaces` (shared/namespaces/policy.ts). Unset: `*`.
   */
  OPEN_NAMESPACES?: string | undefined;
}

const PUBLIC_KEY_RE = /^[A-Za-z0-9_-]{43}$/;

/** `PBFT_PUBLIC_KEYS` parsed: every node's key, or `not_configured` saying what is wrong; null when unset. */
export function listedPublicKeys(env: ClusterKeySource): Map<string, string> | null {
  const raw = env.PBFT_PUBLIC_KEYS;
  if (raw === undefined || raw === "") return null;
  const bad = (why: string) =>
    new AspecError("not_configured", `PBFT_PUBLIC_KEYS ${why}`, {
      var: "PBFT_PUBLIC_KEYS",
      fix: `a JSON object {${PBFT_NODES.map((n) => `"${n.id}": "<base64url public key>"`).join(", ")}}`,
    });
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw bad("is not JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw bad("is not an object");
  const keys = new Map<string, string>();
  for (const n of PBFT_NODES) {
    const k = (parsed as Record<string, unknown>)[n.id];
    if (typeof k !== "string" || !PUBLIC_KEY_RE.test(k))
      throw bad(`has no base64url Ed25519 public key for '${n.id}'`);
    keys.set(n.id, k);
  }
  if (Object.keys(parsed).length !== PBFT_NODES.length) throw bad("names a node that is not in the cluster");
  return keys;
}

/** `CLUSTER_NAME`, or the default when unset or empty; `not_configured` when it is not a valid name. */
export function clusterName(env: ClusterKeySource): string {
  const name = env.CLUSTER_NAME;
  if (name === undefined || name === "") return CLUSTER_NAME_DEFAULT;
  if (typeof name !== "string" || !CLUSTER_NAME_RE.test(name))
    throw new AspecError(
      "not_configured",
      `CLUSTER_NAME must be 1-${CLUSTER_NAME_MAX} letters, digits, '.', '_' or '-'`,
    );
  return name;
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
  /** The deployment name (certificate bodies carry `<cluster>/<configDigest>`). */
  cluster: string;
  n: number;
  f: number;
  nodes: { id: string; region: string; publicKey: string }[];
  /**
   * The unclaimed namespaces anyone may write: `["*"]` (every one), names, or `[]` (none). Always
   * published; a client reads an absent one (an older server) as `["*"]`.
   */
  openNamespaces?: readonly string[];
  /** Hex SHA-256 of the canonical JSON of the `ClusterConfig` (`configDigest`). */
  configDigest: string;
}

export interface ResolvedCluster {
  config: ClusterConfig;
  info: ClusterInfo;
}

/**
 * Resolve every node's public key: from `PBFT_PUBLIC_KEYS` when set, else from each node's key, and
 * the open-namespace list (`OPEN_NAMESPACES`); throws `not_configured` naming what is missing or
 * malformed. The list is in the config (so in its digest) only when it is not the default `*`.
 */
export async function resolveCluster(env: ClusterKeySource): Promise<ResolvedCluster> {
  const name = clusterName(env);
  const open = parseOpenNamespaces(env.OPEN_NAMESPACES);
  const listed = listedPublicKeys(env);
  const keys = listed
    ? PBFT_NODES.map((n) => listed.get(n.id)!)
    : (await Promise.all(PBFT_NODES.map((n) => nodeKey(env, n.id)))).map((k) => k.publicKey);
  const config: ClusterConfig = {
    cluster: name,
    f: CLUSTER_F,
    nodes: PBFT_NODES.map((n, i) => ({ id: n.id, publicKey: keys[i]! })),
    ...(isDefaultOpen(open) ? {} : { openNamespaces: open }),
  };
  const info: ClusterInfo = {
    cluster: name,
    n: PBFT_NODES.length,
    f: CLUSTER_F,
    nodes: PBFT_NODES.map((n, i) => ({ id: n.id, region: n.region, publicKey: keys[i]! })),
    openNamespaces: open,
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
