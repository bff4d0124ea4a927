/**
 * The replicate queue's messages, in plain Node: packing entries under the queue's byte cap in
 * order, and the receiver's parse, which keeps every good entry of a batch and puts null where an
 * entry is malformed (a hostile or buggy origin), so one bad entry costs only itself.
 */
import { describe, expect, it } from "vitest";
import { utf8Length } from "../../../shared/bytes.js";
import { generateKeyPair } from "../../../shared/crypto/keys.js";
import { signOp, type SignedOp } from "../../../shared/ops.js";
import { REPLICATE_MESSAGE_BYTES_MAX, packMessages, parseEntries } from "../../../shared/replication.js";

const k = await generateKeyPair();
const op = (seq: number, over: object = {}): Promise<SignedOp> =>
  signOp(k.secret, {
    client: k.publicKey,
    seq,
    key: "r/k",
    type: "counter",
    op: "add",
    args: { n: seq },
    ts: 1_800_000_000_000,
    ...over,
  });

describe("packMessages", () => {
  it("keeps order and cuts a message before the entry that would pass the byte cap", () => {
    // entries of about 40 KB (2-byte characters count twice): two fit in one message, not three
    const entry = (i: number) => JSON.stringify({ i, pad: "é".repeat(20_000) });
    const entries = [0, 1, 2, 3, 4].map(entry);
    const out = packMessages("weur", entries);
    expect(out.map((m) => (JSON.parse(m.entries) as { i: number }[]).map((e) => e.i))).toEqual([
      [0, 1],
      [2, 3],
      [4],
    ]);
    for (const m of out) {
      expect(Object.keys(m)).toEqual(["origin", "entries"]); // no targets field when absent
      expect(utf8Length(m.entries)).toBeLessThanOrEqual(REPLICATE_MESSAGE_BYTES_MAX);
    }
  });

  it("fills a message to exactly the cap, counting one separator byte per entry", () => {
    // n entries of s bytes take n·(s+1) counted bytes: the cap is reached exactly, not passed
    const s = REPLICATE_MESSAGE_BYTES_MAX / 4 - 1;
    const entries = Array.from({ length: 5 }, (_, i) => JSON.stringify("x".repeat(s - 3) + i));
    expect(utf8Length(entries[0]!)).toBe(s);
    expect(packMessages("a", entries).map((m) => (JSON.parse(m.entries) as string[]).length)).toEqual([4, 1]);
    // 5 × (19,660 + 1) passes the cap by one byte: the fifth goes in the next message
    const e5 = Array.from({ length: 5 }, (_, i) => JSON.stringify("y".repeat(19_660 - 3) + i));
    expect(packMessages("a", e5).map((m) => (JSON.parse(m.entries) as string[]).length)).toEqual([4, 1]);
  });

  it("sends an entry larger than the cap alone rather than dropping it; no entries, no message", () => {
    const big = JSON.stringify("x".repeat(REPLICATE_MESSAGE_BYTES_MAX + 10));
    const out = packMessages("a", ['"s"', big, '"t"']);
    expect(out.map((m) => m.entries)).toEqual(['["s"]', `[${big}]`, '["t"]']);
    expect(packMessages("a", [])).toEqual([]);
    expect(packMessages("a", [big, '"t"']).map((m) => m.entries)).toEqual([`[${big}]`, '["t"]']); // no empty message first
  });

  it("a re-send names its targets in every message", () => {
    const out = packMessages("apac", ["1", "2"], ["enam"]);
    expect(out).toEqual([{ origin: "apac", entries: "[1,2]", targets: ["enam"] }]);
  });
});

describe("parseEntries", () => {
  it("returns each well-formed entry as sent, keeping reason and pos only when present", async () => {
    const [a, b] = [await op(1), await op(2)];
    const sent = [
      { op: a, status: "ok", effect: { n: 1 }, pos: 1 },
      { op: b, status: "rejected", reason: "insufficient_funds", effect: null },
    ];
    const got = parseEntries(JSON.stringify(sent));
    expect(got).toEqual(sent);
    expect(Object.keys(got[1]!)).not.toContain("pos");
    expect(Object.keys(got[0]!)).not.toContain("reason");
  });

  it("not JSON, or not an array: one null (the whole message is bad)", () => {
    expect(parseEntries("{not json")).toEqual([null]);
    expect(parseEntries('{"op":1}')).toEqual([null]);
    expect(parseEntries("[]")).toEqual([]);
  });

  it("a malformed entry is null in its place; the rest of the batch is kept", async () => {
    const good = { op: await op(3), status: "ok", effect: { n: 3 } };
    const bad: unknown[] = [
      null,
      { ...good, status: "maybe" },
      { ...good, reason: "r".repeat(65) },
      { ...good, pos: 0 },
      { ...good, pos: 1.5 },
      { ...good, op: { ...good.op, type: "nope" } },
      { ...good, effect: { n: "3" } }, // not a counter effect
      { ...good, effect: { v: 1 } },
    ];
    for (const x of bad) {
      const got = parseEntries(JSON.stringify([good, x, good]));
      expect(got, JSON.stringify(x).slice(0, 80)).toEqual([good, null, good]);
    }
    // the bounds themselves are fine
    expect(
      parseEntries(JSON.stringify([{ ...good, reason: "r".repeat(64), pos: Number.MAX_SAFE_INTEGER }])),
    ).toEqual([{ ...good, reason: "r".repeat(64), pos: Number.MAX_SAFE_INTEGER }]);
  });
});
