/** A signing identity: seed + public key, both base64url, with sign/verify over canonical bytes. */
import { fromB64u, toB64u, utf8 } from "../bytes.js";
import { canonicalBytes } from "../canonical.js";
import { sha256 } from "../hash.js";
import { ed25519, randomSeed } from "./ed25519.js";

export interface KeyPair {
  /** base64url of the 32-byte seed: keep it secret. */
  readonly secret: string;
  /** base64url of the 32-byte public key. */
  readonly publicKey: string;
}

export async function keyPairFromSeed(seed: Uint8Array): Promise<KeyPair> {
  if (seed.length !== 32) throw new Error("an Ed25519 seed is 32 bytes");
  const eng = await ed25519();
  return { secret: toB64u(seed), publicKey: toB64u(await eng.publicKey(seed)) };
}

export const generateKeyPair = (): Promise<KeyPair> => keyPairFromSeed(randomSeed());

/** Deterministic key from a seed phrase and a name: for local dev and tests only. */
export const devKeyPair = (devSeed: string, name: string): Promise<KeyPair> =>
  keyPairFromSeed(sha256(utf8(`aspec-dev-key\n${devSeed}\n${name}`)));

export async function signCanonical(secret: string, domain: string, value: unknown): Promise<string> {
  return signBytes(secret, canonicalBytes(domain, value));
}

/** Sign bytes already encoded (with their domain tag) by the caller, e.g. `certificateBytes`. */
export async function signBytes(secret: string, bytes: Uint8Array): Promise<string> {
  const eng = await ed25519();
  return toB64u(await eng.sign(fromB64u(secret), bytes));
}

/** False on any malformed key or signature: hostile input, never an exception. */
export async function verifyCanonical(
  publicKey: string,
  domain: string,
  value: unknown,
  signature: string,
): Promise<boolean> {
  let msg: Uint8Array;
  try {
    msg = canonicalBytes(domain, value);
  } catch {
    return false;
  }
  return verifyBytes(publicKey, msg, signature);
}

/** `verifyCanonical` for bytes the caller encoded; false on any malformed key or signature. */
export async function verifyBytes(publicKey: string, bytes: Uint8Array, signature: string): Promise<boolean> {
  let pub: Uint8Array, sig: Uint8Array;
  try {
    pub = fromB64u(publicKey);
    sig = fromB64u(signature);
  } catch {
    return false;
  }
  const eng = await ed25519();
  return eng.verify(pub, bytes, sig);
}
