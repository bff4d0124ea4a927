/**
 * `jsonProblem`: what a register may store is plain JSON data, and each refusal says why. Values
 * built in code (not parsed from text) can hold what JSON text cannot: those are refused here.
 */
import { describe, expect, it } from "vitest";
import { jsonProblem } from "../../../shared/json-value.js";

const invalid = (message: string) => ({ kind: "invalid", message });

describe("jsonProblem", () => {
  it("accepts plain data, null-prototype objects and nesting up to the bound", () => {
    expect(jsonProblem({ a: [1, "x", true, null, { b: -0.5 }] })).toBeNull();
    expect(jsonProblem(Object.assign(Object.create(null) as object, { a: 1 }))).toBeNull();
    expect(jsonProblem([[[]]], 3)).toBeNull();
    for (const scalar of [true, false, 0, "", null]) expect(jsonProblem(scalar), String(scalar)).toBeNull();
    expect(jsonProblem([[[[]]]], 3)).toEqual(invalid("nested deeper than 3 levels"));
  });

  it("refuses what JSON cannot carry, naming it", () => {
    class Box {
      v = 1;
    }
    class List extends Array<number> {}
    const sym = { a: 1, [Symbol("s")]: 2 };
    const getter = Object.defineProperty({}, "g", { get: () => 1, enumerable: true });
    const hidden = Object.defineProperty({}, "h", { value: 1, enumerable: false });
    const cases: [unknown, object][] = [
      [[1, , 3], invalid("an array with a hole")],
      [List.from([1]), invalid("not a plain array")],
      [new Box(), invalid("not a plain object")],
      [new Date(0), invalid("not a plain object")],
      [new Map(), invalid("not a plain object")],
      [sym, invalid("an object with symbol keys")],
      [getter, invalid("member 'g' is not plain data")],
      [hidden, invalid("member 'h' is not plain data")],
      [{ ["a\ud800"]: 1 }, invalid("a member name is not Unicode text (lone surrogate)")],
      ["a\udc00", invalid("a string is not Unicode text (lone surrogate)")],
      [Infinity, invalid("a number JSON cannot carry (too large or not finite)")],
      [NaN, invalid("a number JSON cannot carry (too large or not finite)")],
      [undefined, invalid("a undefined is not JSON")],
      [1n, invalid("a bigint is not JSON")],
      [() => 1, invalid("a function is not JSON")],
      [JSON.parse('{"__proto__":1}'), { kind: "reserved_name", message: "a member named '__proto__'" }],
    ];
    for (const [v, problem] of cases) expect(jsonProblem({ deep: [v] }), String(problem)).toEqual(problem);
  });
});
