/**
 * The cases of taking an equivocating client's losing effect back out that a random history rarely
 * builds: two removes decided concurrently over the same tags, a register whose winner's op was
 * already collected from the log, and the exact effects `decide` hands out for them.
 */
import { describe, expect, it } from "vitest";
import { orset, type OrSetEffect, type OrSetState } from "../../../shared/datatypes/orset.js";
import { register, type RegisterState } from "../../../shared/datatypes/register.js";

const ctx = (opId: string, seq = 1) =>
  ({
    opId,
    client: "A".repeat(43),
    seq,
    order: { kind: "origin", stamp: { wall: seq, logical: 0 } },
  }) as const;

describe("set", () => {
  const added = orset.apply(orset.apply(orset.initial(), { add: "x", tag: "t1" }), { add: "y", tag: "t2" });

  it("a remove's effect names the element's live tags only: none for an absent element, none already removed", () => {
    expect(orset.decide(added, "remove", { x: "x" }, ctx("r1"))).toEqual({
      status: "ok",
      effect: { remove: "x", tags: ["t1"] },
    });
    expect(orset.decide(added, "remove", { x: "zz" }, ctx("r2"))).toEqual({
      status: "ok",
      effect: { remove: "zz", tags: [] },
    });
    const removed = orset.apply(added, { remove: "x", tags: ["t1"] });
    expect(orset.decide(removed, "remove", { x: "x" }, ctx("r3")).effect).toEqual({ remove: "x", tags: [] });
    expect(orset.decide(added, "add", { x: "x" }, ctx("a9")).effect).toEqual({ add: "x", tag: "a9" });
  });

  it("taking out one of two concurrent removes of the same tag leaves the element removed", () => {
    // both removes were decided against `added`: each names t1
    const ra: OrSetEffect = { remove: "x", tags: ["t1"] };
    const rb: OrSetEffect = { remove: "x", tags: ["t1"] };
    const both = orset.apply(orset.apply(added, ra), rb);
    expect(orset.value(both)).toEqual(["y"]);
    const others: OrSetEffect[] = [{ add: "x", tag: "t1" }, { add: "y", tag: "t2" }, rb];
    expect(orset.value(orset.unapply(both, ra, () => others))).toEqual(["y"]);
    // with no other remove left, x comes back
    expect(orset.value(orset.unapply(both, ra, () => others.slice(0, 2)))).toEqual(["x", "y"]);
  });

  it("taking out a remove restores only the tags no other remove names", () => {
    const s: OrSetState = { adds: { x: ["t1", "t3"] }, removed: ["t1", "t3"] };
    const e: OrSetEffect = { remove: "x", tags: ["t1", "t3"] };
    const after = orset.unapply(s, e, () => [{ remove: "x", tags: ["t3"] }]);
    expect(after).toEqual({ adds: { x: ["t1", "t3"] }, removed: ["t3"] });
  });

  it("taking out an add removes that tag only; an element left with no tag is gone", () => {
    const s: OrSetState = { adds: { x: ["t1", "t3"], y: ["t2"] }, removed: [] };
    expect(orset.unapply(s, { add: "x", tag: "t1" }, () => [])).toEqual({
      adds: { x: ["t3"], y: ["t2"] },
      removed: [],
    });
    expect(orset.unapply(s, { add: "y", tag: "t2" }, () => [])).toEqual({
      adds: { x: ["t1", "t3"] },
      removed: [],
    });
  });
});

describe("register", () => {
  const w = (wall: number, client: string, seq: number, v: string): RegisterState => ({
    v,
    stamp: { wall, logical: 0 },
    client: client.repeat(43),
    seq,
  });

  it("decide stamps an origin write with the origin's clock, a certified one with the successor of the key's stamp", () => {
    const held = w(10, "A", 1, "old");
    expect(register.decide(held, "set", { v: "new" }, ctx("o", 3))).toEqual({
      status: "ok",
      effect: { v: "new", stamp: { wall: 3, logical: 0 }, client: "A".repeat(43), seq: 3 },
    });
    const certified = register.decide(held, "set", { v: "new" }, {
      ...ctx("o", 3),
      order: { kind: "certified" },
    } as never);
    expect(certified.effect!.stamp).not.toEqual(held.stamp);
    expect(register.apply(held, certified.effect!)).toEqual(certified.effect);
  });

  it("taking out a write that is not the current winner leaves the winner, even once the winner's op was collected", () => {
    const winner = w(10, "B", 2, "win");
    for (const loser of [w(10, "A", 2, "l"), w(10, "B", 1, "l"), w(9, "B", 2, "l")])
      expect(register.unapply(winner, loser, () => [])).toBe(winner);
  });

  it("taking out the winner puts the best of the other writes in its place, or nothing", () => {
    const winner = w(10, "B", 2, "win");
    const others = [w(5, "A", 1, "a"), w(7, "C", 1, "c"), w(7, "A", 3, "a3")];
    expect(register.unapply(winner, { ...winner }, () => others)).toEqual(others[1]);
    expect(register.unapply(winner, { ...winner }, () => [])).toBeNull();
    // ties on the stamp: the greater client, then the greater seq
    expect(register.unapply(winner, { ...winner }, () => [w(7, "A", 1, "x"), w(7, "A", 2, "y")])).toEqual(
      w(7, "A", 2, "y"),
    );
  });
});
