/**
 * `unapplyEffect` and `decideOp` at their edges: an effect never applied here is not taken out (no
 * record, another type's record, a null effect), a key back at its initial state stays while other
 * ops of it remain in the log, and an outcome carries a reason only when there is one. Also the
 * clock's `maxHlc` and a key's refusal messages, which nothing else pins.
 */
import { describe, expect, it } from "vitest";
import { maxHlc } from "../../../shared/hlc.js";
import { keyProblem } from "../../../shared/kv-key.js";
import { CERTIFIED_ORDER, applyEffect, decideOp, unapplyEffect } from "../../../shared/materialize.js";
import type { OpBody } from "../../../shared/ops.js";

const counter = applyEffect(applyEffect(undefined, "counter", { n: 5 })!, "counter", { n: 3 })!;

describe("unapplyEffect", () => {
  it("leaves alone what was never applied here: no record, another type's record, a null effect", () => {
    const none = () => {
      throw new Error("others must not be read");
    };
    expect(unapplyEffect(undefined, "counter", { n: 5 }, none)).toBeUndefined();
    expect(
      unapplyEffect(counter, "register", { v: 1, stamp: { wall: 1, logical: 0 }, client: "A", seq: 1 }, none),
    ).toBe(counter);
    expect(unapplyEffect(counter, "counter", null, none)).toBe(counter);
  });

  it("a key back at its initial state is kept while other ops of it are in the log, dropped when none are", () => {
    expect(unapplyEffect(counter, "counter", { n: 5 }, () => [{ n: 3 }])).toEqual({
      type: "counter",
      state: 3,
    });
    const zero = applyEffect(applyEffect(undefined, "counter", { n: 5 })!, "counter", { n: -5 })!;
    expect(unapplyEffect(zero, "counter", { n: 5 }, () => [{ n: -5 }])).toEqual({
      type: "counter",
      state: -5,
    });
    const five = applyEffect(undefined, "counter", { n: 5 })!;
    expect(unapplyEffect(five, "counter", { n: 5 }, () => [])).toBeUndefined();
    const back = applyEffect(five, "counter", { n: 0 })!;
    expect(unapplyEffect(back, "counter", { n: 5 }, () => [{ n: 0 }])).toEqual({ type: "counter", state: 0 });
  });
});

describe("decideOp", () => {
  const body = (over: Partial<OpBody>): OpBody => ({
    client: "A".repeat(43),
    seq: 1,
    key: "k",
    type: "account",
    op: "withdraw",
    args: { n: 5 },
    ts: 1,
    ...over,
  });
  it("an outcome carries a reason only when there is one", () => {
    const refused = decideOp(undefined, body({}), CERTIFIED_ORDER);
    expect(refused).toMatchObject({ status: "rejected", effect: null });
    expect(typeof refused.reason).toBe("string");
    const ok = decideOp(undefined, body({ op: "deposit" }), CERTIFIED_ORDER);
    expect(ok.status).toBe("ok");
    expect(Object.keys(ok)).not.toContain("reason");
  });
});

describe("maxHlc and keyProblem", () => {
  it("maxHlc is the later stamp, whichever side it is on", () => {
    const a = { wall: 2, logical: 0 };
    const b = { wall: 1, logical: 9 };
    expect(maxHlc(a, b)).toBe(a);
    expect(maxHlc(b, a)).toBe(a);
    expect(maxHlc({ wall: 1, logical: 1 }, b)).toBe(b);
  });
  it("a key's refusal names what is wrong with it", () => {
    expect(keyProblem("")).toBe("key is empty");
    expect(keyProblem(".")).toBe("key '.' cannot be named in a URL path");
    expect(keyProblem("..")).toBe("key '..' cannot be named in a URL path");
    expect(keyProblem("a\u0001")).toBe("key contains control characters");
    expect(keyProblem("a\ud800")).toBe("key is not Unicode text (lone surrogate)");
    expect(keyProblem("k".repeat(257))).toBe("key longer than 256 bytes (UTF-8)");
    expect(keyProblem("...")).toBeNull();
  });
});
