// `useNativeSha256` requires a byte-identical SHA-256: node:crypto's one-shot hash (what the servers
// install) against the portable @noble/hashes default, on random inputs and the block-boundary sizes.
import * as nodeCrypto from "node:crypto";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { toHex, utf8 } from "../../../shared/bytes.js";
import { portableSha256, sha256, sha256Implementation, useNativeSha256 } from "../../../shared/hash.js";

const native = (d: Uint8Array) => {
  const b = nodeCrypto.hash("sha256", d, "buffer");
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
};

describe("native and portable SHA-256 are byte-identical", () => {
  afterEach(() => useNativeSha256(portableSha256));

  it("on random inputs up to 4 KiB", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (d) => {
        expect(toHex(portableSha256(d))).toBe(toHex(native(d)));
      }),
      { numRuns: 500 },
    );
  });

  it("at every length around the 64-byte block and its padding boundary", () => {
    for (let n = 0; n <= 130; n++) {
      const d = new Uint8Array(n).map((_, i) => (i * 31 + n) & 0xff);
      expect(toHex(portableSha256(d))).toBe(toHex(native(d)));
    }
    expect(toHex(portableSha256(utf8("abc")))).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });

  it("sha256 uses what was installed", () => {
    const d = utf8("aspec");
    let calls = 0;
    useNativeSha256((x) => (calls++, native(x)));
    expect(toHex(sha256(d))).toBe(toHex(portableSha256(d)));
    expect(calls).toBe(1);
  });

  it("says which SHA-256 is installed, and the portable one again once restored", () => {
    expect(sha256Implementation()).toBe("portable");
    useNativeSha256(native, "node:crypto");
    expect(sha256Implementation()).toBe("node:crypto");
    useNativeSha256(portableSha256);
    expect(sha256Implementation()).toBe("portable");
  });
});
