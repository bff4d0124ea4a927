/**
 * The SDK rebuilds an error from a reply's JSON body: only the one error shape with a known code
 * becomes an AspecError; anything else is not taken for one. `isAspecError` also recognises one
 * made by another copy of the module (another bundle or realm), by its name.
 */
import { describe, expect, it } from "vitest";
import { AspecError, isAspecError } from "../../../shared/errors.js";

describe("AspecError.fromBody", () => {
  it("rebuilds the error shape with a known code, keeping message and details", () => {
    const e = AspecError.fromBody({ error: { code: "seq_replayed", message: "m", details: { lastSeq: 3 } } });
    expect(e).toBeInstanceOf(AspecError);
    expect(e).toMatchObject({ code: "seq_replayed", message: "m", details: { lastSeq: 3 }, status: 409 });
    expect(AspecError.fromBody({ error: { code: "not_found", message: 7 } })?.message).toBe("7");
  });

  it("is null for anything else: no body, no error member, an unknown or inherited code", () => {
    for (const body of [
      null,
      undefined,
      "text",
      {},
      { error: null },
      { error: "not_found" },
      { error: { code: 404 } },
      { error: { code: "no_such_code" } },
      { error: { code: "toString" } },
      { error: { code: "__proto__" } },
      { error: { code: ["not_found"] } }, // stringifies to a known code, but is not one
    ])
      expect(AspecError.fromBody(body), JSON.stringify(body)).toBeNull();
  });
});

describe("isAspecError", () => {
  it("an AspecError, or an error named AspecError from another copy of the module; nothing else", () => {
    expect(isAspecError(new AspecError("not_found", "x"))).toBe(true);
    expect(isAspecError(Object.assign(new Error("x"), { name: "AspecError" }))).toBe(true);
    for (const e of [null, undefined, new Error("x"), { name: "Error" }, "AspecError", { name: "" }])
      expect(isAspecError(e), String(e)).toBe(false);
  });
});
