import fc from "fast-check";
import {
  namespaceOps,
  setOps,
  withDeletes as withDeletesEvery,
  type OpArb,
} from "../../support/op-arbitraries.js";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../../shared/canonical.js";
import { DATA_TYPES, type TypeName } from "../../../shared/datatypes/index.js";
import { applyEffect, CERTIFIED_ORDER, decideOp, type KeyRecord } from "../../../shared/materialize.js";
import type { OpBody } from "../../../shared/ops.js";

const CLIENTS = ["A".repeat(43), "B".repeat(43), "C".repeat(43)];
const ORIGIN = { kind: "origin", stamp: { wall: 1, logical: 0 } } as const;

/** A replica in miniature: dedupe by op id, then apply — what the EdgeReplica DO does in SQLite. */
function converge(effects: { opId: string; type: TypeName; effect: unknown }[]): string {
  let rec: KeyRecord | undefined;
  const seen = new Set<string>();
  for (const e of effects) {
    if (seen.has(e.opId)) continue;
    seen.add(e.opId);
    rec = applyEffect(rec, e.type, e.effect) ?? rec;
  }
  return canonicalJson(rec ?? null);
}

/** Decide a sequence of ops the way origin replicas do: each against the state its origin had seen. */
function decideAll(type: TypeName, ops: { op: string; args: OpBody["args"] }[]) {
  let rec: KeyRecord | undefined;
  return ops
    .map((o, i) => {
      const body: OpBody = {
        client: CLIENTS[i % 3]!,
        seq: i + 1,
        key: "k",
        type,
        op: o.op,
        args: o.args,
        ts: 1000 + (i % 4),
      };
      // half decided on a stale (empty) replica; stamps from two replicas' clocks, colliding at times
      const stamp = { wall: 1000 + (i % 4), logical: i % 3 };
      const out = decideOp(i % 2 === 0 ? rec : undefined, body, { kind: "origin", stamp });
      if (i % 2 === 0 && out.record) rec = out.record;
      return { opId: `${body.client}:${body.seq}`, type, effect: out.effect };
    })
    .filter((e) => e.effect !== null);
}

/** Deletes mixed in (about one op in five). */
const withDeletes = (ops: OpArb): OpArb => withDeletesEvery(ops, 4);

const opsFor: Record<Exclude<TypeName, "account">, OpArb> = {
  counter: withDeletes(fc.integer({ min: -1000, max: 1000 }).map((n) => ({ op: "add", args: { n } }))),
  // CASes expect values `set` and other CASes write, so some hold (an effect) and some fail (none)
  register: withDeletes(
    fc.oneof(
      fc.jsonValue().map((v) => ({ op: "set", args: { v: JSON.parse(JSON.stringify(v)) } })),
      fc.constantFrom(null, 1, "a", { x: [1] }).map((v) => ({ op: "set", args: { v } })),
      fc
        .record({
          expected: fc.constantFrom(null, 1, "a", { x: [1] }),
          v: fc.constantFrom(null, 1, "a", { x: [1] }),
        })
        .map((args) => ({ op: "cas", args })),
    ),
  ),
  set: withDeletes(setOps),
  namespace: namespaceOps(CLIENTS),
};

describe("a fresh key's state", () => {
  it("is pinned per type (certified state roots hash it, so every replica and version must agree)", () => {
    const initial = Object.fromEntries(Object.entries(DATA_TYPES).map(([t, d]) => [t, d.initial()]));
    expect(initial).toEqual({
      counter: 0,
      register: null,
      set: { adds: {}, removed: [] },
      account: 0,
      namespace: {},
    });
  });
});

describe("CRDT data types converge under any permutation and duplication (deletes mixed in)", () => {
  for (const type of Object.keys(opsFor) as (keyof typeof opsFor)[]) {
    it(type, () => {
      fc.assert(
        fc.property(
          fc.array(opsFor[type], { maxLength: 20 }).chain((ops) => {
            const effects = decideAll(type, ops);
            return fc.tuple(
              fc.constant(effects),
              fc.shuffledSubarray(effects, { minLength: effects.length, maxLength: effects.length }),
              fc.array(fc.nat({ max: Math.max(0, effects.length - 1) }), { maxLength: 10 }),
            );
          }),
          ([effects, shuffled, dupIdx]) => {
            const dup = [...shuffled, ...dupIdx.filter((i) => i < effects.length).map((i) => effects[i]!)];
            expect(converge(dup)).toBe(converge(effects));
          },
        ),
        { numRuns: 300 },
      );
    });
  }
});

describe("account", () => {
  const body = (op: string, n: number, seq: number): OpBody => ({
    client: CLIENTS[0]!,
    seq,
    key: "acct",
    type: "account",
    op,
    args: { n },
    ts: 1,
  });
  it("rejects a withdraw that would go negative and changes nothing", () => {
    const d = decideOp(undefined, body("deposit", 5, 1), ORIGIN);
    const w = decideOp(d.record, body("withdraw", 6, 2), ORIGIN);
    expect(w).toMatchObject({ status: "rejected", reason: "insufficient_funds", effect: null, value: 5 });
    expect(w.record).toBe(d.record);
    const ok = decideOp(d.record, body("withdraw", 5, 3), ORIGIN);
    expect(ok).toMatchObject({ status: "ok", value: 0 });
  });
  it("an op on a key of another type is rejected, not applied", () => {
    const d = decideOp(undefined, body("deposit", 5, 1), ORIGIN);
    const c = decideOp(d.record, { ...body("add", 1, 2), type: "counter" }, ORIGIN);
    expect(c).toMatchObject({ status: "rejected", reason: "type_mismatch", value: 5 });
    expect(applyEffect(d.record, "counter", { n: 1 })).toBeNull();
  });
});

describe("register.cas", () => {
  const cas = (expected: unknown, v: unknown, seq: number, client = CLIENTS[0]!): OpBody => ({
    client,
    seq,
    key: "r",
    type: "register",
    op: "cas",
    args: { expected, v } as OpBody["args"],
    ts: 1,
  });
  const set = (v: unknown, seq: number): OpBody => ({
    ...cas(null, v, seq),
    op: "set",
    args: { v } as OpBody["args"],
  });

  it("at the origin: writes when the register holds `expected` (null: absent), like a set", () => {
    const first = decideOp(undefined, cas(null, { n: 1 }, 1), ORIGIN);
    expect(first).toMatchObject({ status: "ok", value: { n: 1 } });
    expect(first.effect).toEqual({ v: { n: 1 }, stamp: ORIGIN.stamp, client: CLIENTS[0], seq: 1 });
    // compared canonically: member order does not matter
    const s = decideOp(undefined, set({ a: 1, b: [2] }, 2), ORIGIN);
    const next = decideOp(s.record, cas({ b: [2], a: 1 }, "x", 3), {
      kind: "origin",
      stamp: { wall: 2, logical: 0 },
    });
    expect(next).toMatchObject({ status: "ok", value: "x" });
  });

  it("at the origin: a mismatch is rejected cas_failed, nothing written (as an overdraft is)", () => {
    const s = decideOp(undefined, set(1, 1), ORIGIN);
    const miss = decideOp(s.record, cas(2, 3, 2), ORIGIN);
    expect(miss).toMatchObject({ status: "rejected", reason: "cas_failed", effect: null, value: 1 });
    expect(miss.record).toBe(s.record);
    expect(decideOp(undefined, cas(1, 3, 3), ORIGIN)).toMatchObject({
      status: "rejected",
      reason: "cas_failed",
    });
    // "1" is not 1
    expect(decideOp(s.record, cas("1", 3, 4), ORIGIN)).toMatchObject({
      status: "rejected",
      reason: "cas_failed",
    });
  });

  it("in the certified order: of two CASes from the same expected value, the second fails", () => {
    const base = decideOp(undefined, set("v0", 1), CERTIFIED_ORDER);
    const a = decideOp(base.record, cas("v0", "A", 2, CLIENTS[1]), CERTIFIED_ORDER);
    const b = decideOp(a.record, cas("v0", "B", 3, CLIENTS[2]), CERTIFIED_ORDER);
    expect(a).toMatchObject({ status: "ok", value: "A" });
    expect(b).toMatchObject({ status: "rejected", reason: "cas_failed", effect: null, value: "A" });
  });

  it("bad args are refused by the schema: a missing expected, an extra field, a value over the bound", () => {
    const schema = DATA_TYPES.register.args.cas!;
    expect(schema.safeParse({ expected: null, v: 1 }).success).toBe(true);
    expect(schema.safeParse({ v: 1 }).success).toBe(false);
    expect(schema.safeParse({ expected: 1, v: 1, x: 1 }).success).toBe(false);
    expect(schema.safeParse({ expected: "x".repeat(5000), v: 1 }).success).toBe(false);
  });
});

describe("set", () => {
  it("a remove only removes the adds it observed", () => {
    const b = (op: string, seq: number): OpBody => ({
      client: CLIENTS[0]!,
      seq,
      key: "s",
      type: "set",
      op,
      args: { x: "x" },
      ts: 1,
    });
    const a1 = decideOp(undefined, b("add", 1), ORIGIN);
    const rm = decideOp(a1.record, b("remove", 2), ORIGIN); // observed a1 only
    const a2 = decideOp(undefined, b("add", 3), ORIGIN); // concurrent add elsewhere
    const everything = [a1, rm, a2].map((o, i) => ({
      opId: String(i),
      type: "set" as const,
      effect: o.effect,
    }));
    expect(JSON.parse(converge(everything)).state.adds.x).toHaveLength(2);
    let rec: KeyRecord | undefined;
    for (const e of everything) rec = applyEffect(rec, "set", e.effect)!;
    expect(decideOp(rec, b("add", 9), ORIGIN).value).toEqual(["x"]);
  });
});
