// The crypto caches' promises: a key is decoded / imported once while it is recent, and a peer
// sending endless distinct keys cannot grow memory past the bound, nor change any verdict.
import { describe, expect, it } from "vitest";
import { fromHex } from "../../../shared/bytes.js";
import { Point } from "@noble/ed25519";
import { CRYPTO_KEY_CACHE_MAX, makeWebCryptoEngine } from "../../../shared/crypto/ed25519.js";
import {
  KEY_VERDICTS_MAX,
  acceptedPublicKey,
  keyVerdictsHeld,
} from "../../../shared/crypto/ed25519-policy.js";

const le32 = (n: bigint) => {
  const b = new Uint8Array(32);
  for (let i = 0; i < 32; i++) b[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return b;
};
const seedOf = (i: number) => {
  const s = new Uint8Array(32);
  s[0] = i & 0xff;
  s[1] = i >> 8;
  s[2] = 0xa5;
  return s;
};

describe("the key-verdict cache of the policy", () => {
  it("holds at most KEY_VERDICTS_MAX keys after a flood of distinct keys, and verdicts stay right", async () => {
    const web = makeWebCryptoEngine(crypto.subtle);
    const honest = await web.publicKey(new Uint8Array(32).fill(11));
    // speccheck's mixed-order A: refused by the subgroup check (it is not in the small-order table)
    const mixed = fromHex("cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d");
    expect(acceptedPublicKey(honest)).not.toBeNull();
    expect(acceptedPublicKey(mixed)).toBeNull();

    // y values that are not on the curve: canonical, not small-order, refused cheaply (no subgroup check)
    const flood: Uint8Array[] = [];
    for (let y = 2n; flood.length < KEY_VERDICTS_MAX + 50; y++) {
      const b = le32(y);
      try {
        Point.fromBytes(b);
      } catch {
        flood.push(b);
      }
    }
    let most = 0;
    for (const k of flood) {
      expect(acceptedPublicKey(k)).toBeNull();
      most = Math.max(most, keyVerdictsHeld());
    }
    expect(most).toBe(KEY_VERDICTS_MAX); // full, never over
    expect(keyVerdictsHeld()).toBe(KEY_VERDICTS_MAX);

    // asking again about keys still held evicts nothing (they are answered from the cache)
    for (const k of flood.slice(-10)) expect(acceptedPublicKey(k)).toBeNull();
    expect(keyVerdictsHeld()).toBe(KEY_VERDICTS_MAX);

    // the early keys were evicted; their verdicts are computed again, the same as before
    expect(acceptedPublicKey(honest)).not.toBeNull();
    expect(acceptedPublicKey(mixed)).toBeNull();
    expect(keyVerdictsHeld()).toBe(KEY_VERDICTS_MAX);
    const sig = await web.sign(new Uint8Array(32).fill(11), new Uint8Array([1]));
    expect(await web.verify(honest, new Uint8Array([1]), sig)).toBe(true);
  });
});

/** A real WebCrypto that counts its key imports by format. */
function countingSubtle() {
  const imports = { raw: 0, pkcs8: 0 };
  const subtle = new Proxy(crypto.subtle, {
    get: (t, p) => {
      const f = (Reflect.get(t, p) as (...a: unknown[]) => unknown).bind(t);
      if (p !== "importKey") return f;
      return (...a: unknown[]) => {
        imports[a[0] as "raw" | "pkcs8"]++;
        return f(...a);
      };
    },
  });
  return { subtle, imports };
}

describe("the WebCrypto engine's CryptoKey caches", () => {
  it("a seed used again is imported once; a public key verified again is imported once", async () => {
    const { subtle, imports } = countingSubtle();
    const eng = makeWebCryptoEngine(subtle);
    const [a, b] = [seedOf(1), seedOf(2)];
    const msg = new Uint8Array([7]);
    const pubA = await eng.publicKey(a);
    const sigA = await eng.sign(a, msg);
    await eng.sign(a, new Uint8Array([8]));
    const pubB = await eng.publicKey(b);
    expect(imports.pkcs8).toBe(2);
    expect(pubA).not.toEqual(pubB);
    for (let i = 0; i < 3; i++) {
      expect(await eng.verify(pubA, msg, sigA)).toBe(true);
      expect(await eng.verify(pubB, msg, sigA)).toBe(false); // another key's CryptoKey is never reused
    }
    expect(imports.raw).toBe(2);
  });

  it("after CRYPTO_KEY_CACHE_MAX + 1 distinct seeds only the oldest is imported again", async () => {
    const { subtle, imports } = countingSubtle();
    const eng = makeWebCryptoEngine(subtle);
    for (let i = 0; i <= CRYPTO_KEY_CACHE_MAX; i++) await eng.publicKey(seedOf(i));
    expect(imports.pkcs8).toBe(CRYPTO_KEY_CACHE_MAX + 1);
    await eng.publicKey(seedOf(1)); // second oldest: still held
    await eng.publicKey(seedOf(CRYPTO_KEY_CACHE_MAX)); // newest: still held
    expect(imports.pkcs8).toBe(CRYPTO_KEY_CACHE_MAX + 1);
    await eng.publicKey(seedOf(0)); // oldest: evicted by the bound, imported again
    expect(imports.pkcs8).toBe(CRYPTO_KEY_CACHE_MAX + 2);
  });
});
