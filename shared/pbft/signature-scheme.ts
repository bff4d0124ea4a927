/**
 * How the boundary signs and verifies: real Ed25519 (shared/crypto) in production and in some
 * simulator runs, or a fast deterministic stand-in (keyed SHA-256 tags) for most simulator runs and
 * the core benchmark. The core never sees either.
 */
import { concatBytes, fromB64u, toB64u, utf8 } from "../bytes.js";
import { canonicalJson, DOMAIN } from "../canonical.js";
import type { ClusterConfig } from "../certified/types.js";
import { ed25519 } from "../crypto/ed25519.js";
import { sha256 } from "../hash.js";
import { sameOp, verifyOp, type OpBody, type SignedOp } from "../ops.js";

export interface SignatureScheme {
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
    sign: async (bytes) => tag(secrets[me]!, bytes),
    async verify(node, bytes, sig) {
      const secret = secrets[node];
      return secret !== undefined && sig === tag(secret, bytes);
    },
    verifyOp: async (op) => checkStandInOpSig(opsSeenBy(secrets), op),
  };
}

/**
 * Ops whose stand-in signature a cluster has computed, by signature (bounded, oldest out), shared
 * by the nodes of one in-process cluster: the ones built from the same `secrets` array.
 */
const standInOpsSeen = new WeakMap<readonly string[], Map<string, SignedOp>>();
const STAND_IN_OPS_SEEN_MAX = 100_000;

function opsSeenBy(secrets: readonly string[]): Map<string, SignedOp> {
  let seen = standInOpsSeen.get(secrets);
  if (!seen) standInOpsSeen.set(secrets, (seen = new Map()));
  return seen;
}

/**
 * `op.sig === standInOpSig(op)`, with the SHA-256 of an op computed once per cluster rather than
 * once per node: a node still compares every field of its op with the op that was hashed
 * (`sameOp`), so a changed op is never taken for a signed one. Only the hash is shared, which is
 * what a stand-in for signatures is for: the simulator and the core benchmark measure the rest.
 */
function checkStandInOpSig(seen: Map<string, SignedOp>, op: SignedOp): boolean {
  const known = seen.get(op.sig);
  if (known !== undefined && (known === op || sameOp(known, op))) return true;
  if (op.sig !== standInOpSig(op)) return false;
  if (seen.size >= STAND_IN_OPS_SEEN_MAX) seen.delete(seen.keys().next().value as string);
  seen.set(op.sig, op);
  return true;
}

/**
 * Stand-in client signature (64 bytes, the shape of an Ed25519 one). Anyone can make it: a stand-in.
 * It covers every field of the body, as a JSON array of the scalar fields with the arguments'
 * canonical JSON inside (unambiguous, and cheaper than the canonical encoding of the whole body:
 * every node computes it for every op).
 */
export function standInOpSig(body: OpBody): string {
  const text = JSON.stringify([
    DOMAIN.op,
    body.client,
    body.seq,
    body.key,
    body.type,
    body.op,
    canonicalJson(body.args),
    body.ts,
  ]);
  const h = sha256(utf8(text));
  return toB64u(concatBytes(h, h));
}

export const standInSignOp = (body: OpBody): SignedOp => ({ ...body, sig: standInOpSig(body) });
