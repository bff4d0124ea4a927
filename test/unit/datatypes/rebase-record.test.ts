// Tentative = certified + pending effects (shared/materialize.ts rebaseRecord): the order of the
// pending effects never matters, a type mismatch is skipped, and nothing pending is the certified record.
import { describe, expect, it } from "vitest";
import { rebaseRecord, type KeyRecord, type PendingEffect } from "../../../shared/materialize.js";

const perms = <T>(xs: T[]): T[][] =>
  xs.length <= 1
    ? [xs]
    : xs.flatMap((x, i) => perms([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));

describe("rebaseRecord", () => {
  it("nothing pending: the certified record itself (absent stays absent)", () => {
    const rec: KeyRecord = { type: "counter", state: 3 };
    expect(rebaseRecord(rec, [])).toBe(rec);
    expect(rebaseRecord(undefined, [])).toBeUndefined();
  });
  it("account deltas on the certified balance, in every order; a null effect changes nothing", () => {
    const pending: PendingEffect[] = [
      { type: "account", effect: { delta: -10 } },
      { type: "account", effect: { delta: 4 } },
      { type: "account", effect: null },
    ];
    for (const p of perms(pending))
      expect(rebaseRecord({ type: "account", state: 10 }, p)).toEqual({ type: "account", state: 4 });
  });
  it("register: the greatest stamp among pending writes wins over the certified value, in every order", () => {
    const certified: KeyRecord = {
      type: "register",
      state: { v: "c", stamp: { wall: 0, logical: 7 }, client: "z", seq: 9 },
    };
    const w = (v: string, wall: number): PendingEffect => ({
      type: "register",
      effect: { v, stamp: { wall, logical: 0 }, client: "a", seq: wall },
    });
    for (const p of perms([w("x", 5), w("y", 9), w("w", 7)]))
      expect((rebaseRecord(certified, p)!.state as { v: string }).v).toBe("y");
  });
  it("an effect of another type than the record's is skipped", () => {
    const rec: KeyRecord = { type: "account", state: 5 };
    expect(rebaseRecord(rec, [{ type: "counter", effect: { n: 1 } }])).toEqual(rec);
  });
});
