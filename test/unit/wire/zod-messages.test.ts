/**
 * The op parser answers with zod's English messages, word for word as before the switch to
 * `zod/mini` (shared/zod.ts loads only the English locale): clients and tests may match on them.
 */
import { describe, expect, it } from "vitest";
import { AspecError } from "../../../shared/errors.js";
import { parseOp, parseOpReference } from "../../../shared/ops.js";

const base = {
  client: "A".repeat(43),
  seq: 7,
  key: "key-1",
  type: "counter",
  op: "add",
  args: { n: 3 },
  ts: 1_700_000_000_000,
  sig: "B".repeat(86),
};

const CASES: [string, Record<string, unknown>, string, string][] = [
  ["a string seq", { seq: "7" }, "invalid_request", "seq: Invalid input: expected number, received string"],
  ["seq 0", { seq: 0 }, "invalid_request", "seq: Too small: expected number to be >=1"],
  ["a fractional seq", { seq: 1.5 }, "invalid_request", "seq: Invalid input: expected int, received number"],
  ["a negative ts", { ts: -1 }, "invalid_request", "ts: Too small: expected number to be >=0"],
  [
    "a short, non-base64url sig",
    { sig: "!" },
    "invalid_request",
    "sig: Too small: expected string to have exactly 86 characters; sig: not base64url",
  ],
  [
    "a short client key",
    { client: "A".repeat(42) },
    "invalid_request",
    "client: Too small: expected string to have exactly 43 characters",
  ],
  ["an unknown field", { extra: 1 }, "invalid_request", 'Unrecognized key: "extra"'],
  ["args as an array", { args: [] }, "invalid_request", "args: expected an object"],
  [
    "a fractional step",
    { args: { n: 1.5 } },
    "invalid_args",
    "n: Invalid input: expected int, received number",
  ],
  [
    "a step too large",
    { args: { n: 1e13 } },
    "invalid_args",
    "n: Too big: expected number to be <=1000000000000",
  ],
  ["an extra argument", { args: { n: 1, m: 2 } }, "invalid_args", 'Unrecognized key: "m"'],
  [
    "an empty set element",
    { type: "set", op: "add", args: { x: "" } },
    "invalid_args",
    "x: Too small: expected string to have >=1 characters",
  ],
  [
    "a long set element",
    { type: "set", op: "add", args: { x: "é".repeat(200) } },
    "invalid_args",
    "x: element longer than 256 bytes",
  ],
  [
    "a large register value",
    { type: "register", op: "set", args: { v: "x".repeat(5000) } },
    "invalid_args",
    "v: value larger than 4096 bytes",
  ],
  [
    "a withdraw of 0",
    { type: "account", op: "withdraw", args: { n: 0 } },
    "invalid_args",
    "n: Too small: expected number to be >=1",
  ],
];

describe("op parse errors keep zod's English messages", () => {
  it.each(CASES)("%s", (_name, change, code, message) => {
    for (const parse of [parseOp, parseOpReference]) {
      const e = (() => {
        try {
          parse({ ...base, ...change });
        } catch (err) {
          return err;
        }
      })();
      expect(e).toBeInstanceOf(AspecError);
      expect({ code: (e as AspecError).code, message: (e as AspecError).message }).toEqual({ code, message });
    }
  });
});
