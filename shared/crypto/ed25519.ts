/**
 * Ed25519 with one interface over two engines: WebCrypto (workerd, Node ≥ 20, current browsers;
 * ~16× faster inside workerd) and @noble/ed25519 (runtimes whose WebCrypto lacks Ed25519).
 * Both produce byte-identical signatures (RFC 8032 is deterministic); the interop test checks it.
 * Both verify under the one policy of `ed25519-policy.ts` (refused keys and signature encodings,
 * then the cofactorless equation), so they accept exactly the same signatures.
 *
 * Keys travel as base64url: a 32-byte secret seed, a 32-byte public key, a 64-byte signature.
 */
import * as noble from "@noble/ed25519";
import { sha512 } from "@noble/hashes/sha2.js";
import { bytesEqual, concatBytes, fromHex } from "../bytes.js";
import {
  ED25519_L,
  acceptedPublicKey,
  bytesToBigIntLE,
  isAcceptableSignatureShape,
  passesPolicy,
} from "./ed25519-policy.js";

noble.hashes.sha512 = sha512;

export interface Ed25519Engine {
  readonly name: "webcrypto" | "noble";
  publicKey(seed: Uint8Array): Promise<Uint8Array>;
  sign(seed: Uint8Array, msg: Uint8Array): Promise<Uint8Array>;
  verify(publicKey: Uint8Array, msg: Uint8Array, sig: Uint8Array): Promise<boolean>;
}

export const nobleEngine: Ed25519Engine = {
  name: "noble",
  // noble's *Async functions hash with crypto.subtle.digest, which is missing exactly where this
  // engine is the fallback (no crypto.subtle, e.g. a page outside a secure context): hash in JS.
  publicKey: async (seed) => noble.getPublicKey(seed),
  sign: async (seed, msg) => noble.sign(msg, seed),
  // noble's own verify is cofactored (it accepts a mixed-order R that WebCrypto refuses), so the
  // policy's cofactorless equation is computed here with its point arithmetic.
  async verify(pub, msg, sig) {
    const a = acceptedPublicKey(pub);
    if (a === null || !isAcceptableSignatureShape(sig)) return false;
    const r = sig.subarray(0, 32);
    const s = bytesToBigIntLE(sig.subarray(32));
    const k = bytesToBigIntLE(sha512(concatBytes(r, pub, msg))) % ED25519_L;
    const expected = noble.Point.BASE.multiply(s, false).subtract(a.multiply(k, false));
    return bytesEqual(expected.toBytes(), r);
  },
};

// PKCS#8 wrapper for a raw Ed25519 seed (RFC 8410): WebCrypto imports private keys only this way or as JWK.
const PKCS8_PREFIX = fromHex("302e020100300506032b657004220420");
const ALG = { name: "Ed25519" } as const;
/** Each engine keeps at most this many imported private and public CryptoKeys. */
export const CRYPTO_KEY_CACHE_MAX = 1024;

/** A small insertion-ordered cache: imported CryptoKeys are reused, never unbounded. */
function boundedCache<V>() {
  const m = new Map<string, V>();
  return {
    get: (k: string) => m.get(k),
    set(k: string, v: V) {
      if (m.size >= CRYPTO_KEY_CACHE_MAX) m.delete(m.keys().next().value as string);
      m.set(k, v);
    },
  };
}
const keyId = (b: Uint8Array) => String.fromCharCode(...b);
/** WebCrypto's typings want an ArrayBuffer-backed view. */
const buf = (b: Uint8Array) => b as Uint8Array<ArrayBuffer>;

function webCryptoEngine(subtle: SubtleCrypto): Ed25519Engine {
  const privKeys = boundedCache<Promise<CryptoKey>>();
  const pubKeys = boundedCache<Promise<CryptoKey>>();
  const privKey = (seed: Uint8Array) => {
    const id = keyId(seed);
    let k = privKeys.get(id);
    if (!k) {
      k = subtle.importKey("pkcs8", buf(concatBytes(PKCS8_PREFIX, seed)), ALG, true, ["sign"]);
      privKeys.set(id, k);
    }
    return k;
  };
  const pubKey = (pub: Uint8Array) => {
    const id = keyId(pub);
    let k = pubKeys.get(id);
    if (!k) {
      k = subtle.importKey("raw", buf(pub), ALG, false, ["verify"]);
      pubKeys.set(id, k);
    }
    return k;
  };
  return {
    name: "webcrypto",
    async publicKey(seed) {
      const jwk = (await subtle.exportKey("jwk", await privKey(seed))) as JsonWebKey;
      return base64UrlToBytes(jwk.x!);
    },
    async sign(seed, msg) {
      return new Uint8Array(await subtle.sign(ALG, await privKey(seed), buf(msg)));
    },
    async verify(pub, msg, sig) {
      if (!passesPolicy(pub, sig)) return false;
      try {
        return await subtle.verify(ALG, await pubKey(pub), buf(sig), buf(msg));
      } catch {
        return false; // a malformed public key is hostile input, not a crash
      }
    },
  };
}

function base64UrlToBytes(s: string): Uint8Array {
  const b = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(b, (c) => c.charCodeAt(0));
}

let selected: Promise<Ed25519Engine> | undefined;

/**
 * A signature that only a cofactored verifier accepts: R = [r]B + T (T of order 8), S = r + k·a,
 * under the key of seed 0x2a×32 (made with @noble/ed25519 point arithmetic). It passes every
 * policy check before the equation, so it tells which equation an engine uses (the tests use it too).
 */
export const COFACTORED_ONLY = {
  pub: fromHex("197f6b23e16c8532c6abc838facd5ea789be0c76b2920334039bfa8b3d368d61"),
  msg: fromHex("6173706563206564323535313920706f6c6963792070726f62653a206d697865642d6f726465722052"),
  sig: fromHex(
    "01bfd6e8f2bd0b0a3714561679d110aa51f339cc2f7b444d6e40fd5958fdb721" +
      "683c9bc29d659265eb29df87e30d117dffb5a6977c93356d90b1547410143109",
  ),
};

/**
 * Probe once whether this runtime's WebCrypto does Ed25519 end to end and verifies cofactorless,
 * as the policy does; otherwise fall back to noble (a cofactored WebCrypto would accept signatures
 * the other verifiers refuse).
 */
export function ed25519(): Promise<Ed25519Engine> {
  selected ??= (async () => {
    const subtle = (globalThis as { crypto?: Crypto }).crypto?.subtle;
    if (!subtle) return nobleEngine;
    try {
      const eng = webCryptoEngine(subtle);
      const seed = new Uint8Array(32).fill(7);
      const msg = new Uint8Array([1, 2, 3]);
      const sig = await eng.sign(seed, msg);
      const honest = await eng.verify(await eng.publicKey(seed), msg, sig);
      const cofactored = await eng.verify(COFACTORED_ONLY.pub, COFACTORED_ONLY.msg, COFACTORED_ONLY.sig);
      if (honest && !cofactored) return eng;
    } catch {
      /* fall through */
    }
    return nobleEngine;
  })();
  return selected;
}

/** Exposed for interop tests and benchmarks. */
export const makeWebCryptoEngine = webCryptoEngine;

export function randomSeed(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(32));
}
