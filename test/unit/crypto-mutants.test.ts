// The Ed25519 policy's byte-level checks, each on its own (the engine tests reach them only through
// whole signatures, where an earlier check often refuses first), the engine selection, and the
// promise that malformed input is `false` or a clear error, never something else.
import { afterEach, describe, expect, it, vi } from "vitest";
import { fromHex } from "../../shared/bytes.js";
import {
  ED25519_L,
  isAcceptableSignatureShape,
  isCanonicalPointEncoding,
} from "../../shared/crypto/ed25519-policy.js";
import { COFACTORED_ONLY, makeWebCryptoEngine } from "../../shared/crypto/ed25519.js";
import { keyPairFromSeed } from "../../shared/crypto/keys.js";

const P = (1n << 255n) - 19n;
const webCrypto = (globalThis as unknown as { crypto: Crypto }).crypto;
const le32 = (n: bigint) => {
  const b = new Uint8Array(32);
  for (let i = 0; i < 32; i++) b[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return b;
};
const withSign = (b: Uint8Array) => {
  const c = b.slice();
  c[31]! |= 0x80;
  return c;
};
/** The base point B: canonical, prime order. */
const BASE = fromHex("5866666666666666666666666666666666666666666666666666666666666666");
const sig = (r: Uint8Array, s: bigint) => {
  const out = new Uint8Array(64);
  out.set(r, 0);
  out.set(le32(s), 32);
  return out;
};

describe("isCanonicalPointEncoding", () => {
  it("is 32 bytes exactly", () => {
    expect(isCanonicalPointEncoding(BASE)).toBe(true);
    expect(isCanonicalPointEncoding(BASE.subarray(0, 31))).toBe(false);
    expect(isCanonicalPointEncoding(new Uint8Array(31))).toBe(false);
    expect(isCanonicalPointEncoding(new Uint8Array([...BASE, 0]))).toBe(false);
    expect(isCanonicalPointEncoding(new Uint8Array(0))).toBe(false);
  });
  it("refuses y ≥ p, accepts y = p − 1", () => {
    expect(isCanonicalPointEncoding(le32(P))).toBe(false);
    expect(isCanonicalPointEncoding(le32(P + 1n))).toBe(false);
    expect(isCanonicalPointEncoding(le32(P - 1n))).toBe(true);
  });
  it("refuses '−0' (sign bit set where x = 0: y = 1 or y = p − 1), and only there", () => {
    expect(isCanonicalPointEncoding(le32(1n))).toBe(true);
    expect(isCanonicalPointEncoding(withSign(le32(1n)))).toBe(false);
    expect(isCanonicalPointEncoding(withSign(le32(P - 1n)))).toBe(false);
    expect(isCanonicalPointEncoding(withSign(le32(5n)))).toBe(true);
    expect(isCanonicalPointEncoding(withSign(BASE))).toBe(true);
  });
});

describe("isAcceptableSignatureShape", () => {
  it("is 64 bytes exactly", () => {
    const good = sig(BASE, 1n);
    expect(isAcceptableSignatureShape(good)).toBe(true);
    expect(isAcceptableSignatureShape(good.subarray(0, 63))).toBe(false);
    expect(isAcceptableSignatureShape(new Uint8Array([...good, 0]))).toBe(false);
  });
  it("refuses a non-canonical R that is not small-order, and a small-order R", () => {
    expect(isAcceptableSignatureShape(sig(le32(P), 1n))).toBe(false); // y = p: not canonical
    expect(isAcceptableSignatureShape(sig(withSign(le32(1n)), 1n))).toBe(false); // −0
    expect(isAcceptableSignatureShape(sig(le32(1n), 1n))).toBe(false); // the identity
    expect(isAcceptableSignatureShape(sig(le32(P - 1n), 1n))).toBe(false); // order 2
  });
  it("takes S < L only: L − 1 passes, L and L + 1 do not", () => {
    expect(isAcceptableSignatureShape(sig(BASE, ED25519_L - 1n))).toBe(true);
    expect(isAcceptableSignatureShape(sig(BASE, ED25519_L))).toBe(false);
    expect(isAcceptableSignatureShape(sig(BASE, ED25519_L + 1n))).toBe(false);
  });
});

describe("keys", () => {
  it("a seed is 32 bytes: anything else is refused with that reason", async () => {
    for (const n of [0, 31, 33])
      await expect(keyPairFromSeed(new Uint8Array(n))).rejects.toThrow("an Ed25519 seed is 32 bytes");
  });
});

describe("the WebCrypto engine", () => {
  it("a WebCrypto that throws on a key is a false verdict, not an exception", async () => {
    const real = webCrypto.subtle;
    const throwing = new Proxy(real, {
      get: (t, p) =>
        p === "importKey"
          ? () => Promise.reject(new Error("DataError"))
          : (Reflect.get(t, p) as (...a: unknown[]) => unknown).bind(t),
    });
    const seed = new Uint8Array(32).fill(3);
    const honest = makeWebCryptoEngine(real);
    const msg = new Uint8Array([9]);
    const s = await honest.sign(seed, msg);
    const pub = await honest.publicKey(seed);
    expect(await honest.verify(pub, msg, s)).toBe(true);
    expect(await makeWebCryptoEngine(throwing).verify(pub, msg, s)).toBe(false);
  });
});

describe("engine selection", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.resetModules();
  });
  /** A fresh copy of the module (its choice is made once per module), under `crypto`. */
  async function selectedUnder(crypto: unknown): Promise<string> {
    vi.resetModules();
    vi.stubGlobal("crypto", crypto);
    const m = await import("../../shared/crypto/ed25519.js");
    return (await m.ed25519()).name;
  }
  const real = webCrypto;
  const subtleWith = (over: Partial<Record<keyof SubtleCrypto, unknown>>) =>
    new Proxy(real.subtle, {
      get: (t, p) =>
        p in over
          ? over[p as keyof SubtleCrypto]
          : (Reflect.get(t, p) as (...a: unknown[]) => unknown).bind(t),
    });

  it("this runtime's WebCrypto (Ed25519, cofactorless) is chosen", async () => {
    expect(await selectedUnder(real)).toBe("webcrypto");
  });
  it("no WebCrypto at all: noble", async () => {
    expect(await selectedUnder(undefined)).toBe("noble");
    expect(await selectedUnder({})).toBe("noble");
  });
  it("a WebCrypto that accepts the cofactored-only signature: noble", async () => {
    // verifies cofactored: says yes to COFACTORED_ONLY (and to everything else honest)
    const cofactored = subtleWith({
      verify: async (alg: unknown, key: CryptoKey, s: BufferSource, m: BufferSource) =>
        new Uint8Array(m as ArrayBuffer).length === COFACTORED_ONLY.msg.length ||
        (await real.subtle.verify(alg as Parameters<SubtleCrypto["verify"]>[0], key, s, m)),
    });
    expect(await selectedUnder({ subtle: cofactored })).toBe("noble");
  });
  it("a WebCrypto whose Ed25519 does not verify its own signature: noble", async () => {
    expect(await selectedUnder({ subtle: subtleWith({ verify: async () => false }) })).toBe("noble");
  });
  it("a WebCrypto without Ed25519 (sign throws): noble", async () => {
    const noEd = subtleWith({ sign: () => Promise.reject(new Error("NotSupportedError")) });
    expect(await selectedUnder({ subtle: noEd })).toBe("noble");
  });
});
