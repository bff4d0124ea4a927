/**
 * The signatures of a system run: the PBFT simulator's fast stand-in (keyed SHA-256 tags for nodes,
 * a hash for client ops) or real Ed25519 for both, as the PBFT world of the run uses. Replicas
 * verify client ops and certificates through this, as the EdgeReplica does through shared/ops.ts
 * and shared/certified/certificate.ts.
 */
import {
  verifyCertificate,
  verifyCertificateWith,
  type CertificateVerdict,
} from "../../../shared/certified/certificate.js";
import type { Certificate } from "../../../shared/certified/types.js";
import { devKeyPair, type KeyPair } from "../../../shared/crypto/keys.js";
import { signOp, verifyOp, type OpBody, type SignedOp } from "../../../shared/ops.js";
import { standInOpSig, standInSignOp } from "../../../shared/pbft/signature-scheme.js";
import type { World } from "../world.js";

export interface SimCrypto {
  readonly real: boolean;
  /** A client's key pair. */
  clientKey(name: string): Promise<KeyPair>;
  sign(key: KeyPair, body: Omit<OpBody, "client">): Promise<SignedOp>;
  verifyOp(op: SignedOp): Promise<boolean>;
  verifyCertificate(cert: Certificate): Promise<CertificateVerdict>;
}

export function simCrypto(world: World, real: boolean): SimCrypto {
  // every node's boundary checks with the run's scheme; node 0's is as good as any (all hold the same keys)
  const boundary = world.nodes[0]!.boundary;
  return {
    real,
    // real keys either way: an op's client must parse as an Ed25519 public key
    clientKey: (name) => devKeyPair("sim-system-client", name),
    sign: (key, body) =>
      real
        ? signOp(key.secret, { ...body, client: key.publicKey })
        : Promise.resolve(standInSignOp({ ...body, client: key.publicKey })),
    verifyOp: (op) => (real ? verifyOp(op) : Promise.resolve(op.sig === standInOpSig(op))),
    verifyCertificate: async (cert) =>
      real
        ? verifyCertificate(cert, world.cluster)
        : verifyCertificateWith(cert, world.cluster, async () => true).then(async (shape) =>
            !shape.ok
              ? shape
              : (await boundary.checkCertificate(cert))
                ? shape
                : { ok: false, reason: "bad_signature" as const },
          ),
  };
}
