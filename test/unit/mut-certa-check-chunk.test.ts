/**
 * A peer's state-transfer chunk (Byzantine input): `checkChunk` refuses each malformed shape with
 * its own reason and never throws; `serveChunk` splits at the byte limit and refuses a leaf whose
 * record is gone; `adopt` refuses a state with a key the checkpoint lacks.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { canonicalJson } from "../../shared/canonical.js";
import { utf8Length, toHex } from "../../shared/bytes.js";
import { EXECUTED_TYPE, executedKey } from "../../shared/certified/executed.js";
import { EMPTY_HASH, keyHashOf } from "../../shared/certified/hashing.js";
import { MemoryNodeStore } from "../../shared/certified/node-store.js";
import { MemoryRecordStore } from "../../shared/certified/record-store.js";
import { MerkleStateMachine, buildStateMap } from "../../shared/certified/state-machine.js";
import type { ChunkRecord, StateChunk } from "../../shared/certified/types.js";
import type { KeyRecord } from "../../shared/materialize.js";
import type { SignedOp } from "../../shared/ops.js";
import { op } from "../support/trusted-ops.js";

const D = "ab".repeat(32);
const BIG = { records: 1000, bytes: 1 << 20 };

function machine(keys: string[]): MerkleStateMachine {
  const sm = new MerkleStateMachine();
  sm.execute(
    keys.map((k) => op(k, "counter", "add", { n: 1 })),
    1,
  );
  return sm;
}

/** A key whose hash starts with the given bit. */
const keyWithBit = (bit: 0 | 1): string => {
  for (let i = 0; ; i++) if (keyHashOf(`q${i}`)[0]! >> 7 === bit) return `q${i}`;
};

describe("checkChunk: each malformed chunk gets its reason", () => {
  // Per test, not while tests are collected (test/support/lazy.ts says why).
  let sm: MerkleStateMachine;
  let root: string;
  let full: { records: ChunkRecord[] };
  beforeEach(() => {
    sm = machine(["a", "b", "c"]);
    root = sm.stateRoot();
    full = sm.serveChunk(sm.handle(), 1, "", BIG) as { records: ChunkRecord[] };
  });
  const check = (path: unknown, expected: unknown, chunk: unknown) =>
    sm.checkChunk(path as string, expected as string, chunk as StateChunk);

  it("accepts the honest whole-state chunk", () => {
    expect(full.records.length).toBe(4); // three keys and the client's executed-ids record
    expect(check("", root, full)).toEqual({ ok: true, records: full.records });
  });

  it("bad_path: not a string, not bits, too long, or a non-digest expected hash", () => {
    expect(check(5, root, full)).toEqual({ ok: false, reason: "bad_path" });
    expect(check("2", root, full)).toEqual({ ok: false, reason: "bad_path" });
    for (const bits of [0, 1, 10]) expect(check(bits, root, full)).toEqual({ ok: false, reason: "bad_path" });
    expect(check("0".repeat(257), D, { records: [] })).toEqual({ ok: false, reason: "bad_path" });
    expect(check("", "nothex", full)).toEqual({ ok: false, reason: "bad_path" });
  });

  it("a path of the full depth (256 bits) is a path: its records are hash-checked, it cannot split", () => {
    expect(check("0".repeat(256), D, { records: [] })).toEqual({ ok: false, reason: "records_hash" });
    expect(check("0".repeat(256), D, { split: [D, D] })).toEqual({ ok: false, reason: "bad_split" });
  });

  it("bad_chunk: null, a string, neither split nor records, records not a list", () => {
    expect(check("", root, null)).toEqual({ ok: false, reason: "bad_chunk" });
    expect(check("", root, "x")).toEqual({ ok: false, reason: "bad_chunk" });
    expect(check("", root, {})).toEqual({ ok: false, reason: "bad_chunk" });
    expect(check("", root, { records: 5 })).toEqual({ ok: false, reason: "bad_chunk" });
  });

  it("empty_subtree: nothing to fetch under the empty hash", () => {
    expect(check("", toHex(EMPTY_HASH), full)).toEqual({ ok: false, reason: "empty_subtree" });
  });

  it("bad_split / split_hash", () => {
    expect(check("", root, { split: "x" })).toEqual({ ok: false, reason: "bad_split" });
    expect(check("", root, { split: [D, D, D] })).toEqual({ ok: false, reason: "bad_split" });
    expect(check("", root, { split: [D, "zz"] })).toEqual({ ok: false, reason: "bad_split" });
    expect(check("", root, { split: [D, D] })).toEqual({ ok: false, reason: "split_hash" });
  });

  it("bad_record: each malformed item, a repeated key, a state that cannot be hashed", () => {
    const good = full.records[0]!;
    const bad: unknown[] = [
      "x",
      [good[0], good[1]],
      [5, good[1], good[2]],
      [good[0], 5, good[2]],
      ["", good[1], good[2]],
      [good[0], "nope", good[2]],
      [executedKey("c"), EXECUTED_TYPE, null],
      [executedKey("c"), "counter", { floor: 1, above: [] }],
      [good[0], "counter", undefined],
      [...good, "extra"], // an honest record with a fourth element
      { 0: good[0], 1: good[1], 2: good[2], length: 3 }, // array-like, not an array
    ];
    for (const item of bad)
      expect(check("", root, { records: [item] }), JSON.stringify(item)).toEqual({
        ok: false,
        reason: "bad_record",
      });
    expect(check("", root, { records: [good, good] })).toEqual({ ok: false, reason: "bad_record" });
  });

  it("record_off_path: a record whose key hash is not under the path", () => {
    const one = machine([keyWithBit(1)]);
    const recs = (one.serveChunk(one.handle(), 1, "", BIG) as { records: ChunkRecord[] }).records;
    expect(one.checkChunk("0", D, { records: recs })).toEqual({ ok: false, reason: "record_off_path" });
  });
});

describe("serveChunk", () => {
  it("an empty state serves an empty records chunk", () => {
    const sm = new MerkleStateMachine();
    expect(sm.serveChunk(sm.handle(), 0, "", BIG)).toEqual({ records: [] });
  });

  it("splits exactly when the records' bytes pass the limit", () => {
    const sm = machine(["a", "b", "c", "d"]);
    const full = sm.serveChunk(sm.handle(), 1, "", BIG) as { records: ChunkRecord[] };
    const bytes = full.records.reduce((n, r) => n + utf8Length(canonicalJson(r)), 0);
    expect(sm.serveChunk(sm.handle(), 1, "", { records: 1000, bytes })).toEqual(full);
    expect("split" in sm.serveChunk(sm.handle(), 1, "", { records: 1000, bytes: bytes - 1 })).toBe(true);
  });

  it("refuses (a clear error) to serve a leaf whose record it does not have", () => {
    const sm = machine(["a", "b"]);
    const noRecords = new MerkleStateMachine({ records: new MemoryRecordStore(), nodes: sm.stores.nodes });
    expect(() => noRecords.serveChunk(noRecords.handle(), 1, "", BIG)).toThrow(/a leaf without its record/);
    // the key is known, but not as of the version asked for
    const later = new MemoryRecordStore();
    for (const k of ["a", "b"]) later.setAt(k, sm.get(k)!, 10);
    const stale = new MerkleStateMachine({ records: later, nodes: sm.stores.nodes });
    expect(() => stale.serveChunk(stale.handle(), 1, "", BIG)).toThrow(/a leaf without its record/);
  });
});

describe("adopt", () => {
  it("refuses a checkpoint that lacks a key this node has, even with as many keys", () => {
    const mine = machine([keyWithBit(0)]);
    const theirs = machine(["other"]);
    const recs = (theirs.serveChunk(theirs.handle(), 1, "", BIG) as { records: ChunkRecord[] }).records;
    expect(recs.length).toBe(2); // "other" and the same client's executed-ids record
    expect(mine.adopt([["", recs]], 2)).toBeNull();
  });

  it("writes nothing for records it already has unchanged", () => {
    const sm = machine(["a", "b"]);
    const recs = (sm.serveChunk(sm.handle(), 1, "", BIG) as { records: ChunkRecord[] }).records;
    const records = sm.stores.records as MemoryRecordStore;
    const before = records.historySize;
    expect(sm.adopt([["", recs]], 2)).toBe(sm.stateRoot());
    expect(records.historySize).toBe(before);
  });
});

describe("execute: op ids that are not ids", () => {
  it("a seq below 1 or a missing key is executed and rejected as invalid_op, never skipped", () => {
    const sm = new MerkleStateMachine();
    const zero: SignedOp = { ...op("z", "counter", "add", { n: 1 }), seq: 0 };
    const neg: SignedOp = { ...op("z", "counter", "add", { n: 1 }), seq: -1 };
    const noKey = { ...op("z", "counter", "add", { n: 1 }) } as Partial<SignedOp>;
    delete noKey.key;
    const out = sm.execute([zero, neg, noKey as SignedOp], 1);
    expect(out.ops.length).toBe(3);
    expect(out.results.map((r) => [r.status, r.reason, r.value])).toEqual([
      ["rejected", "invalid_op", null],
      ["rejected", "invalid_op", null],
      ["rejected", "invalid_op", null],
    ]);
  });

  it("counts tree hashes (benchmarks read hashCount)", () => {
    const sm = machine(["a", "b"]);
    expect(sm.hashCount).toBeGreaterThan(0);
  });
});

describe("buildStateMap", () => {
  it("builds into the node store it is given", () => {
    const store = new MemoryNodeStore();
    const sm = machine(["a"]);
    const recs: [string, KeyRecord][] = [["a", sm.get("a")!]];
    const map = buildStateMap(recs, store);
    expect(map.root()).toBe(buildStateMap(recs).root());
    expect(new MerkleStateMachine({ records: new MemoryRecordStore(), nodes: store }).stateRoot()).toBe(
      map.root(),
    );
  });
});
