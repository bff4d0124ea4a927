/**
 * The one Ed25519 verification policy. Every verifier in the project (replicas, PBFT nodes, the
 * SDK) verifies through an `Ed25519Engine`, and both engines (WebCrypto, @noble/ed25519) apply
 * these checks first and then the same equation, so they accept exactly the same signatures: nodes
 * that disagreed on a signature would disagree on a batch. docs/api.md ("Signatures")
 * states it for users.
 *
 * A signature (R ‖ S) by public key A over message M is accepted iff
 * - A is the canonical encoding (y < p, no "negative zero" x) of a point of the prime-order
 *   subgroup other than the identity: small-order keys (the identity among them: it "signs" every
 *   message) and mixed-order keys (a torsion component) are refused. Honest keys, [a]B, are always
 *   in that subgroup;
 * - R is a canonical encoding and not one of the 8 small-order points;
 * - S < L (no malleable S + L);
 * - the cofactorless equation holds as bytes: encode([S]B − [k]A) = R, k = SHA-512(R ‖ A ‖ M) mod L.
 *   A mixed-order R can never satisfy it (the right side is in the prime-order subgroup), while a
 *   cofactored check ([8]…) would accept it: the engine selection refuses a WebCrypto that does.
 *
 * The key check costs a scalar multiplication, done once per key (bounded cache); the signature
 * checks are byte comparisons.
 */
import { Point } from "@noble/ed25519";
import { bytesEqual, fromHex } from "../bytes.js";

/** The field prime 2^255 − 19. */
const P = (1n << 255n) - 19n;
/** The order of the prime-order subgroup (and of the base point B). */
export const ED25519_L = (1n << 252n) + 27742317777372353535851937790883648493n;

/** The canonical encodings of the 8 small-order points (orders 1, 2, 4, 8). */
const SMALL_ORDER_ENCODINGS = [
  "0100000000000000000000000000000000000000000000000000000000000000",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0000000000000000000000000000000000000000000000000000000000000080",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
].map(fromHex);

/** Little-endian bytes as an integer. */
export function bytesToBigIntLE(b: Uint8Array): bigint {
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]!);
  return n;
}

/** Is `b` the one encoding of a field element y < p with a sign bit that can be set (x ≠ 0)? */
export function isCanonicalPointEncoding(b: Uint8Array): boolean {
  if (b.length !== 32) return false;
  const y = bytesToBigIntLE(b) & ((1n << 255n) - 1n);
  if (y >= P) return false;
  // x = 0 exactly when y = ±1; "−0" with the sign bit set is a second encoding of those points
  return !((b[31]! & 0x80) !== 0 && (y === 1n || y === P - 1n));
}

/** Is `b` (canonical) one of the small-order points? */
export const isSmallOrderEncoding = (b: Uint8Array): boolean =>
  SMALL_ORDER_ENCODINGS.some((s) => bytesEqual(s, b));

/** Keys checked so far → their decoded point, or null when refused. Bounded, oldest out. */
const keyVerdicts = new Map<string, Point | null>();
/** At most this many key verdicts are kept: endless distinct keys from a peer cannot grow memory. */
export const KEY_VERDICTS_MAX = 4096;
/** How many key verdicts are held now (read-only; for the bound's tests). */
export function keyVerdictsHeld(): number {
  return keyVerdicts.size;
}

/**
 * The point of an acceptable public key (canonical, prime-order subgroup, not the identity), or
 * null when the policy refuses it.
 */
export function acceptedPublicKey(pub: Uint8Array): Point | null {
  if (!isCanonicalPointEncoding(pub) || isSmallOrderEncoding(pub)) return null;
  const id = String.fromCharCode(...pub);
  const known = keyVerdicts.get(id);
  if (known !== undefined) return known;
  let verdict: Point | null;
  try {
    const a = Point.fromBytes(pub, false);
    verdict = a.isTorsionFree() ? a : null; // mixed order: a torsion component
  } catch {
    verdict = null; // not a point on the curve
  }
  if (keyVerdicts.size >= KEY_VERDICTS_MAX) keyVerdicts.delete(keyVerdicts.keys().next().value as string);
  keyVerdicts.set(id, verdict);
  return verdict;
}

/** The signature's own checks: 64 bytes, R canonical and not small-order, S < L. Bytes only. */
export function isAcceptableSignatureShape(sig: Uint8Array): boolean {
  if (sig.length !== 64) return false;
  const r = sig.subarray(0, 32);
  if (!isCanonicalPointEncoding(r) || isSmallOrderEncoding(r)) return false;
  return bytesToBigIntLE(sig.subarray(32)) < ED25519_L;
}

/** Does the policy let this key/signature pair reach the equation at all? */
export const passesPolicy = (pub: Uint8Array, sig: Uint8Array): boolean =>
  isAcceptableSignatureShape(sig) && acceptedPublicKey(pub) !== null;
