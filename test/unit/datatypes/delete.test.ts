/**
 * `delete` per data type (decide, apply, unapply), decided the way origins decide it: each rule of
 * docs/api.md ("Deleting a key") checked on its own. Convergence with deletes mixed in is the
 * property in crdts.test.ts; the certified order's removal is test/unit/certified/delete.test.ts.
 */
import { describe, expect, it } from "vitest";
import type { TypeName } from "../../../shared/datatypes/index.js";
import type { Hlc } from "../../../shared/hlc.js";
import {
  applyEffect,
  decideOp,
  isPresent,
  opValue,
  unapplyEffect,
  valueOf,
  type KeyRecord,
} from "../../../shared/materialize.js";
import type { OpBody } from "../../../shared/ops.js";

const A = "A".repeat(43);
const B = "B".repeat(43);
let seq = 0;
const body = (type: TypeName, op: string, args: OpBody["args"] = {}, client = A): OpBody => ({
  client,
  seq: ++seq,
  key: "k",
  type,
  op,
  args,
  ts: 1,
});
const at = (wall: number): { kind: "origin"; stamp: Hlc } => ({
  kind: "origin",
  stamp: { wall, logical: 0 },
});

/** Decide at the origin holding `rec`, at clock `wall`: the outcome. */
const decide = (rec: KeyRecord | undefined, o: OpBody, wall = 100) => decideOp(rec, o, at(wall));

const fold = (type: TypeName, effects: unknown[], from?: KeyRecord) =>
  effects.reduce<KeyRecord | undefined>((r, e) => applyEffect(r, type, e) ?? r, from);

describe("register delete: a tombstone under last-writer-wins", () => {
  it("reads as absent, and a write stamped later recreates the key", () => {
    const w = decide(undefined, body("register", "set", { v: "x" }), 100);
    const d = decide(w.record, body("register", "delete"), 200);
    expect(d).toMatchObject({ status: "ok", value: null });
    expect(isPresent(d.record!)).toBe(false);
    expect(valueOf(d.record)).toBeNull();
    const again = decide(d.record, body("register", "set", { v: "y" }), 300);
    expect(valueOf(again.record)).toBe("y");
  });

  it("a late write stamped before the delete loses to the tombstone, in either order", () => {
    const old = decide(undefined, body("register", "set", { v: "old" }, B), 150).effect;
    const del = decide(undefined, body("register", "delete"), 200).effect;
    for (const order of [
      [old, del],
      [del, old],
    ]) {
      const rec = fold("register", order)!;
      expect(isPresent(rec)).toBe(false); // the tombstone stays in the record
      expect(valueOf(rec)).toBeNull();
    }
    // …and a write stamped after it wins in either order
    const later = decide(undefined, body("register", "set", { v: "new" }, B), 250).effect;
    expect(valueOf(fold("register", [del, later]))).toBe("new");
    expect(valueOf(fold("register", [later, del]))).toBe("new");
  });

  it("unapply of the tombstone gives the best other write back", () => {
    const w = decide(undefined, body("register", "set", { v: "x" }), 100).effect;
    const del = decide(undefined, body("register", "delete"), 200).effect;
    const rec = fold("register", [w, del]);
    expect(valueOf(unapplyEffect(rec, "register", del, () => [w]))).toBe("x");
  });
});

describe("counter delete: observed-remove", () => {
  it("removes the total it observed; reads absent; an add concurrent with it survives", () => {
    const add5 = decide(undefined, body("counter", "add", { n: 5 }));
    const del = decide(add5.record, body("counter", "delete"));
    expect(del).toMatchObject({ status: "ok", value: 0, effect: { reset: 5 } });
    expect(isPresent(del.record!)).toBe(false);
    const concurrent = decide(add5.record, body("counter", "add", { n: 3 }, B)).effect; // did not see the delete
    for (const order of [
      [add5.effect, del.effect, concurrent],
      [concurrent, del.effect, add5.effect],
    ]) {
      const rec = fold("counter", order)!;
      expect(isPresent(rec)).toBe(true);
      expect(valueOf(rec)).toBe(3);
    }
  });

  it("unapply of a delete brings the total back and drops the mark unless another delete is in the log", () => {
    const add5 = decide(undefined, body("counter", "add", { n: 5 }));
    const del = decide(add5.record, body("counter", "delete"));
    expect(unapplyEffect(del.record, "counter", del.effect, () => [add5.effect])).toEqual({
      type: "counter",
      state: 5,
    });
    const other = { reset: 0 };
    const rec = fold("counter", [add5.effect, del.effect, other]);
    expect(unapplyEffect(rec, "counter", del.effect, () => [add5.effect, other])!.state).toEqual({
      n: 5,
      deleted: true,
    });
  });
});

describe("set delete: observed-remove over the whole set", () => {
  it("removes the tags it observed; reads absent; an element added concurrently survives", () => {
    const a = decide(undefined, body("set", "add", { x: "a" }));
    const b = decide(a.record, body("set", "add", { x: "b" }));
    const del = decide(b.record, body("set", "delete"));
    expect(del).toMatchObject({ status: "ok", value: [] });
    expect(isPresent(del.record!)).toBe(false);
    const c = decide(a.record, body("set", "add", { x: "c" }, B)).effect; // concurrent
    const all = [a.effect, b.effect, del.effect, c];
    expect(valueOf(fold("set", all))).toEqual(["c"]);
    expect(valueOf(fold("set", [...all].reverse()))).toEqual(["c"]);
  });

  it("a set emptied by removes, with no delete, still reads as present: []", () => {
    const a = decide(undefined, body("set", "add", { x: "a" }));
    const r = decide(a.record, body("set", "remove", { x: "a" }));
    expect(isPresent(r.record!)).toBe(true);
    expect(valueOf(r.record)).toEqual([]);
  });
});

describe("account delete: only at balance 0", () => {
  it("is rejected not_empty above 0, changing nothing", () => {
    const dep = decide(undefined, body("account", "deposit", { n: 4 }));
    const del = decide(dep.record, body("account", "delete"));
    expect(del).toMatchObject({ status: "rejected", reason: "not_empty", effect: null, value: 4 });
    expect(del.record).toBe(dep.record);
  });

  it("at 0 it is ok and reads absent; a deposit concurrent with it survives", () => {
    const dep = decide(undefined, body("account", "deposit", { n: 4 }));
    const wd = decide(dep.record, body("account", "withdraw", { n: 4 }));
    const del = decide(wd.record, body("account", "delete"));
    expect(del).toMatchObject({ status: "ok", value: 0 });
    expect(isPresent(del.record!)).toBe(false);
    const concurrent = decide(wd.record, body("account", "deposit", { n: 2 }, B)).effect;
    const rec = fold("account", [dep.effect, wd.effect, concurrent, del.effect])!;
    expect(isPresent(rec)).toBe(true);
    expect(valueOf(rec)).toBe(2);
    // the balance decides: a withdraw is decided against it as before
    expect(decide(rec, body("account", "withdraw", { n: 3 }))).toMatchObject({
      reason: "insufficient_funds",
    });
  });
});

describe("a deleted key takes any type", () => {
  it("an op of another type builds on nothing; one of the same type on the deleted record", () => {
    const w = decide(undefined, body("register", "set", { v: 1 }), 100);
    const del = decide(w.record, body("register", "delete"), 200);
    const c = decide(del.record, body("counter", "add", { n: 2 }));
    expect(c).toMatchObject({ status: "ok", value: 2, record: { type: "counter", state: 2 } });
    // the receivers apply the origin's effect the same way
    expect(applyEffect(del.record, "counter", c.effect)).toEqual(c.record);
    // a present key still refuses another type
    expect(decide(w.record, body("counter", "add", { n: 2 }))).toMatchObject({ reason: "type_mismatch" });
  });

  it("opValue of a deleted key is the op type's initial value, as the certified order reports it", () => {
    const add = decide(undefined, body("counter", "add", { n: 5 }));
    const del = decide(add.record, body("counter", "delete"));
    expect(opValue(del.record, "counter")).toBe(0);
    expect(opValue(del.record, "set")).toEqual([]);
  });
});
