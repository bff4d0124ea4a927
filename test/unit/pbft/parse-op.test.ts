/**
 * `parseOp`'s fast path against the schema path it stands in for (`parseOpReference`): the same op
 * out, or the same error (code and message), for valid ops and for every kind of damage to one.
 * Every node parses every op, which is why the fast path exists; this is why it may.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AspecError } from "../../../shared/errors.js";
import { OP_BYTES_MAX, parseOp, parseOpReference } from "../../../shared/ops.js";
import { standInSignOp } from "../../../shared/pbft/signature-scheme.js";

type Outcome = { ok: unknown; keys: string[] } | { code: string; message: string } | { thrown: string };

function outcome(parse: (v: unknown) => unknown, input: unknown): Outcome {
  try {
    const v = parse(input);
    return { ok: v, keys: Object.keys(v as object) };
  } catch (e) {
    if (e instanceof AspecError) return { code: e.code, message: e.message };
    return { thrown: String(e) };
  }
}

const expectSame = (input: unknown) =>
  expect(outcome(parseOp, input)).toEqual(outcome(parseOpReference, input));

const base = () =>
  standInSignOp({
    client: "A".repeat(43),
    seq: 7,
    key: "key-1",
    type: "counter",
    op: "add",
    args: { n: 3 },
    ts: 1_700_000_000_000,
  });

const valueArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 100 }),
  fc.string({ unit: "binary", maxLength: 100 }),
  fc.integer(),
  fc.double(),
  fc.constantFrom(
    0,
    -0,
    1,
    -1,
    1.5,
    2 ** 53,
    2 ** 53 - 1,
    NaN,
    Infinity,
    null,
    undefined,
    true,
    "",
    "é".repeat(90),
  ),
  fc.constantFrom("counter", "register", "set", "account", "add", "set", "deposit", "toString", "__proto__"),
  fc.string({ minLength: 86, maxLength: 86 }),
  fc.stringMatching(/^[A-Za-z0-9_-]{43}$/),
  fc.stringMatching(/^[A-Za-z0-9_-]{86}$/),
  fc.jsonValue(),
  fc.constant({ n: 1, m: 2 }),
  fc.constant(Object.create(null)),
  fc.constant([1, 2]),
);
const fieldArb = fc.constantFrom(
  "client",
  "seq",
  "key",
  "type",
  "op",
  "args",
  "ts",
  "sig",
  "extra",
  "__proto__",
);

describe("parseOp fast path", () => {
  it("returns the reference result for valid ops of every type", () => {
    const ops = [
      base(),
      { ...base(), type: "register", op: "set", args: { v: { a: [1, "x", null] } } },
      { ...base(), type: "set", op: "add", args: { x: "e" } },
      { ...base(), type: "account", op: "withdraw", args: { n: 5 } },
      { ...base(), key: "ключ-🙂".repeat(5) },
      JSON.parse(JSON.stringify(base())),
    ];
    for (const op of ops) {
      expectSame(op);
    }
  });

  it("gives the reference result or error for any one field changed, removed or added", () => {
    fc.assert(
      fc.property(fieldArb, fc.option(valueArb, { nil: "__delete__" as const }), (field, value) => {
        const op: Record<string, unknown> = { ...base() };
        if (value === "__delete__") delete op[field];
        else if (field === "__proto__") Object.defineProperty(op, field, { value, enumerable: true });
        else op[field] = value;
        expectSame(op);
        expectSame({ ...base(), args: { n: value } });
        expectSame({ ...base(), type: "register", op: "set", args: { v: value } });
      }),
      { numRuns: 2_000 },
    );
  });

  it("agrees at the size and key-length limits and on odd objects", () => {
    for (let n = 0; n <= 300; n += 1) expectSame({ ...base(), key: "é".repeat(n) });
    for (let n = 80; n <= 260; n += 1) expectSame({ ...base(), key: "k".repeat(n) });
    for (const len of [6_000, 7_800, 7_900, 8_000, 8_100, OP_BYTES_MAX]) {
      expectSame({ ...base(), type: "register", op: "set", args: { v: "x".repeat(len) } });
      expectSame({ ...base(), type: "register", op: "set", args: { v: "\u0001".repeat(len / 6) } });
    }
    const hidden = base();
    Object.defineProperty(hidden, "extra", { value: 1, enumerable: false });
    expectSame(hidden);
    const hiddenField = { ...base() } as Record<string, unknown>;
    const seq = hiddenField.seq;
    delete hiddenField.seq;
    Object.defineProperty(hiddenField, "seq", { value: seq, enumerable: false });
    expectSame(hiddenField);
    const getter = { ...base() } as Record<string, unknown>;
    Object.defineProperty(getter, "key", { get: () => "k-from-getter", enumerable: true });
    expectSame(getter);
    const hiddenArg = { ...base(), args: { n: 1 } };
    Object.defineProperty(hiddenArg.args, "m", { value: 2, enumerable: false });
    expectSame(hiddenArg);
    expectSame({ ...base(), args: { n: 1, [Symbol("s")]: 2 } });
    expectSame(Object.assign(Object.create(null), base()));
    expectSame(Object.assign(new (class Op {})(), base()));
    expectSame({ ...base(), args: Object.assign(Object.create(null), { n: 1 }) });
    expectSame({ ...base(), args: { n: 1, constructor: 2 } });
    expectSame(null);
    expectSame("op");
    expectSame([base()]);
  });
});
