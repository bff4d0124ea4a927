// The Ed25519 engine each kind of runtime gets, on a fresh load of the crypto modules (WebCrypto when
// it follows the policy, noble otherwise), and that it signs as RFC 8032 says and refuses forgeries;
// a WebCrypto that throws is a false verdict, never an exception. This file reloads modules
// (vi.resetModules): scripts/mutation.ts runs it only when shared/crypto is a target.
import { afterEach, describe, expect, it, vi } from "vitest";
import { fromHex } from "../../../shared/bytes.js";
import { ED25519_L, bytesToBigIntLE } from "../../../shared/crypto/ed25519-policy.js";
import { COFACTORED_ONLY, makeWebCryptoEngine } from "../../../shared/crypto/ed25519.js";
import { devKeyPair } from "../../../shared/crypto/keys.js";
import { BASE, P, le32, sig, withSign } from "../../support/ed25519-bytes.js";

const webCrypto = (globalThis as unknown as { crypto: Crypto }).crypto;

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

/** RFC 8032 §7.1 TEST 1: secret seed, public key, signature of the empty message. */
const RFC8032_TEST1 = {
  seed: fromHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"),
  pub: fromHex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"),
  sig: fromHex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
  ),
};
/** The canonical encodings of the 8 small-order points (speccheck README, ZIP 215). */
const SMALL_ORDER = [
  "0100000000000000000000000000000000000000000000000000000000000000",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0000000000000000000000000000000000000000000000000000000000000080",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
].map(fromHex);

// The engine choice and the policy's tables are made when the modules load, once per runtime:
// these tests load them afresh under each kind of runtime and check what that load gives users.

describe("engine selection, on a fresh load of the crypto modules", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.resetModules();
  });
  /** Fresh copies of the modules, loaded under `crypto`: the engine they select, and their policy. */
  async function loadUnder(crypto: unknown) {
    vi.resetModules();
    vi.stubGlobal("crypto", crypto);
    const m = await import("../../../shared/crypto/ed25519.js");
    const policy = await import("../../../shared/crypto/ed25519-policy.js");
    const keys = await import("../../../shared/crypto/keys.js");
    return { engine: await m.ed25519(), policy, keys };
  }
  const selectedUnder = async (crypto: unknown) => (await loadUnder(crypto)).engine.name;
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

  // a browser page over plain http (not a secure context) has crypto.getRandomValues but no crypto.subtle
  const insecureContext = { getRandomValues: webCrypto.getRandomValues.bind(webCrypto) };
  for (const [runtime, cryptoGlobal] of [
    ["with WebCrypto Ed25519", webCrypto],
    ["without crypto.subtle (the noble fallback)", insecureContext],
    ["without any crypto global (the noble fallback)", undefined],
  ] as const) {
    it(`the engine chosen ${runtime} signs as RFC 8032 says and refuses forgeries`, async () => {
      const { engine, keys } = await loadUnder(cryptoGlobal);
      const { seed, pub, sig } = RFC8032_TEST1;
      const empty = new Uint8Array(0);
      expect(await engine.publicKey(seed)).toEqual(pub);
      expect(await engine.sign(seed, empty)).toEqual(sig);
      expect(await engine.verify(pub, empty, sig)).toBe(true);
      // another seed is another key, and this key's signature does not verify under it
      const other = await engine.publicKey(new Uint8Array(32).fill(5));
      expect(other).not.toEqual(pub);
      expect(await engine.verify(other, empty, sig)).toBe(false);
      expect(await engine.verify(other, empty, await engine.sign(new Uint8Array(32).fill(5), empty))).toBe(
        true,
      );
      // the identity key with R = identity, S = 0 "signs" every message: refused
      expect(await engine.verify(SMALL_ORDER[0]!, empty, fromHex("01" + "00".repeat(63)))).toBe(false);
      // S + L: a malleated copy of a valid signature
      const malleated = sig.slice();
      malleated.set(le32(bytesToBigIntLE(sig.subarray(32)) + ED25519_L), 32);
      expect(await engine.verify(pub, empty, malleated)).toBe(false);
      expect(await engine.verify(COFACTORED_ONLY.pub, COFACTORED_ONLY.msg, COFACTORED_ONLY.sig)).toBe(false);
      // canonical values: one that cannot be encoded is false, not a throw, on this engine too
      const k = await keys.keyPairFromSeed(seed);
      const overNull = await keys.signCanonical(k.secret, "d", { n: null });
      expect(await keys.verifyCanonical(k.publicKey, "d", { n: null }, overNull)).toBe(true);
      expect(await keys.verifyCanonical(k.publicKey, "d", { n: NaN }, overNull)).toBe(false);
      // dev keys are the same on every engine; fresh keys need only crypto.getRandomValues
      expect(await keys.devKeyPair("s", "weur")).toEqual(await devKeyPair("s", "weur"));
      if (cryptoGlobal !== undefined) {
        const g = await keys.generateKeyPair();
        const s = await keys.signCanonical(g.secret, "d", { a: 1 });
        expect(await keys.verifyCanonical(g.publicKey, "d", { a: 1 }, s)).toBe(true);
      }
    });
  }

  it("the policy as loaded refuses the 8 small-order points and the non-canonical encodings", async () => {
    const { policy } = await loadUnder(webCrypto);
    for (const r of SMALL_ORDER) {
      expect(policy.isCanonicalPointEncoding(r)).toBe(true);
      expect(policy.isSmallOrderEncoding(r)).toBe(true);
      expect(policy.isAcceptableSignatureShape(sig(r, 1n))).toBe(false);
      expect(policy.acceptedPublicKey(r)).toBeNull();
    }
    expect(policy.isSmallOrderEncoding(BASE)).toBe(false);
    expect(policy.isAcceptableSignatureShape(sig(BASE, 1n))).toBe(true);
    expect(policy.isCanonicalPointEncoding(le32(P))).toBe(false);
    expect(policy.isCanonicalPointEncoding(le32(P - 1n))).toBe(true);
    expect(policy.isCanonicalPointEncoding(withSign(le32(P - 1n)))).toBe(false);
    expect(policy.ED25519_L).toBe(ED25519_L);
    expect(policy.isAcceptableSignatureShape(sig(BASE, ED25519_L - 1n))).toBe(true);
    expect(policy.isAcceptableSignatureShape(sig(BASE, ED25519_L))).toBe(false);
  });
});
