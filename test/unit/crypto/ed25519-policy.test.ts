/**
 * The one Ed25519 verification policy, on both engines, against published edge-case vectors:
 * - the 12 vectors of "Taming the many EdDSAs" (Chalkias, Garillot, Nikolaenko, SSR 2020,
 *   eprint 2020/1244), as published in github.com/novifinancial/ed25519-speccheck (cases.json);
 * - RFC 8032 §7.1 TEST 1 as the control that honest signatures still verify;
 * - the small-order / non-canonical encodings listed by ZIP 215 and the speccheck README.
 * Every one of the 12 is refused by the policy (small-order or mixed-order A, small-order R,
 * S ≥ L, non-canonical R or A), and both engines must agree on every vector.
 */
import * as noble from "@noble/ed25519";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromHex, toB64u } from "../../../shared/bytes.js";
import { COFACTORED_ONLY, makeWebCryptoEngine, nobleEngine } from "../../../shared/crypto/ed25519.js";
import {
  acceptedPublicKey,
  bytesToBigIntLE,
  ED25519_L,
  isAcceptableSignatureShape,
  isCanonicalPointEncoding,
} from "../../../shared/crypto/ed25519-policy.js";
import { verifyCanonical } from "../../../shared/crypto/keys.js";
import { ed25519Scheme } from "../../../shared/pbft/signature-scheme.js";
import { BASE, P, le32, sig, withSign } from "../../support/ed25519-bytes.js";

const web = makeWebCryptoEngine(crypto.subtle);
const ENGINES = [web, nobleEngine];

/** [what it exercises, message, public key, signature] — hex verbatim from speccheck cases. */
const TAMING: [string, string, string, string][] = [
  [
    "0: S = 0, small-order A, small-order R",
    "8c93255d71dcab10e8f379c26200f3c7bd5f09d9bc3068d3ef4edeb4853022b6",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a0000000000000000000000000000000000000000000000000000000000000000",
  ],
  [
    "1: 0 < S < L, small-order A, mixed-order R",
    "9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
    "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43a5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04",
  ],
  [
    "2: 0 < S < L, mixed-order A, small-order R",
    "aebf3f2601a0c8c5d39cc7d8911642f740b78168218da8471772b35f9d35b9ab",
    "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa8c4bd45aecaca5b24fb97bc10ac27ac8751a7dfe1baff8b953ec9f5833ca260e",
  ],
  [
    "3: mixed-order A and R, passes both equations",
    "9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79",
    "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d",
    "9046a64750444938de19f227bb80485e92b83fdb4b6506c160484c016cc1852f87909e14428a7a1d62e9f22f3d3ad7802db02eb2e688b6c52fcd6648a98bd009",
  ],
  [
    "4: mixed-order A and R, cofactored only",
    "e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c",
    "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d",
    "160a1cb0dc9c0258cd0a7d23e94d8fa878bcb1925f2c64246b2dee1796bed5125ec6bc982a269b723e0668e540911a9a6a58921d6925e434ab10aa7940551a09",
  ],
  [
    "5: mixed-order A, order-L R, pre-reduced scalar",
    "e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c",
    "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d",
    "21122a84e0b5fca4052f5b1235c80a537878b38f3142356b2c2384ebad4668b7e40bc836dac0f71076f9abe3a53f9c03c1ceeeddb658d0030494ace586687405",
  ],
  [
    "6: S > L",
    "85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40",
    "442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623",
    "e96f66be976d82e60150baecff9906684aebb1ef181f67a7189ac78ea23b6c0e547f7690a0e2ddcd04d87dbc3490dc19b3b3052f7ff0538cb68afb369ba3a514",
  ],
  [
    "7: S >> L",
    "85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40",
    "442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623",
    "8ce5b96c8f26d0ab6c47958c9e68b937104cd36e13c33566acd2fe8d38aa19427e71f98a473474f2f13f06f97c20d58cc3f54b8bd0d272f42b695dd7e89a8c22",
  ],
  [
    "8: non-canonical R, reduced for hash",
    "9bedc267423725d473888631ebf45988bad3db83851ee85c85e241a07d148b41",
    "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff03be9678ac102edcd92b0210bb34d7428d12ffc5df5f37e359941266a4e35f0f",
  ],
  [
    "9: non-canonical R, not reduced for hash",
    "9bedc267423725d473888631ebf45988bad3db83851ee85c85e241a07d148b41",
    "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffca8c5b64cd208982aa38d4936621a4775aa233aa0505711d8fdcfdaa943d4908",
  ],
  [
    "10: non-canonical A, reduced for hash",
    "e96b7021eb39c1a163b6da4e3093dcd3f21387da4cc4572be588fafae23c155b",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "a9d55260f765261eb9b84e106f665e00b867287a761990d7135963ee0a7d59dca5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04",
  ],
  [
    "11: non-canonical A, not reduced for hash",
    "39a591f5321bbe07fd5a23dc2f39d025d74526615746727ceefd6e82ae65c06f",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "a9d55260f765261eb9b84e106f665e00b867287a761990d7135963ee0a7d59dca5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04",
  ],
];

/** RFC 8032 §7.1, TEST 1 (empty message). */
const RFC8032_TEST1 = {
  pub: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
  sig: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
};

/** Small-order points and non-canonical encodings (ZIP 215 lists the non-canonical ones). */
const WEAK_KEYS: [string, string][] = [
  ["identity", "01" + "00".repeat(31)],
  ["identity, sign bit set (x = −0)", "01" + "00".repeat(30) + "80"],
  ["identity, y = p + 1", "ee" + "ff".repeat(30) + "7f"],
  ["order 2", "ec" + "ff".repeat(30) + "7f"],
  ["order 2, sign bit set", "ec" + "ff".repeat(31)],
  ["order 4", "00".repeat(32)],
  ["order 4, negative", "00".repeat(31) + "80"],
  ["order 4, y = p", "ed" + "ff".repeat(30) + "7f"],
  ["order 8", "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"],
  ["order 8, negative", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"],
  ["y = 2^255 − 1", "ff".repeat(32)],
];

const verdicts = (pub: Uint8Array, msg: Uint8Array, sig: Uint8Array) =>
  Promise.all(ENGINES.map((e) => e.verify(pub, msg, sig)));

describe("Ed25519 policy: the same verdict on both engines", () => {
  it("RFC 8032 TEST 1 verifies on both (honest signatures still pass)", async () => {
    expect(await verdicts(fromHex(RFC8032_TEST1.pub), new Uint8Array(0), fromHex(RFC8032_TEST1.sig))).toEqual(
      [true, true],
    );
  });

  for (const [what, msg, pub, sig] of TAMING) {
    it(`"Taming the many EdDSAs" vector ${what}: refused by both`, async () => {
      expect(await verdicts(fromHex(pub), fromHex(msg), fromHex(sig))).toEqual([false, false]);
    });
  }

  it("noble's own verify accepts some of those vectors: why it is not used as is", async () => {
    const [, msg, pub, sig] = TAMING[0]!;
    expect(await noble.verifyAsync(fromHex(sig), fromHex(msg), fromHex(pub))).toBe(true);
  });

  it("a mixed-order R under an honest key (cofactored-only signature) is refused by both", async () => {
    const { pub, msg, sig } = COFACTORED_ONLY;
    expect(await noble.verifyAsync(sig, msg, pub, { zip215: false })).toBe(true); // cofactored
    expect(acceptedPublicKey(pub)).not.toBeNull();
    expect(await verdicts(pub, msg, sig)).toEqual([false, false]);
  });

  for (const [what, hex] of WEAK_KEYS) {
    it(`weak key (${what}) with the identity-point forgery R = identity, S = 0: refused by both`, async () => {
      const pub = fromHex(hex);
      const forged = fromHex("01" + "00".repeat(63));
      expect(acceptedPublicKey(pub)).toBeNull();
      for (const msg of [new Uint8Array(0), new Uint8Array([1, 2, 3])])
        expect(await verdicts(pub, msg, forged)).toEqual([false, false]);
    });
  }

  it("the identity forgery against the canonical verifiers: op signatures, PBFT node keys", async () => {
    const identity = toB64u(fromHex("01" + "00".repeat(31)));
    const trivial = toB64u(fromHex("01" + "00".repeat(63)));
    expect(await verifyCanonical(identity, "aspec/op/v1", { any: "thing" }, trivial)).toBe(false);
    const cluster = { nodes: [{ publicKey: identity }] } as unknown as Parameters<typeof ed25519Scheme>[0];
    const scheme = ed25519Scheme(cluster, toB64u(new Uint8Array(32)));
    expect(await scheme.verify(0, new Uint8Array([9]), trivial)).toBe(false);
  });

  it("S + L (a malleated honest signature) is refused by both; S itself passes", async () => {
    const seed = new Uint8Array(32).fill(3);
    const pub = await web.publicKey(seed);
    const msg = new Uint8Array([4, 5, 6]);
    const sig = await web.sign(seed, msg);
    const s = bytesToBigIntLE(sig.subarray(32)) + ED25519_L;
    const malleated = sig.slice();
    for (let i = 0, n = s; i < 32; i++, n >>= 8n) malleated[32 + i] = Number(n & 0xffn);
    expect(await verdicts(pub, msg, sig)).toEqual([true, true]);
    expect(await verdicts(pub, msg, malleated)).toEqual([false, false]);
  });

  it("S = 0 under an honest key with a prime-order R passes every shape check and is false on both, not a throw", async () => {
    const pub = await web.publicKey(new Uint8Array(32).fill(8));
    const base = fromHex("5866666666666666666666666666666666666666666666666666666666666666");
    const zeroS = new Uint8Array(64);
    zeroS.set(base, 0);
    for (const msg of [new Uint8Array(0), new Uint8Array([1, 2, 3])])
      expect(await verdicts(pub, msg, zeroS)).toEqual([false, false]);
  });

  it("a non-canonical R (sign bit flipped on R's x = 0 … or y + p) never verifies", async () => {
    expect(isCanonicalPointEncoding(fromHex("01" + "00".repeat(30) + "80"))).toBe(false);
    expect(isCanonicalPointEncoding(fromHex("ed" + "ff".repeat(30) + "7f"))).toBe(false);
    expect(isCanonicalPointEncoding(fromHex(RFC8032_TEST1.pub))).toBe(true);
  });

  it("random keys, messages and corrupted signatures: both engines agree on every one", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 64 }),
        fc.nat(511),
        fc.boolean(),
        async (seed, msg, bit, corrupt) => {
          const pub = await web.publicKey(seed);
          const sig = await web.sign(seed, msg);
          if (corrupt) sig[bit >> 3]! ^= 1 << (bit & 7);
          const [a, b] = await verdicts(pub, msg, sig);
          expect(a).toBe(b);
          if (!corrupt) expect(a).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("random 32-byte strings as keys: both engines agree (almost all are refused)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        async (pub, sig) => {
          const [a, b] = await verdicts(pub, new Uint8Array([1]), sig);
          expect(a).toBe(b);
        },
      ),
      { numRuns: 40 },
    );
  });
});

// The byte-level checks each on its own: the vectors above reach them only through whole signatures,
// where an earlier check often refuses first.

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
