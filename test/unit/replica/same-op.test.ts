/**
 * What the replicas and the PBFT boundary trust: `sameOp` (a signature checked once is
 * reused only for the very same op, so a changed op is never taken for a signed one) and
 * `effectLoses` (a register write older than the key's current one changes nothing), and the
 * stamp a register write carries for the receiver to bound.
 */
import { describe, expect, it } from "vitest";
import { applyEffect, effectLoses, effectStamp } from "../../../shared/materialize.js";
import { sameOp, type SignedOp } from "../../../shared/ops.js";

const base: SignedOp = {
  client: "A".repeat(43),
  seq: 7,
  key: "k",
  type: "register",
  op: "set",
  args: { v: { deep: [1, 2] }, n: 1 },
  ts: 1_800_000_000_000,
  sig: "S".repeat(86),
};

describe("sameOp", () => {
  it("holds for the same op, and for an equal copy (nested arguments compared as JSON)", () => {
    expect(sameOp(base, base)).toBe(true);
    expect(sameOp(base, JSON.parse(JSON.stringify(base)) as SignedOp)).toBe(true);
    expect(sameOp({ ...base, args: { n: 1, m: "x" } }, { ...base, args: { n: 1, m: "x" } })).toBe(true);
    expect(sameOp({ ...base, args: {} }, { ...base, args: {} })).toBe(true);
  });

  it("fails on a change to any field", () => {
    const changes: Partial<SignedOp>[] = [
      { client: "B".repeat(43) },
      { seq: 8 },
      { key: "k2" },
      { type: "counter" },
      { op: "add" },
      { ts: base.ts + 1 },
      { sig: "T".repeat(86) },
    ];
    for (const c of changes) {
      expect(sameOp(base, { ...base, ...c }), JSON.stringify(c)).toBe(false);
      expect(sameOp({ ...base, ...c }, base), JSON.stringify(c)).toBe(false);
    }
  });

  it("fails on any change to the arguments: a value, a nested value, one more or one fewer, another key order", () => {
    const args: SignedOp["args"][] = [
      { v: { deep: [1, 3] }, n: 1 },
      { v: { deep: [1, 2] }, n: 2 },
      { v: { deep: [1, 2] } },
      { v: { deep: [1, 2] }, n: 1, extra: true },
      { n: 1, v: { deep: [1, 2] } },
      { v: { deep: [1, 2] }, n: "1" },
      { v: { deep: [1, 2] }, n: { x: 1 } },
      { v: { deep: [1, 2] }, m: 1 },
    ];
    for (const a of args) {
      expect(sameOp(base, { ...base, args: a }), JSON.stringify(a)).toBe(false);
      expect(sameOp({ ...base, args: a }, base), JSON.stringify(a)).toBe(false);
    }
    // scalar arguments only: one argument more or fewer, or the same ones in another order
    const scalar = { ...base, args: { n: 1, m: "x" } };
    const variants: SignedOp["args"][] = [{ n: 1 }, { n: 1, m: "x", k: true }, { m: "x", n: 1 }];
    for (const args of variants) {
      expect(sameOp(scalar, { ...scalar, args }), JSON.stringify(args)).toBe(false);
      expect(sameOp({ ...scalar, args }, scalar), JSON.stringify(args)).toBe(false);
    }
    // scalars first, then an object that differs
    const flat = { ...base, args: { a: 1, b: { x: 1 } } };
    expect(sameOp(flat, { ...flat, args: { a: 1, b: { x: 2 } } })).toBe(false);
    expect(sameOp(flat, { ...flat, args: { a: 2, b: { x: 1 } } })).toBe(false);
    expect(sameOp({ ...base, args: { a: null } }, { ...base, args: { a: null } })).toBe(true);
    expect(sameOp({ ...base, args: { a: null } }, { ...base, args: { a: {} } })).toBe(false);
  });
});

describe("effectLoses", () => {
  const write = (wall: number, client = "A", seq = 1) => ({
    v: wall,
    stamp: { wall, logical: 0 },
    client: client.repeat(43),
    seq,
  });
  const held = applyEffect(undefined, "register", write(10))!;

  it("an older register write loses to the key's current one; a newer one and a tie broken upward do not", () => {
    expect(effectLoses(held, "register", write(9))).toBe(true);
    expect(effectLoses(held, "register", write(11))).toBe(false);
    expect(effectLoses(held, "register", write(10, "B"))).toBe(false); // same stamp, greater client wins
    expect(effectLoses(held, "register", write(10, "A", 2))).toBe(false); // then greater seq
    expect(effectLoses(held, "register", write(10, "A", 1))).toBe(true); // the same write again: not a win
  });

  it("nothing loses to an empty key, to another type's record, or in a type with no winner (counter)", () => {
    expect(effectLoses(undefined, "register", write(1))).toBe(false);
    expect(effectLoses(held, "counter", { n: 1 })).toBe(false);
    const counter = applyEffect(undefined, "counter", { n: 5 })!;
    expect(effectLoses(counter, "counter", { n: -100 })).toBe(false);
    expect(effectLoses(counter, "register", write(1))).toBe(false);
  });
});

describe("effectStamp", () => {
  it("is the stamp a register write carries; other types' effects and a null effect carry none", () => {
    const stamp = { wall: 42, logical: 3 };
    expect(effectStamp("register", { v: 1, stamp, client: "A".repeat(43), seq: 1 })).toEqual(stamp);
    expect(effectStamp("register", null)).toBeUndefined();
    expect(effectStamp("counter", { n: 1 })).toBeUndefined();
  });
});
