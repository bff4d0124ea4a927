// shared/kv-list.ts: the listing's query grammar and bounds, the opaque cursor, and one page's
// assembly from records in byte order (prefix end, limit, byte bound).
import { describe, expect, it } from "vitest";
import { AspecError } from "../../../shared/errors.js";
import {
  compareKeys,
  decodeCursor,
  encodeCursor,
  LIST_LIMIT_DEFAULT,
  LIST_LIMIT_MAX,
  listPage,
  parseListQuery,
  prefixProblem,
} from "../../../shared/kv-list.js";
import type { KeyRecord } from "../../../shared/materialize.js";
import { HLC_ZERO } from "../../../shared/hlc.js";

const counter = (n: number): KeyRecord => ({ type: "counter", state: n });
const rows = (keys: string[]) =>
  [...keys].sort(compareKeys).map((key, i) => ({ key, record: counter(i + 1) }));
const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e instanceof AspecError ? e.code : String(e);
  }
  return "none";
};

describe("the cursor", () => {
  it.each(["a", "wallet/alice", "é/\u{1F600}", "x".repeat(256), "..a"])("round-trips %s", (key) => {
    const c = encodeCursor(key);
    expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(c)).toBe(key);
  });

  it.each([
    ["not base64url", "a+b/"],
    ["padded", `${encodeCursor("ab")}=`],
    ["non-canonical trailing bits", "YR"],
    ["not UTF-8", "_w"],
    ["the empty key", ""],
    ["a key with a control character", encodeCursor("a\u0001")],
    ["a key past the bound", encodeCursor("x".repeat(257))],
    ["a key no URL can name", encodeCursor("..")],
  ])("refuses a cursor %s", (_what, cursor) => {
    expect(decodeCursor(cursor)).toBeNull();
  });
});

describe("the query", () => {
  it("defaults: the whole key space, 100 keys a page, from the start", () => {
    expect(parseListQuery({})).toEqual({ prefix: "", after: null, limit: LIST_LIMIT_DEFAULT });
  });

  it("takes limits 1 to 1,000 and a cursor inside the prefix", () => {
    expect(parseListQuery({ limit: "1" }).limit).toBe(1);
    expect(parseListQuery({ limit: String(LIST_LIMIT_MAX) }).limit).toBe(LIST_LIMIT_MAX);
    expect(parseListQuery({ prefix: "a/", cursor: encodeCursor("a/b") })).toMatchObject({ after: "a/b" });
  });

  it.each([
    ["limit 0", { limit: "0" }],
    ["limit 1,001", { limit: String(LIST_LIMIT_MAX + 1) }],
    ["a negative limit", { limit: "-1" }],
    ["a fractional limit", { limit: "1.5" }],
    ["a limit with a leading zero", { limit: "07" }],
    ["an empty limit", { limit: "" }],
    ["a prefix with a control character", { prefix: "a\n" }],
    ["a prefix with a lone surrogate", { prefix: "a\uD800" }],
    ["a prefix past the key bound", { prefix: "é".repeat(129) }],
    ["a cursor outside the prefix", { prefix: "a/", cursor: encodeCursor("b") }],
    ["a cursor that is no cursor", { cursor: "%%" }],
  ])("refuses %s with invalid_request", (_what, q) => {
    expect(codeOf(() => parseListQuery(q))).toBe("invalid_request");
  });

  it("a prefix may be what no key is alone (empty, `.`), up to the key bound", () => {
    for (const p of ["", ".", "..", "x".repeat(256)]) expect(prefixProblem(p)).toBeNull();
    expect(prefixProblem("x".repeat(257))).not.toBeNull();
  });
});

describe("one page", () => {
  const none = () => null;

  it("stops at the first key outside the prefix, with no cursor", () => {
    const page = listPage(rows(["a/1", "a/2", "b/1"]), { prefix: "a/", after: null, limit: 10 }, none);
    expect(page.entries.map((e) => e.key)).toEqual(["a/1", "a/2"]);
    expect(page.cursor).toBeNull();
  });

  it("stops at the limit with the cursor of its last key only when another key follows", () => {
    const q = { prefix: "", after: null, limit: 2 };
    const full = listPage(rows(["k1", "k2", "k3"]), q, none);
    expect(full.entries.map((e) => e.key)).toEqual(["k1", "k2"]);
    expect(full.cursor).toBe(encodeCursor("k2"));
    expect(listPage(rows(["k1", "k2"]), q, none).cursor).toBeNull();
  });

  it("skips deleted keys (their tombstones), and past scanMax rows stops short with the last row's cursor", () => {
    const tomb: KeyRecord = { type: "register", state: { tomb: true, stamp: HLC_ZERO, client: "c", seq: 1 } };
    const src = ["k1", "k2", "k3", "k4", "k5"].map((key, i) => ({ key, record: i % 2 ? tomb : counter(i) }));
    const all = listPage(src, { prefix: "", after: null, limit: 10 }, none);
    expect(all.entries.map((e) => e.key)).toEqual(["k1", "k3", "k5"]);
    expect(all.cursor).toBeNull();
    // three rows read (k1, k2 deleted, k3), the fourth is there: a page of two and a cursor at k3
    const short = listPage(src, { prefix: "", after: null, limit: 10 }, none, undefined, 3);
    expect(short.entries.map((e) => e.key)).toEqual(["k1", "k3"]);
    expect(short.cursor).toBe(encodeCursor("k3"));
    // only deleted rows within the bound: an empty page that still moves on
    const empty = listPage(src.slice(1), { prefix: "", after: null, limit: 10 }, none, undefined, 1);
    expect(empty).toEqual({ entries: [], cursor: encodeCursor("k2") });
  });

  it("gives each entry its tentative value and its certified value as of the seq", () => {
    const page = listPage(rows(["a", "b"]), { prefix: "", after: null, limit: 5 }, (key) =>
      key === "a" ? { seq: 7, record: counter(5) } : { seq: 7, record: undefined },
    );
    expect(page.entries).toEqual([
      { key: "a", type: "counter", value: 1, certified: { seq: 7, value: 5 } },
      { key: "b", type: "counter", value: 2, certified: null },
    ]);
  });

  it("ends early rather than pass the byte bound, and elides an entry too large alone", () => {
    const big = (key: string, n: number) => ({
      key,
      record: {
        type: "register" as const,
        state: { v: "x".repeat(n), stamp: { wall: 1, logical: 0 }, client: "c", seq: 1 },
      },
    });
    const q = { prefix: "", after: null, limit: 100 };
    const page = listPage([big("a", 400), big("b", 400), big("c", 400)], q, none, 1000);
    expect(page.entries.map((e) => e.key)).toEqual(["a", "b"]);
    expect(page.cursor).toBe(encodeCursor("b"));
    const alone = listPage([big("a", 5000), big("b", 10)], q, none, 1000);
    expect(alone.entries[0]).toEqual({
      key: "a",
      type: "register",
      value: null,
      certified: null,
      elided: true,
    });
    expect(alone.entries[1]!.key).toBe("b");
  });
});

describe("byte order", () => {
  it("compares UTF-8 bytes: U+FF01 before U+1F600, unlike UTF-16 string order", () => {
    expect("\u{1F600}" < "\uFF01").toBe(true);
    expect(compareKeys("\uFF01", "\u{1F600}")).toBeLessThan(0);
    expect(compareKeys("a", "ab")).toBeLessThan(0);
    expect(compareKeys("b", "ab")).toBeGreaterThan(0);
    expect(compareKeys("é", "é")).toBe(0);
  });
});
