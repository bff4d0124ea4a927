// The rule replicas use to converge on one version of an equivocated op id, and taking the losing
// version's effect back out of a key's record (pure; the replicas' use: test/runtime/equivocation.test.ts).
import fc from "fast-check";
import {
  namespaceOps,
  setOps,
  withDeletes as withDeletesEvery,
  type OpArb,
} from "../../support/op-arbitraries.js";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../../shared/canonical.js";
import { generateKeyPair } from "../../../shared/crypto/keys.js";
import type { TypeName } from "../../../shared/datatypes/index.js";
import { equivocationWinner, sameContent, versionHash } from "../../../shared/equivocation.js";
import {
  applyEffect,
  decideOp,
  opValue,
  unapplyEffect,
  type KeyRecord,
} from "../../../shared/materialize.js";
import { signOp, type OpBody } from "../../../shared/ops.js";

describe("equivocation winner", () => {
  it("is one of the two, the same whichever order they are compared in, and the lower hash", async () => {
    const k = await generateKeyPair();
    const body = (n: number): OpBody => ({
      client: k.publicKey,
      seq: 7,
      key: "k",
      type: "counter",
      op: "add",
      args: { n },
      ts: 1,
    });
    for (let n = 1; n <= 20; n++) {
      const a = await signOp(k.secret, body(n));
      const b = await signOp(k.secret, body(n + 100));
      const w = equivocationWinner(a, b);
      expect(equivocationWinner(b, a)).toBe(w);
      expect(versionHash(w)).toBe([versionHash(a), versionHash(b)].sort()[0]);
      expect(sameContent(a, b)).toBe(false);
      expect(sameContent(a, { ...a, sig: b.sig })).toBe(true);
    }
  });
});

const CLIENTS = ["A".repeat(43), "B".repeat(43)];
/** Deletes mixed in: an equivocation's `unapply` must take a delete out too. */
const withDeletes = (ops: OpArb): OpArb => withDeletesEvery(ops, 3);

const opsFor: Record<TypeName, OpArb> = {
  counter: withDeletes(fc.integer({ min: -50, max: 50 }).map((n) => ({ op: "add", args: { n } }))),
  account: withDeletes(
    fc
      .record({ op: fc.constantFrom("deposit", "withdraw"), n: fc.integer({ min: 1, max: 9 }) })
      .map(({ op, n }) => ({ op, args: { n } })),
  ),
  register: withDeletes(fc.integer().map((v) => ({ op: "set", args: { v } }))),
  set: withDeletes(setOps),
  namespace: namespaceOps(CLIENTS),
};

/** Effects decided the way origins do: each against the state its origin had (here: a prefix). */
function effectsOf(type: TypeName, ops: { op: string; args: OpBody["args"] }[], stale: boolean[]) {
  let rec: KeyRecord | undefined;
  const out: unknown[] = [];
  ops.forEach((o, i) => {
    const body: OpBody = { client: CLIENTS[i % 2]!, seq: i + 1, key: "k", type, ...o, ts: 1 };
    const d = decideOp(stale[i] ? undefined : rec, body, {
      kind: "origin",
      stamp: { wall: 1000 + (i % 3), logical: i },
    });
    if (d.effect === null) return;
    if (!stale[i]) rec = applyEffect(rec, type, d.effect) ?? rec;
    out.push(d.effect);
  });
  return out;
}

const fold = (type: TypeName, effects: unknown[]) =>
  effects.reduce<KeyRecord | undefined>((r, e) => applyEffect(r, type, e) ?? r, undefined);

describe("unapplyEffect", () => {
  for (const type of Object.keys(opsFor) as TypeName[]) {
    it(`${type}: taking one effect out leaves what the other effects alone give`, () => {
      fc.assert(
        fc.property(
          fc.array(fc.tuple(opsFor[type], fc.boolean()), { minLength: 1, maxLength: 12 }),
          fc.nat(),
          (ops, pick) => {
            const effects = effectsOf(
              type,
              ops.map(([o]) => o),
              ops.map(([, s]) => s),
            );
            fc.pre(effects.length > 0);
            const i = pick % effects.length;
            const loser = effects[i];
            const others = effects.filter((_, j) => j !== i);
            const after = unapplyEffect(fold(type, effects), type, loser, () => others);
            expect(canonicalJson(after ?? null)).toBe(canonicalJson(fold(type, others) ?? null));
          },
        ),
        { numRuns: 300 },
      );
    });
  }
});

// A receiver writes an op's row from the origin's effect and its own record (an equivocation's
// winner too): the value it reports must be the one the origin decided (GET /v1/ops/:id agrees).
describe("opValue", () => {
  for (const type of Object.keys(opsFor) as TypeName[]) {
    it(`${type}: a receiver reports the value the origin decided, the key fresh or not`, () => {
      fc.assert(
        fc.property(fc.array(opsFor[type], { maxLength: 6 }), opsFor[type], (before, o) => {
          const rec = fold(
            type,
            effectsOf(
              type,
              before,
              before.map(() => false),
            ),
          );
          const body: OpBody = { client: CLIENTS[0]!, seq: 99, key: "k", type, ...o, ts: 1 };
          const d = decideOp(rec, body, { kind: "origin", stamp: { wall: 5000, logical: 0 } });
          const at = d.effect === null ? rec : (applyEffect(rec, type, d.effect) ?? rec);
          expect(opValue(at, type)).toEqual(d.value);
        }),
        { numRuns: 200 },
      );
    });
  }
  it("a rejected withdraw on a key that holds nothing reports the account's 0, not null", () => {
    const body: OpBody = {
      client: CLIENTS[0]!,
      seq: 1,
      key: "k",
      type: "account",
      op: "withdraw",
      args: { n: 5 },
      ts: 1,
    };
    const d = decideOp(undefined, body, { kind: "origin", stamp: { wall: 1, logical: 0 } });
    expect(d).toMatchObject({ status: "rejected", effect: null, value: 0 });
    expect(opValue(undefined, "account")).toBe(0);
  });
});
