/** The strict body parser: JSON.parse's result on duplicate-free text, refusals otherwise. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { StrictJsonError, parseStrictJson } from "../../../shared/strict-json.js";

const DEEP = 1000;

function kindOf(f: () => unknown): string | null {
  try {
    f();
    return null;
  } catch (e) {
    if (e instanceof StrictJsonError) return e.kind;
    throw e; // anything else is a bug in the parser
  }
}

/** JSON values without `__proto__` members (JSON.parse keeps them; the strict parser refuses them). */
const jsonValue = fc.jsonValue().filter((v) => !JSON.stringify(v).includes('"__proto__"'));

describe("parseStrictJson agrees with JSON.parse on duplicate-free input", () => {
  it("any JSON value, compact or indented", () => {
    fc.assert(
      fc.property(jsonValue, fc.constantFrom(undefined, 1, "\t", " \r\n "), (v, indent) => {
        const text = JSON.stringify(v, null, indent);
        expect(parseStrictJson(text, DEEP)).toEqual(JSON.parse(text));
      }),
      { numRuns: 500 },
    );
  });

  it("any string over JSON's alphabet: the same verdict, the same value when accepted", () => {
    const chars = fc.constantFrom(...'{}[]:,"\\ \n\t0123456789-+.eEtrufalsn\u0001uéa'.split(""));
    fc.assert(
      fc.property(
        fc.array(chars, { maxLength: 24 }).map((a) => a.join("")),
        (text) => {
          let expected: unknown;
          let ok = true;
          try {
            expected = JSON.parse(text);
          } catch {
            ok = false;
          }
          const kind = kindOf(() => parseStrictJson(text, DEEP));
          if (!ok) expect(kind).not.toBeNull();
          else if (kind === null) expect(parseStrictJson(text, DEEP)).toEqual(expected);
          else expect(kind).toBe("duplicate"); // the only way valid JSON is refused here
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("mutated valid JSON (a character dropped, doubled or replaced): the same verdict", () => {
    fc.assert(
      fc.property(
        jsonValue,
        fc.nat(),
        fc.constantFrom("drop", "double", "replace"),
        fc.string({ minLength: 1, maxLength: 1 }),
        (v, at, how, ch) => {
          const s = JSON.stringify(v);
          const k = at % (s.length || 1);
          const text =
            how === "drop"
              ? s.slice(0, k) + s.slice(k + 1)
              : how === "double"
                ? s.slice(0, k + 1) + s.slice(k)
                : s.slice(0, k) + ch + s.slice(k + 1);
          let ok = true;
          try {
            JSON.parse(text);
          } catch {
            ok = false;
          }
          const kind = kindOf(() => parseStrictJson(text, DEEP));
          if (!ok) expect(kind).not.toBeNull();
          else expect([null, "duplicate", "reserved_name"]).toContain(kind);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe("parseStrictJson refuses what JSON.parse resolves silently", () => {
  it("a duplicate member anywhere, however it is spelled", () => {
    for (const text of [
      '{"a":1,"a":2}',
      '{"a":1,"b":{"c":1,"c":1}}',
      '[{"x":[{"k":0,"k":0}]}]',
      '{"a":1,"\\u0061":2}', // the same name, escaped
      '{ "seq" : 1 , "seq" : 2 }',
    ])
      expect(
        kindOf(() => parseStrictJson(text, DEEP)),
        text,
      ).toBe("duplicate");
  });

  it("any object with a duplicated member, generated", () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string().filter((k) => k !== "__proto__"),
          jsonValue,
          { minKeys: 1 },
        ),
        fc.nat(),
        (obj, at) => {
          const keys = Object.keys(obj);
          const dup = keys[at % keys.length]!;
          const text = JSON.stringify(obj).slice(0, -1) + "," + JSON.stringify(dup) + ":null}";
          expect(kindOf(() => parseStrictJson(text, DEEP))).toBe("duplicate");
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a member named __proto__ (JSON.parse makes it an own property; schemas drop it)", () => {
    expect(kindOf(() => parseStrictJson('{"n":1,"__proto__":{"x":1}}', DEEP))).toBe("reserved_name");
    expect(kindOf(() => parseStrictJson('[{"\\u005f_proto__":1}]', DEEP))).toBe("reserved_name");
    // as a value it is just a string
    expect(parseStrictJson('{"x":"__proto__"}', DEEP)).toEqual({ x: "__proto__" });
    const o = parseStrictJson('{"constructor":1,"toString":2}', DEEP) as Record<string, unknown>;
    expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
    expect(Object.keys(o)).toEqual(["constructor", "toString"]);
  });

  it("depth: exactly the bound is fine, one more is too_deep, 100k levels do not overflow", () => {
    const nest = (d: number) => "[".repeat(d) + "]".repeat(d);
    expect(parseStrictJson(nest(34), 34)).toBeDefined();
    expect(kindOf(() => parseStrictJson(nest(35), 34))).toBe("too_deep");
    expect(kindOf(() => parseStrictJson('{"a":'.repeat(35) + "1" + "}".repeat(35), 34))).toBe("too_deep");
    expect(kindOf(() => parseStrictJson(nest(100_000), 34))).toBe("too_deep");
    expect(kindOf(() => parseStrictJson("[".repeat(100_000), 1e9))).toBe("syntax");
  });

  it("what JSON.parse refuses: trailing text, bare values, bad escapes, raw control characters", () => {
    for (const text of [
      "",
      " ",
      "{} x",
      "{,}",
      "[1,]",
      '{"a":1,}',
      "01",
      "1.",
      "+1",
      '"\\x"',
      '"a\u0001"',
      "nul",
      "[",
      '{"a"',
    ])
      expect(
        kindOf(() => parseStrictJson(text, DEEP)),
        JSON.stringify(text),
      ).toBe("syntax");
  });
});

describe("parseStrictJson: a refusal says what is wrong and where", () => {
  // Kind, message and UTF-16 offset reach the client in the error body (workers/json-body.ts:
  // `the body is not accepted JSON: <message> (at <offset>)`), so a caller can find the fault.
  const CASES: [string, string, string, number][] = [
    ['"abc', "syntax", "unterminated string", 0],
    ['["a\u0001"]', "syntax", "control character in a string", 3],
    ['[1, "\\q"]', "syntax", "invalid escape in a string", 4],
    ["{1:2}", "syntax", "expected a member name", 1],
    ['{"__proto__":1}', "reserved_name", "a member named '__proto__'", 1],
    ['{"a":1, "a":2}', "duplicate", "member 'a' appears twice in one object", 8],
    ['{"a" 1}', "syntax", "expected ':'", 5],
    ["[[[]]]", "too_deep", "nested deeper than 2 levels", 2],
    ["[1,", "syntax", "unexpected end of input", 3],
    ["[1,?]", "syntax", "unexpected character", 3],
    ["[] []", "syntax", "unexpected text after the value", 3],
    ["[1 2]", "syntax", "expected ',' or ']'", 3],
    ['{"a":1 "b":2}', "syntax", "expected ',' or '}'", 7],
  ];
  for (const [text, kind, message, at] of CASES)
    it(`${JSON.stringify(text)}: ${kind}, "${message}" at ${at}`, () => {
      let thrown: unknown;
      try {
        parseStrictJson(text, 2);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(StrictJsonError);
      expect(thrown).toMatchObject({ name: "StrictJsonError", kind, message, at });
    });
});
