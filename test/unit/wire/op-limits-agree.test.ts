/**
 * One validation path, one set of limits (`shared/op-limits.ts`): the schema path
 * (`parseOpReference`, the reference), its fast path (`parseOpFast`), `parseOp` and the PBFT wire
 * check (`isSignedOpShape`) give the same verdict on ops generated at and around every limit: key
 * bytes, client and signature lengths, seq and ts ranges, argument sizes and depth, type and op
 * names, extra, missing and hidden fields, `__proto__`. The fast path may defer (null) but never
 * accepts what the reference refuses, and accepts the plain ops at the limits themselves.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { utf8Length } from "../../../shared/bytes.js";
import { ACCOUNT_AMOUNT_MAX } from "../../../shared/datatypes/account.js";
import { COUNTER_STEP_MAX } from "../../../shared/datatypes/counter.js";
import { SET_ELEMENT_BYTES_MAX } from "../../../shared/datatypes/orset.js";
import { REGISTER_VALUE_BYTES_MAX } from "../../../shared/datatypes/register.js";
import { AspecError } from "../../../shared/errors.js";
import { JSON_DEPTH_MAX } from "../../../shared/json-value.js";
import {
  ARGS_DEPTH_MAX,
  CLIENT_CHARS,
  KEY_BYTES_MAX,
  OP_BYTES_MAX,
  SEQ_MAX,
  SEQ_MIN,
  SIG_CHARS,
  TS_MAX,
} from "../../../shared/op-limits.js";
import { parseOp, parseOpFast, parseOpReference } from "../../../shared/ops.js";
import { isSignedOpShape } from "../../../shared/pbft/validate.js";

interface Verdicts {
  reference: boolean;
  parseOp: boolean;
  wire: boolean;
}

function accepts(parse: (v: unknown) => unknown, input: unknown): { ok: true; op: unknown } | { ok: false } {
  try {
    return { ok: true, op: parse(input) };
  } catch (e) {
    expect(e).toBeInstanceOf(AspecError); // refused with a code, never another exception
    return { ok: false };
  }
}

/** Every path's verdict on `input`; also checks the fast path against the reference. */
function verdicts(input: unknown): Verdicts {
  const ref = accepts(parseOpReference, input);
  const full = accepts(parseOp, input);
  const fast = parseOpFast(input);
  if (fast !== null) {
    expect(ref.ok).toBe(true);
    if (ref.ok) expect(fast).toEqual(ref.op);
  }
  if (ref.ok && full.ok) expect(full.op).toEqual(ref.op);
  return { reference: ref.ok, parseOp: full.ok, wire: isSignedOpShape(input) };
}

/** All paths agree on `input`, and on its JSON round trip (what arrives from the network). */
function expectAgree(input: unknown): boolean {
  const v = verdicts(input);
  expect({ parseOp: v.parseOp, wire: v.wire }).toEqual({ parseOp: v.reference, wire: v.reference });
  let text: string | undefined;
  try {
    text = JSON.stringify(input);
  } catch {
    text = undefined; // e.g. a getter that throws
  }
  if (text !== undefined) {
    const w = verdicts(JSON.parse(text));
    expect({ parseOp: w.parseOp, wire: w.wire }).toEqual({ parseOp: w.reference, wire: w.reference });
  }
  return v.reference;
}

const B64U = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const b64uOf = (n: number, seed = 0) =>
  Array.from({ length: n }, (_, i) => B64U[(i * 7 + seed) % 64]).join("");

const valid = () => ({
  client: b64uOf(CLIENT_CHARS),
  seq: 7,
  key: "key-1",
  type: "counter",
  op: "add",
  args: { n: 3 } as Record<string, unknown>,
  ts: 1_700_000_000_000,
  sig: b64uOf(SIG_CHARS, 3),
});
type Op = ReturnType<typeof valid>;

/** Base64url-ish text around `n` characters: the right alphabet, or one character outside it. */
const b64uAround = (n: number) =>
  fc.oneof(
    fc.integer({ min: n - 3, max: n + 3 }).map((len) => b64uOf(Math.max(0, len))),
    fc
      .tuple(fc.integer({ min: 0, max: n - 1 }), fc.constantFrom("+", "/", "=", " ", "é", "\u0000", "."))
      .map(([i, c]) => b64uOf(n).slice(0, i) + c + b64uOf(n).slice(i + 1)),
    fc.constantFrom(null, 43, undefined, ["x"]),
  );

/** A string of exactly `bytes` UTF-8 bytes mixing 1- to 4-byte characters. */
const textOfBytes = (bytes: number, units: readonly string[]): string => {
  let s = "";
  let n = 0;
  for (let i = 0; n < bytes; i++) {
    const u = units[i % units.length]!;
    const next = n + utf8Length(u) <= bytes ? u : "a";
    s += next;
    n += utf8Length(next);
  }
  return s;
};
const UNITS = fc.constantFrom(
  ["a"],
  ["é"],
  ["€"],
  ["🙂"],
  ["a", "é", "€", "🙂"],
  ["🙂", "€", "é"],
  ['"', "\\"],
);

const keyArb: fc.Arbitrary<unknown> = fc.oneof(
  fc
    .tuple(fc.integer({ min: KEY_BYTES_MAX - 5, max: KEY_BYTES_MAX + 5 }), UNITS)
    .map(([bytes, units]) => textOfBytes(bytes, units)),
  fc.tuple(fc.integer({ min: 0, max: 4 }), UNITS).map(([bytes, units]) => textOfBytes(bytes, units)),
  fc.constantFrom(".", "..", "...", "a\u0000", "\u001f", "\u007f", "a\u0085b", "\u009f", "\u00a0", "\ud800"),
  fc.constantFrom("🙂".repeat(64), "🙂".repeat(65), "\ud83d", "k".repeat(1024), null, 1, undefined),
);

const intAround = (...points: number[]) =>
  fc.oneof(
    fc.constantFrom(...points.flatMap((p) => [p - 1, p, p + 1])),
    fc.constantFrom(0.5, -0, NaN, Infinity, -Infinity, 2 ** 53, 2 ** 53 + 2, "1", null, undefined, 1n),
    fc.integer(),
  );
const seqArb = intAround(SEQ_MIN, 2, SEQ_MAX, SEQ_MAX - 1);
const tsArb = intAround(0, TS_MAX, 1_700_000_000_000);

/** `depth` nested arrays around a scalar (`[[1]]` is 2 levels, json-value.ts). */
const nested = (depth: number, leaf: unknown = 1): unknown => {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
};

/** Type, op and arguments, valid or at the edge of each type's argument limits. */
const typedArb: fc.Arbitrary<Pick<Op, "type" | "op" | "args">> = fc.oneof(
  intAround(-COUNTER_STEP_MAX, 0, COUNTER_STEP_MAX).map((n) => ({ type: "counter", op: "add", args: { n } })),
  fc
    .tuple(fc.constantFrom("deposit", "withdraw"), intAround(1, ACCOUNT_AMOUNT_MAX))
    .map(([op, n]) => ({ type: "account", op, args: { n } })),
  fc
    .tuple(
      fc.constantFrom("add", "remove"),
      fc.integer({ min: SET_ELEMENT_BYTES_MAX - 3, max: SET_ELEMENT_BYTES_MAX + 3 }),
      UNITS,
    )
    .map(([op, bytes, units]) => ({ type: "set", op, args: { x: textOfBytes(bytes, units) } })),
  fc.constantFrom("", "\ud800", 1).map((x) => ({ type: "set", op: "add", args: { x } })),
  // A string's canonical size is its UTF-8 plus two quotes (escapes count more).
  fc
    .tuple(fc.integer({ min: REGISTER_VALUE_BYTES_MAX - 4, max: REGISTER_VALUE_BYTES_MAX + 2 }), UNITS)
    .map(([bytes, units]) => ({ type: "register", op: "set", args: { v: textOfBytes(bytes, units) } })),
  fc
    .integer({ min: JSON_DEPTH_MAX - 2, max: ARGS_DEPTH_MAX + 2 })
    .map((d) => ({ type: "register", op: "set", args: { v: nested(d) } })),
  fc.constantFrom(
    { type: "register", op: "set", args: { v: JSON.parse('{"__proto__":1}') } },
    { type: "register", op: "set", args: { v: { constructor: 1, toString: "x" } } },
    { type: "register", op: "set", args: { v: "x".repeat(OP_BYTES_MAX) } },
    { type: "register", op: "set", args: {} },
    { type: "counter", op: "add", args: { n: 1, m: 2 } },
    { type: "counter", op: "add", args: JSON.parse('{"n":1,"__proto__":2}') },
    { type: "counter", op: "add", args: [1] },
    { type: "counter", op: "add", args: null },
    { type: "counter", op: "add", args: Object.assign(Object.create(null), { n: 1 }) },
  ),
  // Names: of another type, inherited, prototype members, case and space variants, long ones.
  fc
    .tuple(
      fc.constantFrom(
        "counter",
        "register",
        "set",
        "account",
        "Counter",
        "counter ",
        "",
        "toString",
        "__proto__",
      ),
      fc.constantFrom(
        "add",
        "set",
        "remove",
        "deposit",
        "withdraw",
        "constructor",
        "hasOwnProperty",
        "x".repeat(65),
      ),
    )
    .map(([type, op]) => ({ type, op, args: { n: 1 } })),
  fc
    .constantFrom("x".repeat(64), "x".repeat(65), null, 1)
    .map((type) => ({ type, op: "add", args: { n: 1 } })),
) as fc.Arbitrary<Pick<Op, "type" | "op" | "args">>;

/** Changes to the object itself: a field missing, an extra one, `__proto__`, hidden or odd objects. */
type Shape = "as-is" | "missing" | "extra" | "proto-own" | "proto-json" | "hidden" | "null-proto" | "class";
const shapeArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Shape>("as-is") },
  {
    weight: 4,
    arbitrary: fc.constantFrom<Shape>(
      "missing",
      "extra",
      "proto-own",
      "proto-json",
      "hidden",
      "null-proto",
      "class",
    ),
  },
);
const FIELDS = ["client", "seq", "key", "type", "op", "args", "ts", "sig"] as const;

function reshape(op: Op, shape: Shape, field: (typeof FIELDS)[number]): unknown {
  const o: Record<string, unknown> = { ...op };
  switch (shape) {
    case "as-is":
      return o;
    case "missing":
      delete o[field];
      return o;
    case "extra":
      return { ...o, extra: 1 };
    case "proto-own":
      Object.defineProperty(o, "__proto__", { value: {}, enumerable: true });
      return o;
    case "proto-json":
      try {
        return JSON.parse(JSON.stringify(o).replace(/^\{/, '{"__proto__":{"seq":1},'));
      } catch {
        return { ...o, ["__proto__"]: 1 }; // a BigInt: no JSON text (a computed key is an own property)
      }
    case "hidden":
      Object.defineProperty(o, "extra", { value: 1, enumerable: false });
      return o;
    case "null-proto":
      return Object.assign(Object.create(null), o);
    case "class":
      return Object.assign(new (class Op {})(), o);
  }
}

const opArb = fc
  .record({
    client: fc.oneof(fc.constant(valid().client), b64uAround(CLIENT_CHARS)),
    seq: fc.oneof(fc.constant(7), seqArb),
    key: fc.oneof(fc.constant("key-1"), keyArb),
    typed: fc.oneof(fc.constant({ type: "counter", op: "add", args: { n: 3 } }), typedArb),
    ts: fc.oneof(fc.constant(1_700_000_000_000), tsArb),
    sig: fc.oneof(fc.constant(valid().sig), b64uAround(SIG_CHARS)),
    shape: shapeArb,
    field: fc.constantFrom(...FIELDS),
  })
  .map(({ typed, shape, field, ...rest }) => reshape({ ...rest, ...typed } as Op, shape, field));

describe("signed ops: one validation, one set of limits", () => {
  it("reference, fast path, parseOp and isSignedOpShape agree on ops around every limit", () => {
    let accepted = 0;
    fc.assert(
      fc.property(opArb, (op) => {
        if (expectAgree(op)) accepted++;
      }),
      { numRuns: 2_500 },
    );
    expect(accepted).toBeGreaterThan(100); // the generator reaches both sides of the limits
  });

  it("at each limit: the op just inside is accepted by every path (fast path included), just outside by none", () => {
    const at = (over: Partial<Op>) => ({ ...valid(), ...over });
    const inside: Op[] = [
      at({ key: "k".repeat(KEY_BYTES_MAX) }),
      at({ key: "🙂".repeat(KEY_BYTES_MAX / 4) }),
      at({ key: "é".repeat(KEY_BYTES_MAX / 2) }),
      at({ key: "k" }),
      at({ seq: SEQ_MIN }),
      at({ seq: SEQ_MAX }),
      at({ ts: 0 }),
      at({ ts: TS_MAX }),
      at({ args: { n: COUNTER_STEP_MAX } }),
      at({ type: "set", op: "add", args: { x: "x".repeat(SET_ELEMENT_BYTES_MAX) } }),
      at({ type: "register", op: "set", args: { v: "x".repeat(REGISTER_VALUE_BYTES_MAX - 2) } }),
      at({ type: "register", op: "set", args: { v: nested(JSON_DEPTH_MAX) } }),
    ];
    const outside: Op[] = [
      at({ key: "k".repeat(KEY_BYTES_MAX + 1) }),
      at({ key: "🙂".repeat(KEY_BYTES_MAX / 4) + "k" }),
      at({ key: "" }),
      at({ client: b64uOf(CLIENT_CHARS - 1) }),
      at({ client: b64uOf(CLIENT_CHARS + 1) }),
      at({ client: b64uOf(CLIENT_CHARS - 1) + "=" }),
      at({ sig: b64uOf(SIG_CHARS - 1) }),
      at({ sig: b64uOf(SIG_CHARS + 1) }),
      at({ seq: SEQ_MIN - 1 }),
      at({ seq: SEQ_MAX + 1 }),
      at({ ts: -1 }),
      at({ ts: TS_MAX + 2 }),
      at({ args: { n: COUNTER_STEP_MAX + 1 } }),
      at({ type: "set", op: "add", args: { x: "x".repeat(SET_ELEMENT_BYTES_MAX + 1) } }),
      at({ type: "register", op: "set", args: { v: "x".repeat(REGISTER_VALUE_BYTES_MAX - 1) } }),
      at({ type: "register", op: "set", args: { v: nested(JSON_DEPTH_MAX + 1) } }),
      at({ type: "counter", op: "set" }),
      at({ type: "toString" }),
      at({ op: "constructor" }),
    ];
    for (const op of inside) {
      // The fast path defers ops it cannot show small without encoding them (a 4 KB value).
      const large = op.type === "register" && typeof op.args.v === "string";
      expect(parseOpFast(op) === null, JSON.stringify(op).slice(0, 80)).toBe(large);
      expect(verdicts(op)).toEqual({ reference: true, parseOp: true, wire: true });
    }
    for (const op of outside)
      expect(verdicts(op), JSON.stringify({ ...op, client: 0, sig: 0 }).slice(0, 120)).toEqual({
        reference: false,
        parseOp: false,
        wire: false,
      });
    const extra = { ...valid(), extra: 1 };
    const proto = JSON.parse(JSON.stringify(valid()).replace(/^\{/, '{"__proto__":{},'));
    for (const op of [extra, proto, { ...valid(), seq: undefined }])
      expect(verdicts(op)).toEqual({ reference: false, parseOp: false, wire: false });
  });

  it("a field that only stringifies to a valid name (['add'], ['counter']) is refused by every path", () => {
    for (const over of [
      { op: ["add"] },
      { type: ["counter"] },
      { client: [valid().client] },
      { sig: [valid().sig] },
    ])
      expect(verdicts({ ...valid(), ...over }), JSON.stringify(over)).toEqual({
        reference: false,
        parseOp: false,
        wire: false,
      });
  });

  it("an op whose field getter throws is refused with a code, by every path, never a crash", () => {
    const o = valid() as Record<string, unknown>;
    Object.defineProperty(o, "args", {
      enumerable: true,
      get: () => {
        throw new Error("boom");
      },
    });
    expect(parseOpFast(o)).toBeNull();
    expect(verdicts(o)).toEqual({ reference: false, parseOp: false, wire: false });
  });
});
