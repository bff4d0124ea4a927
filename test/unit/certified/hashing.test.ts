// hashing.ts promises a non-inclusion verifier relies on: samePrefix says whether two key hashes
// share their first `depth` bits (so a forged "other leaf" off this key's path is refused), and
// digestBytes refuses anything that is not 64 lowercase hex digits with a message saying why.
import { describe, expect, it } from "vitest";
import { digestBytes, samePrefix } from "../../../shared/certified/hashing.js";

const bytes = (...b: number[]) => Uint8Array.from([...b, ...new Array(32 - b.length).fill(0)]);

describe("samePrefix: agreement on exactly the first `depth` bits", () => {
  it("whole bytes: equal prefixes agree, a difference in an earlier byte disagrees", () => {
    const a = bytes(0xab, 0xcd, 0x00);
    expect(samePrefix(a, bytes(0xab, 0xcd, 0xff), 16)).toBe(true);
    expect(samePrefix(a, bytes(0xab, 0xcc, 0x00), 16)).toBe(false);
    expect(samePrefix(a, bytes(0xaa, 0xcd, 0x00), 16)).toBe(false);
    expect(samePrefix(a, bytes(0x00, 0xcd, 0x00), 8)).toBe(false);
  });

  it("depth 0: any two keys agree (the root is on every path)", () => {
    expect(samePrefix(bytes(0x00), bytes(0xff), 0)).toBe(true);
  });

  it("a partial byte: only its top `rest` bits count", () => {
    // 0b1010_0000 vs 0b1011_0000: agree on 3 bits, differ at bit 3.
    const a = bytes(0xa0);
    const b = bytes(0xb0);
    expect(samePrefix(a, b, 3)).toBe(true);
    expect(samePrefix(a, b, 4)).toBe(false);
    expect(samePrefix(a, b, 8)).toBe(false);
    // 0b1000_0000 vs 0b0000_0000 differ in the very first bit.
    expect(samePrefix(bytes(0x80), bytes(0x00), 1)).toBe(false);
    // whole byte equal, then a partial byte that differs below the mask only.
    expect(samePrefix(bytes(0x11, 0xf0), bytes(0x11, 0xff), 12)).toBe(true);
    expect(samePrefix(bytes(0x11, 0xf0), bytes(0x11, 0x70), 12)).toBe(false);
    // a difference in a whole byte is not hidden by an agreeing partial byte.
    expect(samePrefix(bytes(0x11, 0xf0), bytes(0x12, 0xf0), 12)).toBe(false);
  });
});

describe("digestBytes: a digest or a clear refusal", () => {
  it("decodes 64 hex digits to their 32 bytes", () => {
    expect([...digestBytes("0f".repeat(32))]).toEqual(new Array(32).fill(15));
  });
  it("refuses a wrong length and a non-hex digit, saying which", () => {
    expect(() => digestBytes("ab")).toThrow("digest: not 64 hex characters");
    expect(() => digestBytes("g".repeat(64))).toThrow("invalid hex digit");
    expect(() => digestBytes("A".repeat(64))).toThrow("invalid hex digit");
  });
});
