import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ed25519, makeWebCryptoEngine, nobleEngine } from "../../../shared/crypto/ed25519.js";
import {
  devKeyPair,
  generateKeyPair,
  keyPairFromSeed,
  signCanonical,
  verifyCanonical,
} from "../../../shared/crypto/keys.js";

const web = makeWebCryptoEngine(crypto.subtle);

describe("Ed25519 engines interoperate", () => {
  it("picks WebCrypto where the runtime has it", async () => {
    expect((await ed25519()).name).toBe("webcrypto");
  });
  it("same public key, byte-identical signatures, each verifies the other's", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 200 }),
        async (seed, msg) => {
          const [pw, pn] = [await web.publicKey(seed), await nobleEngine.publicKey(seed)];
          expect(pw).toEqual(pn);
          const [sw, sn] = [await web.sign(seed, msg), await nobleEngine.sign(seed, msg)];
          expect(sw).toEqual(sn);
          expect(await nobleEngine.verify(pw, msg, sw)).toBe(true);
          expect(await web.verify(pn, msg, sn)).toBe(true);
        },
      ),
      { numRuns: 30 },
    );
  });
  it("a changed message, key or signature fails on both; malformed input is false, not a throw", async () => {
    const seed = new Uint8Array(32).fill(9);
    const msg = new Uint8Array([1, 2, 3]);
    const pub = await web.publicKey(seed);
    const sig = await web.sign(seed, msg);
    for (const eng of [web, nobleEngine]) {
      expect(await eng.verify(pub, new Uint8Array([1, 2, 4]), sig)).toBe(false);
      expect(await eng.verify(await web.publicKey(new Uint8Array(32)), msg, sig)).toBe(false);
      const bad = sig.slice();
      bad[0]! ^= 1;
      expect(await eng.verify(pub, msg, bad)).toBe(false);
      expect(await eng.verify(pub.slice(0, 31), msg, sig)).toBe(false);
      expect(await eng.verify(new Uint8Array(32).fill(255), msg, sig)).toBe(false);
    }
  });
});

describe("keys", () => {
  it("sign and verify canonical values; dev keys are deterministic per name", async () => {
    const k = await generateKeyPair();
    const sig = await signCanonical(k.secret, "d", { b: 1, a: 2 });
    expect(await verifyCanonical(k.publicKey, "d", { a: 2, b: 1 }, sig)).toBe(true);
    expect(await verifyCanonical(k.publicKey, "other-domain", { a: 2, b: 1 }, sig)).toBe(false);
    expect(await verifyCanonical("not a key", "d", {}, sig)).toBe(false);
    expect((await devKeyPair("s", "weur")).publicKey).toBe((await devKeyPair("s", "weur")).publicKey);
    expect((await devKeyPair("s", "weur")).publicKey).not.toBe((await devKeyPair("s", "enam")).publicKey);
  });
});

describe("keys: malformed input", () => {
  it("a seed is 32 bytes: anything else is refused with that reason", async () => {
    for (const n of [0, 31, 33])
      await expect(keyPairFromSeed(new Uint8Array(n))).rejects.toThrow("an Ed25519 seed is 32 bytes");
  });
  it("a value with no canonical encoding never verifies, and is false, not a throw", async () => {
    // JSON.stringify would write NaN and Infinity as null: a signature over null must not cover them
    const k = await keyPairFromSeed(new Uint8Array(32).fill(4));
    const sigOverNull = await signCanonical(k.secret, "d", { n: null });
    expect(await verifyCanonical(k.publicKey, "d", { n: null }, sigOverNull)).toBe(true);
    for (const bad of [{ n: NaN }, { n: Infinity }, { n: 1n }, { n: () => null }, new Date(0)])
      expect(await verifyCanonical(k.publicKey, "d", bad, sigOverNull)).toBe(false);
  });
});
