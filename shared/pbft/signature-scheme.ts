/**
 * How the boundary signs and verifies: real Ed25519 (shared/crypto) in production and in some
 * simulator runs, or a fast deterministic stand-in (keyed SHA-256 tags) for most simulator runs and
 * the core benchmark. The core never sees either.
 */
import { concatBytes, fromB64u, toB64u, utf8 } from "../bytes.js";
import { canonicalBytes, DOMAIN } from "../canonical.js";
import type { ClusterConfig } from "../certified/types.js";
import { ed25519 } from "../crypto/ed25519.js";
import { sha256 } from "../hash.js";
import { opBody, verifyOp, type OpBody, type SignedOp } from "../ops.js";

export interface SignatureScheme {
  readonly name: string;
  /** Sign as this node. */
  sign(bytes: Uint8Array): Promise<string>;
  /** Is `sig` node `node`'s signature of `bytes`? False on anything malformed. */
  verify(node: number, bytes: Uint8Array, sig: string): Promise<boolean>;
  /** Is the op signed by its client? (Shape is checked separately.) */
  verifyOp(op: SignedOp): Promise<boolean>;
}

/** Ed25519: `secret` is this node's base64url seed, public keys come from the cluster config. */
export function ed25519Scheme(cluster: ClusterConfig, secret: string): SignatureScheme {
  const seed = fromB64u(secret);
  const pubs = cluster.nodes.map((n) => {
    try {
      return fromB64u(n.publicKey);
    } catch {
      return new Uint8Array(0);
    }
  });
  return {
    name: "ed25519",
    async sign(bytes) {
      return toB64u(await (await ed25519()).sign(seed, bytes));
    },
    async verify(node, bytes, sig) {
      const pub = pubs[node];
      if (!pub) return false;
      let raw: Uint8Array;
      try {
        raw = fromB64u(sig);
      } catch {
        return false;
      }
      return (await ed25519()).verify(pub, bytes, raw);
    },
    verifyOp,
  };
}

const tag = (secret: string, bytes: Uint8Array): string => toB64u(sha256(concatBytes(utf8(secret), bytes)));

/**
 * The stand-in: a node's "signature" is SHA-256(secret ‖ bytes). Only holders of a node's secret
 * can make its tags, so forgeries by other nodes are still rejected; it is not a public-key scheme
 * (verifiers hold every secret), which is fine inside one simulator process.
 */
export function standInScheme(secrets: readonly string[], me: number): SignatureScheme {
  return {
    name: "stand-in",
    sign: async (bytes) => tag(secrets[me]!, bytes),
    async verify(node, bytes, sig) {
      const secret = secrets[node];
      return secret !== undefined && sig === tag(secret, bytes);
    },
    verifyOp: async (op) => op.sig === standInOpSig(op),
  };
}

/** Stand-in client signature (64 bytes, the shape of an Ed25519 one). Anyone can make it: a stand-in. */
export function standInOpSig(body: OpBody): string {
  const h = sha256(canonicalBytes(DOMAIN.op, opBody({ ...body, sig: "" })));
  return toB64u(concatBytes(h, h));
}

export const standInSignOp = (body: OpBody): SignedOp => ({ ...body, sig: standInOpSig(body) });
