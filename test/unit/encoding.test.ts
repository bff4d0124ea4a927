import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromB64u, fromHex, toB64u, toHex } from "../../shared/bytes.js";
import { canonicalBytes, canonicalJson } from "../../shared/canonical.js";

describe("bytes", () => {
  it("base64url and hex round-trip any bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
        expect(fromB64u(toB64u(b))).toEqual(b);
        expect(fromHex(toHex(b))).toEqual(b);
        expect(toB64u(b)).toBe(Buffer.from(b).toString("base64url"));
      }),
    );
  });
  it("base64url decoding is strict", () => {
    expect(() => fromB64u("AA==")).toThrow();
    expect(() => fromB64u("A+A")).toThrow();
    expect(() => fromB64u("AB")).toThrow(/non-canonical/); // trailing bits set: two spellings of one byte
    expect(() => fromB64u("A")).toThrow();
  });
});

describe("canonical encoding", () => {
  it("is independent of key order and equals JSON for plain values", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const plain = JSON.parse(JSON.stringify(v));
        const c = canonicalJson(plain);
        expect(JSON.parse(c)).toEqual(plain);
        const reordered = JSON.parse(
          JSON.stringify(plain, (_k, x) =>
            x && typeof x === "object" && !Array.isArray(x)
              ? Object.fromEntries(Object.entries(x).reverse())
              : x,
          ),
        );
        expect(canonicalJson(reordered)).toBe(c);
      }),
    );
  });
  it("matches RFC 8785 on its basics", () => {
    expect(canonicalJson({ b: 1, a: [true, null, "x"], c: { z: 1e21, y: 0.1 } })).toBe(
      '{"a":[true,null,"x"],"b":1,"c":{"y":0.1,"z":1e+21}}',
    );
    expect(canonicalJson(-0)).toBe("0");
  });
  it("refuses what JSON cannot carry exactly", () => {
    for (const bad of [NaN, Infinity, 1n, () => 1, new Date(0), new Map()])
      expect(() => canonicalJson(bad)).toThrow();
  });
  it("separates domains", () => {
    expect(canonicalBytes("a", 1)).not.toEqual(canonicalBytes("b", 1));
  });
});
