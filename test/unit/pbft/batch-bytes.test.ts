/**
 * The batch byte count (shared/pbft/batch-bytes.ts): exact where JSON has one encoding (ASCII
 * without escapes, 2-byte UTF-8, arrays, objects), an upper bound where an escape could be shorter,
 * and never below the real UTF-8 length of `JSON.stringify` — the bound a backup refuses batches by.
 */
import { describe, expect, it } from "vitest";
import { batchBytes, batchBytesLimit, jsonBytes, opBytes } from "../../../shared/pbft/batch-bytes.js";
import { DEFAULT_PBFT_CONFIG as D } from "../../../shared/pbft/config.js";
import type { SignedOp } from "../../../shared/ops.js";

const utf8Bytes = (v: unknown) => new TextEncoder().encode(JSON.stringify(v)).length;

describe("jsonBytes", () => {
  it("is exact for plain values, arrays and objects", () => {
    const exact: unknown[] = [
      "",
      " ",
      "a b~",
      'q"uote',
      "back\\slash",
      "é",
      "߿", // U+07FF: the last 2-byte unit
      12.5,
      -3,
      true,
      false,
      null,
      [],
      [1],
      [1, "x", [2, []]],
      {},
      { a: 1 },
      { a: [1, 2], "b c": { d: null }, e: "é" },
    ];
    for (const v of exact) expect(jsonBytes(v), JSON.stringify(v)).toBe(utf8Bytes(v));
  });

  it("leaves out undefined fields as JSON does", () => {
    expect(jsonBytes({ a: undefined, b: 1 })).toBe(utf8Bytes({ b: 1 }));
    expect(jsonBytes({ a: undefined })).toBe(2);
  });

  it("counts more than UTF-8 where it does not look closer: control characters, DEL, 3-byte units, surrogates", () => {
    expect(jsonBytes("\u0001")).toBe(2 + 6); // "\u0001"
    expect(jsonBytes("\u001f")).toBe(2 + 6);
    expect(jsonBytes("\u007f")).toBe(2 + 2); // DEL: one byte in UTF-8, counted as two
    expect(jsonBytes("ࠀ")).toBe(2 + 6); // U+0800: the first 3-byte unit
    expect(jsonBytes("😀")).toBe(2 + 12); // a surrogate pair: 4 bytes in UTF-8
  });

  it("is never below the UTF-8 length of JSON.stringify", () => {
    const units = ["a", " ", '"', "\\", "\n", "\u0000", "\u007f", "é", "߿", "ࠀ", "€", "😀", "\ud800"];
    let x = 7;
    const rnd = (n: number) => ((x = (x * 1103515245 + 12345) % 2 ** 31), x % n);
    for (let t = 0; t < 300; t++) {
      const s = Array.from({ length: rnd(12) }, () => units[rnd(units.length)]).join("");
      const v = { [s]: [s, rnd(1000), { k: s }], n: null };
      expect(jsonBytes(v)).toBeGreaterThanOrEqual(utf8Bytes(v));
    }
  });

  it("is never above 3 × the UTF-8 length of JSON.stringify (OP_BYTES_COUNTED_MAX's factor)", () => {
    for (const u of ["a", '"', "\n", "\u0000", "\u007f", "é", "ࠀ", "€", "😀", "\ud800"]) {
      const v = { k: u.repeat(100) };
      expect(jsonBytes(v), JSON.stringify(u)).toBeLessThanOrEqual(3 * utf8Bytes(v));
    }
    expect(jsonBytes("😀".repeat(100))).toBe(2 + 1200); // 402 bytes of UTF-8: the worst case
  });

  it("counts what JSON cannot hold as nothing", () => {
    expect(jsonBytes(undefined)).toBe(0);
    expect(jsonBytes(() => 1)).toBe(0);
  });
});

describe("opBytes and batchBytes", () => {
  const op = (n: number) =>
    ({ client: "c", seq: n, key: "k", type: "counter", op: "add", args: { n }, ts: 1, sig: "s" }) as SignedOp;

  it("an op's bytes are its JSON's, and a batch's the sum of its ops'", () => {
    const a = op(1);
    const b = op(22);
    expect(opBytes(a)).toBe(utf8Bytes(a));
    expect(opBytes(a)).toBe(opBytes(a)); // remembered
    expect(batchBytes([a, b])).toBe(utf8Bytes(a) + utf8Bytes(b));
    expect(batchBytes([])).toBe(0);
  });
});

describe("batchBytesLimit", () => {
  const huge = 1e9;
  // 1,024 bytes per node around a batch: with n = 4, 4,096 off each message bound
  it("leaves each message room for n nodes' overhead around one batch", () => {
    expect(
      batchBytesLimit({ ...D, batchBytesMax: huge, bulkMessageBytesMax: huge, messageBytesMax: 100_000 }, 4),
    ).toBe(100_000 - 4 * 1024);
    expect(
      batchBytesLimit({ ...D, batchBytesMax: huge, bulkMessageBytesMax: huge, messageBytesMax: 100_000 }, 7),
    ).toBe(100_000 - 7 * 1024);
  });

  it("fits n × logWindowSeqs batches (and their overhead) in one bulk message", () => {
    const cfg = {
      ...D,
      batchBytesMax: huge,
      messageBytesMax: huge,
      bulkMessageBytesMax: 4_000_000,
      logWindowSeqs: 10,
    };
    expect(batchBytesLimit(cfg, 4)).toBe(4_000_000 / 40 - 4 * 1024);
  });

  it("is never above the configured batchBytesMax", () => {
    expect(
      batchBytesLimit({ ...D, batchBytesMax: 5_000, bulkMessageBytesMax: huge, messageBytesMax: huge }, 4),
    ).toBe(5_000);
  });
});
