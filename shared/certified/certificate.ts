/**
 * Certificates (docs/architecture.md, "What is certified"): each PBFT node signs a share over the canonical bytes of a
 * `CertificateBody` after executing a sequence number; 2f+1 matching shares from distinct configured
 * nodes form a certificate that anyone holding the cluster config can check.
 *
 * One implementation for nodes and clients: the bytes a node signs (`certificateBytes`), when two
 * bodies match (`sameCertificateBody`), how matching signatures become a certificate
 * (`certificateOf`, which the PBFT core calls inside `step`, and `combineShares` on top of it), and
 * how a certificate is checked (`verifyCertificateWith`, with Ed25519 keys or the PBFT boundary's
 * signature scheme). Combining is pure and synchronous and trusts that each signature was verified
 * before it was handed in, as the shell does for every message; verification trusts nothing.
 */
import { toHex } from "../bytes.js";
import { DOMAIN, canonicalBytes } from "../canonical.js";
import { signBytes, verifyBytes } from "../crypto/keys.js";
import { sha256 } from "../hash.js";
import { clusterId, CLUSTER_NAME_MAX } from "./cluster-id.js";
import { isDigestHex } from "./hashing.js";
import type { Certificate, CertificateBody, CertificateShare, ClusterConfig, Digest } from "./types.js";

export { BATCH_DOMAIN, GENESIS_LOG_ROOT, batchDigest, logRootOf, nextLogRoot } from "./log-chain.js";

const BODY_FIELDS = [
  "cluster",
  "view",
  "seq",
  "logRoot",
  "stateRoot",
  "resultsRoot",
  "opCount",
  "time",
] as const;

/** Exactly the signed fields, so a stray property on an object at hand is never signed. */
function bodyOnly(b: CertificateBody): CertificateBody {
  const { cluster, view, seq, logRoot, stateRoot, resultsRoot, opCount, time } = b;
  return { cluster, view, seq, logRoot, stateRoot, resultsRoot, opCount, time };
}

/**
 * The bytes a node signs for a certificate body, `canonicalBytes(DOMAIN.certificate, body)`: the one
 * definition, used to sign shares, to verify them and certificates, and by the PBFT boundary (a
 * share message is signed exactly as a certificate signature, so shares combine without re-signing).
 */
export const certificateBytes = (body: CertificateBody): Uint8Array =>
  canonicalBytes(DOMAIN.certificate, bodyOnly(body));

/** Hex SHA-256 of `certificateBytes(body)`: identifies a body (matching shares have equal digests). */
export const certificateDigest = (body: CertificateBody): Digest => toHex(sha256(certificateBytes(body)));

const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;

/** Shape check for a body from the wire: exactly the known fields, each well-typed. */
export function isCertificateBody(x: unknown): x is CertificateBody {
  if (typeof x !== "object" || x === null || Array.isArray(x)) return false;
  const b = x as Record<string, unknown>;
  if (Object.keys(b).length !== BODY_FIELDS.length || !BODY_FIELDS.every((f) => Object.hasOwn(b, f)))
    return false;
  return (
    typeof b.cluster === "string" &&
    b.cluster.length > 0 &&
    isCount(b.view) &&
    isCount(b.seq) &&
    isCount(b.opCount) &&
    isCount(b.time) &&
    isDigestHex(b.logRoot) &&
    isDigestHex(b.stateRoot) &&
    isDigestHex(b.resultsRoot)
  );
}

/** 2f+1. */
export const quorumOf = (config: ClusterConfig): number => 2 * config.f + 1;

/** Why a cluster config is unusable, or null if it is fine (f ≥ 1 integer, n = 3f+1). */
export function clusterConfigProblem(config: ClusterConfig): string | null {
  if (typeof config !== "object" || config === null) return "not an object";
  if (typeof config.cluster !== "string" || config.cluster === "") return "no cluster name";
  if (config.cluster.length > CLUSTER_NAME_MAX) return `cluster name longer than ${CLUSTER_NAME_MAX}`;
  if (!Number.isSafeInteger(config.f) || config.f < 1) return "f must be an integer ≥ 1";
  if (!Array.isArray(config.nodes) || config.nodes.length !== 3 * config.f + 1) return "n must be 3f+1";
  if (!config.nodes.every((n) => typeof n?.publicKey === "string")) return "a node has no public key";
  return null;
}

/** Sign a share as node `nodeIndex` (its index in `ClusterConfig.nodes`). */
export async function signShare(
  secret: string,
  nodeIndex: number,
  body: CertificateBody,
): Promise<CertificateShare> {
  const b = bodyOnly(body);
  return { node: nodeIndex, body: b, sig: await signBytes(secret, certificateBytes(b)) };
}

const isNodeIndex = (i: unknown, config: ClusterConfig): i is number =>
  Number.isInteger(i) && (i as number) >= 0 && (i as number) < config.nodes.length;

/** Check one share from the wire: a well-formed body for this configuration, signed by the node it names. */
export async function verifyShare(share: CertificateShare, config: ClusterConfig): Promise<boolean> {
  if (typeof share !== "object" || share === null || typeof share.sig !== "string") return false;
  if (!isNodeIndex(share.node, config) || !isCertificateBody(share.body)) return false;
  if (share.body.cluster !== clusterId(config)) return false;
  return verifyBytes(config.nodes[share.node]!.publicKey, certificateBytes(share.body), share.sig);
}

/**
 * Do two bodies certify the same thing? Field by field: every field is a scalar, and this is what
 * equal `certificateDigest`s mean, without hashing (the core compares every share it receives).
 */
export const sameCertificateBody = (a: CertificateBody, b: CertificateBody): boolean =>
  a.seq === b.seq &&
  a.view === b.view &&
  a.logRoot === b.logRoot &&
  a.stateRoot === b.stateRoot &&
  a.resultsRoot === b.resultsRoot &&
  a.opCount === b.opCount &&
  a.time === b.time &&
  a.cluster === b.cluster;

/** The distinct bodies among `bodies` (by `sameCertificateBody`), each with how often it occurs. */
export function countByBody(bodies: Iterable<CertificateBody>): { body: CertificateBody; n: number }[] {
  const groups: { body: CertificateBody; n: number }[] = [];
  for (const body of bodies) {
    const g = groups.find((x) => sameCertificateBody(x.body, body));
    if (g) g.n++;
    else groups.push({ body, n: 1 });
  }
  return groups;
}

/** One node's verified signature over a body, as a certificate carries it. */
export interface NodeSignature {
  node: number;
  sig: string;
}

/**
 * The certificate of `body` from verified signatures over it: exactly `quorum` of them, one per
 * node (its first), lowest node indexes first, so every combiner of the same shares builds the same
 * certificate; null if fewer than `quorum` distinct nodes signed. The body is kept as given.
 */
export function certificateOf(
  body: CertificateBody,
  signatures: Iterable<NodeSignature>,
  quorum: number,
): Certificate | null {
  const byNode = new Map<number, string>();
  for (const { node, sig } of signatures) if (!byNode.has(node)) byNode.set(node, sig);
  if (byNode.size < quorum) return null;
  const sigs = [...byNode]
    .sort((a, b) => a[0] - b[0])
    .slice(0, quorum)
    .map(([node, sig]) => ({ node, sig }));
  return { body, sigs };
}

/**
 * A certificate from verified shares: the first body (in input order) that 2f+1 distinct configured
 * nodes signed, with exactly 2f+1 signatures (lowest node indexes), or null if no body has a quorum.
 * Shares of other bodies, of unknown nodes or repeated by a node are ignored.
 */
export function combineShares(
  shares: readonly CertificateShare[],
  config: ClusterConfig,
): Certificate | null {
  const groups: { body: CertificateBody; sigs: NodeSignature[] }[] = [];
  const id = clusterId(config);
  for (const s of shares) {
    if (!isNodeIndex(s.node, config) || !isCertificateBody(s.body) || s.body.cluster !== id) continue;
    let g = groups.find((x) => sameCertificateBody(x.body, s.body));
    if (!g) groups.push((g = { body: s.body, sigs: [] }));
    g.sigs.push({ node: s.node, sig: s.sig });
  }
  for (const g of groups) {
    const cert = certificateOf(bodyOnly(g.body), g.sigs, quorumOf(config));
    if (cert) return cert;
  }
  return null;
}

export type CertificateRejection =
  | "malformed"
  | "bad_config"
  | "wrong_cluster"
  | "too_few_signatures"
  | "duplicate_node"
  | "unknown_node"
  | "bad_signature";

export type CertificateVerdict = { ok: true } | { ok: false; reason: CertificateRejection; detail?: string };

/** Is `sig` node `node`'s signature of `bytes`? False on anything malformed, never a throw. */
export type SignatureCheck = (node: number, bytes: Uint8Array, sig: string) => Promise<boolean>;

/**
 * Is `cert` a valid certificate of `config`: a well-formed body naming `clusterId(config)`, signed by
 * at least 2f+1 distinct configured nodes, and every signature it carries valid? (One bad signature
 * rejects it: honest combiners never include one, so it is evidence of tampering.) Clients check
 * with the Ed25519 keys of the config (`verifyCertificate`); PBFT nodes with their boundary's scheme.
 */
export async function verifyCertificateWith(
  cert: Certificate,
  config: ClusterConfig,
  check: SignatureCheck,
): Promise<CertificateVerdict> {
  const problem = clusterConfigProblem(config);
  if (problem) return { ok: false, reason: "bad_config", detail: problem };
  if (typeof cert !== "object" || cert === null || !isCertificateBody(cert.body) || !Array.isArray(cert.sigs))
    return { ok: false, reason: "malformed" };
  // The id is computed from the keys checked below: another configuration's certificate never passes.
  if (cert.body.cluster !== clusterId(config)) return { ok: false, reason: "wrong_cluster" };
  const seen = new Set<number>();
  for (const s of cert.sigs) {
    if (typeof s !== "object" || s === null || typeof s.sig !== "string")
      return { ok: false, reason: "malformed" };
    if (!isNodeIndex(s.node, config)) return { ok: false, reason: "unknown_node", detail: String(s.node) };
    if (seen.has(s.node)) return { ok: false, reason: "duplicate_node", detail: String(s.node) };
    seen.add(s.node);
  }
  if (seen.size < quorumOf(config))
    return { ok: false, reason: "too_few_signatures", detail: `${seen.size} < ${quorumOf(config)}` };
  const bytes = certificateBytes(cert.body);
  const valid = await Promise.all(cert.sigs.map((s) => check(s.node, bytes, s.sig)));
  const bad = valid.indexOf(false);
  if (bad >= 0) return { ok: false, reason: "bad_signature", detail: `node ${cert.sigs[bad]!.node}` };
  return { ok: true };
}

/** `verifyCertificateWith` the Ed25519 public keys of `config`: what a client runs. */
export const verifyCertificate = (cert: Certificate, config: ClusterConfig): Promise<CertificateVerdict> =>
  verifyCertificateWith(cert, config, (node, bytes, sig) =>
    verifyBytes(config.nodes[node]!.publicKey, bytes, sig),
  );
