/**
 * The certificates as the SDK sees them. The SDK (client/certificates.ts, shared/evidence.ts) checks
 * certificates with real Ed25519 against the cluster it pinned, but most runs sign with the PBFT
 * simulator's fast stand-in (keyed SHA-256 tags, no public keys). So the replies of a stand-in run
 * carry each certificate translated into a real-key twin: the same body under the pinned cluster's
 * id, signed with real Ed25519 by exactly the nodes whose stand-in tags are valid. The translation
 * keeps validity both ways (a tampered body, a missing or bad tag, another cluster's id stay
 * invalid), is one to one on bodies, and is cached, so one certificate costs 2f+1 signatures once.
 * In a real-Ed25519 run the world's cluster is the pinned one and nothing is translated.
 */
import { canonicalJson } from "../../../shared/canonical.js";
import { certificateBytes } from "../../../shared/certified/certificate.js";
import { clusterId } from "../../../shared/certified/cluster-id.js";
import type { Certificate, ClusterConfig } from "../../../shared/certified/types.js";
import { devKeyPair, signBytes, type KeyPair } from "../../../shared/crypto/keys.js";
import type { World } from "../world.js";

export class CertView {
  private readonly cache = new Map<string, Certificate>();

  private constructor(
    /** The cluster the SDK pinned (what its certificates and evidence are checked against). */
    readonly cluster: ClusterConfig,
    private readonly world: World,
    private readonly keys: readonly KeyPair[] | null,
  ) {}

  static async create(world: World, real: boolean): Promise<CertView> {
    if (real) return new CertView(world.cluster, world, null);
    const keys = await Promise.all(world.nodes.map((n) => devKeyPair("sim-system-sdk", `pbft-${n.id}`)));
    const cluster: ClusterConfig = {
      cluster: world.cluster.cluster,
      f: world.cluster.f,
      nodes: keys.map((k, i) => ({ id: `pbft-${i}`, publicKey: k.publicKey })),
    };
    return new CertView(cluster, world, keys);
  }

  /** The certificate as replies carry it to the SDK. */
  async of(cert: Certificate): Promise<Certificate>;
  async of(cert: Certificate | null): Promise<Certificate | null>;
  async of(cert: Certificate | null): Promise<Certificate | null> {
    if (cert === null || this.keys === null) return cert;
    const k = canonicalJson(cert as never);
    const hit = this.cache.get(k);
    if (hit) return hit;
    const standInId = clusterId(this.world.cluster);
    const body = {
      ...cert.body,
      cluster: cert.body.cluster === standInId ? clusterId(this.cluster) : "other",
    };
    const boundary = this.world.nodes[0]!.boundary;
    const bytes = certificateBytes(cert.body);
    const sigs = await Promise.all(
      cert.sigs.map(async (s) => {
        const valid = await boundary.scheme.verify(s.node, bytes, s.sig).catch(() => false);
        const key = this.keys![s.node];
        return {
          node: s.node,
          sig: valid && key ? await signBytes(key.secret, certificateBytes(body)) : s.sig,
        };
      }),
    );
    const out: Certificate = { body, sigs };
    this.cache.set(k, out);
    return out;
  }
}
