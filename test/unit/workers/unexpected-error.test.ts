/** An exception that is not an AspecError: 503 `unavailable` when the platform says retry, else 500. */
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { unexpectedError } from "../../../workers/unexpected-error.js";

const flagged = (flags: Record<string, unknown>) => Object.assign(new Error("Durable Object reset"), flags);

describe("unexpectedError", () => {
  let log: MockInstance<typeof console.log>;
  beforeEach(() => void (log = vi.spyOn(console, "log").mockImplementation(() => {})));
  afterEach(() => log.mockRestore());

  it("logs one structured object (Workers Logs indexes its fields)", () => {
    unexpectedError(Object.assign(new Error("x"), { overloaded: true }));
    expect(log).toHaveBeenCalledTimes(1);
    expect(log.mock.calls[0]![0]).toMatchObject({
      event: "transient_error",
      message: "Error: x",
      overloaded: true,
    });
  });

  it("is 503 unavailable for a retryable or overloaded platform error", () => {
    for (const e of [flagged({ retryable: true }), flagged({ overloaded: true })])
      expect([unexpectedError(e).code, unexpectedError(e).status]).toEqual(["unavailable", 503]);
  });

  it("is 500 internal for anything else, saying nothing of the cause", () => {
    for (const e of [
      new Error("bug"),
      flagged({ retryable: false }),
      "a string",
      null,
      { retryable: "yes" },
    ]) {
      const a = unexpectedError(e);
      expect([a.code, a.status, a.message]).toEqual(["internal", 500, "internal error"]);
    }
  });
});
