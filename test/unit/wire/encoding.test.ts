import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromB64u, fromHex, toB64u, toHex, utf8Length } from "../../../shared/bytes.js";
import { canonicalBytes, canonicalJson } from "../../../shared/canonical.js";
import { AspecError } from "../../../shared/errors.js";
import { keyFromPath } from "../../../shared/kv-key.js";

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
    // a character outside the alphabet, ASCII or not, is named as such
    for (const bad of ["AA=A", "A/AA", "AéAA", "A AA"])
      expect(() => fromB64u(bad), bad).toThrow(/invalid base64url character/);
  });
  it("hex decoding refuses an odd length and any non-hex digit; upper case is read", () => {
    for (const bad of ["a", "abc", "0g", "zz", " 00", "0x00"])
      expect(() => fromHex(bad), bad).toThrow(/invalid hex/);
    expect(fromHex("ABcd")).toEqual(new Uint8Array([0xab, 0xcd]));
    expect(fromHex("")).toEqual(new Uint8Array(0));
  });
});

describe("utf8Length", () => {
  it("is the UTF-8 length at every boundary of the encoding", () => {
    const cases: [string, number][] = [
      ["", 0],
      ["\u007f", 1],
      ["\u0080", 2],
      ["\u07ff", 2],
      ["\u0800", 3],
      ["\ud7ff", 3],
      ["\ue000", 3],
      ["\uffff", 3],
      ["\ud800\udc00", 4], // U+10000, the first pair
      ["\udbff\udfff", 4], // U+10FFFF, the last
      ["a\ud800", 4], // a lone high surrogate at the end: U+FFFD's 3 bytes
      ["\udc00", 3],
    ];
    for (const [text, n] of cases) {
      expect(utf8Length(text), JSON.stringify(text)).toBe(n);
      expect(new TextEncoder().encode(text).length, JSON.stringify(text)).toBe(n);
    }
  });
  it("agrees with TextEncoder on any Unicode text", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 40 }), (text) => {
        expect(utf8Length(text)).toBe(new TextEncoder().encode(text).length);
      }),
    );
  });
});

describe("canonical encoding refuses what it cannot encode, saying what", () => {
  it("non-finite numbers, objects other than plain ones, and non-JSON types", () => {
    const cases: [unknown, string][] = [
      [{ a: Infinity }, "canonical: non-finite number"],
      [[NaN], "canonical: non-finite number"],
      [{ d: new Date(0) }, "canonical: not a plain object"],
      [[new Map()], "canonical: not a plain object"],
      [{ f: () => 1 }, "canonical: cannot encode function"],
      [[1n], "canonical: cannot encode bigint"],
      [Symbol("s"), "canonical: cannot encode symbol"],
    ];
    for (const [v, message] of cases) expect(() => canonicalJson(v), message).toThrow(new TypeError(message));
    expect(canonicalJson(Object.assign(Object.create(null) as object, { b: 1, a: -0 }))).toBe(
      '{"a":0,"b":1}',
    );
  });
});

describe("keys in a path", () => {
  it("are percent-decoded once and checked; bad percent-encoding is invalid_key, saying so", () => {
    expect(keyFromPath("a%2Fb")).toBe("a/b");
    expect(keyFromPath("%2541")).toBe("%41"); // once, not twice
    for (const bad of ["%E0%A4%A", "%zz", "%"]) {
      let thrown: unknown;
      try {
        keyFromPath(bad);
      } catch (e) {
        thrown = e;
      }
      expect(thrown, bad).toMatchObject({
        code: "invalid_key",
        message: "the key in the path is not percent-encoded UTF-8",
      });
    }
    expect(() => keyFromPath("")).toThrow(AspecError);
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
    // a member whose value is undefined is absent, as in JSON.stringify
    expect(canonicalJson({ a: 1, b: undefined, c: { d: undefined } })).toBe('{"a":1,"c":{}}');
  });
  it("refuses what JSON cannot carry exactly", () => {
    for (const bad of [NaN, Infinity, 1n, () => 1, new Date(0), new Map()])
      expect(() => canonicalJson(bad)).toThrow();
  });
  it("separates domains", () => {
    expect(canonicalBytes("a", 1)).not.toEqual(canonicalBytes("b", 1));
  });
});
