/**
 * Small promises of the certified-state helpers: the record store's version order and collection
 * (no replaced record kept after collect, also past the queue compaction), executed-ids entries
 * (adding an executed seq changes nothing; a peer's null entry is refused, not a throw), the log
 * chain's refusal of non-digests, and the results tree's refusal of a leaf it does not have.
 */
import { describe, expect, it } from "vitest";
import { entryAdd, isExecutedEntry } from "../../shared/certified/executed.js";
import { GENESIS_LOG_ROOT, nextLogRoot } from "../../shared/certified/log-chain.js";
import { MemoryRecordStore } from "../../shared/certified/record-store.js";
import { buildResultsTree, resultLeafHash, rootFromResultPath } from "../../shared/certified/results.js";
import type { OpResult } from "../../shared/certified/types.js";
import type { KeyRecord } from "../../shared/materialize.js";
import { lazy } from "../support/lazy.js";

const rec = (n: number): KeyRecord => ({ type: "counter", state: { n } as never });

describe("MemoryRecordStore", () => {
  it("refuses a version older than the last kept one, with a clear error", () => {
    const s = new MemoryRecordStore();
    s.setAt("a", rec(1), 5);
    expect(() => s.setAt("b", rec(2), 4)).toThrow(/set at a version older than the last one/);
  });

  it("once everything is collected, the order restarts (a store reloaded from a checkpoint)", () => {
    const s = new MemoryRecordStore();
    s.setAt("a", rec(1), 5);
    expect(s.collect(5)).toBe(1);
    s.setAt("b", rec(2), 3);
    expect(s.get("b")).toEqual(rec(2));
  });

  it("after collect, a key's replaced records are gone: reads as of any version see the current one", () => {
    const s = new MemoryRecordStore();
    s.setAt("a", rec(1), 1);
    s.setAt("a", rec(2), 2);
    expect(s.collect(2)).toBe(2);
    expect(s.getAt("a", 0)).toEqual(rec(2));
    const c = new MemoryRecordStore();
    c.setAt("a", rec(1), 1);
    c.setAt("a", rec(2), 2);
    const copy = c.clone();
    expect(copy.collect(2)).toBe(2);
    expect(copy.getAt("a", 0)).toEqual(rec(2));
    expect(copy.historySize).toBe(0);
  });

  it("keeps collecting correctly past the queue compaction (over 1024 collected replacements)", () => {
    const s = new MemoryRecordStore();
    for (let v = 1; v <= 1500; v++) s.setAt(`k${v % 7}`, rec(v), v);
    expect(s.collect(1400)).toBe(1400);
    expect(s.historySize).toBe(100);
    expect(s.getAt("k1", 1450)).toEqual(rec(1450));
    for (let v = 1501; v <= 1600; v++) s.setAt(`k${v % 7}`, rec(v), v);
    expect(s.historySize).toBe(200);
    expect(s.collect(1600)).toBe(200);
    expect(s.historySize).toBe(0);
    expect(s.get("k0")).toEqual(rec(1596));
  });
});

describe("executed-ids entries", () => {
  it("adding a seq already executed returns the entry unchanged (an op is executed once)", () => {
    const e = { floor: 5, above: [8] };
    expect(entryAdd(e, 8)).toBe(e);
    expect(entryAdd(e, 3)).toBe(e);
    expect(entryAdd(e, 7)).toEqual({ floor: 5, above: [7, 8] });
    expect(entryAdd({ floor: 5, above: [7, 9] }, 8)).toEqual({ floor: 5, above: [7, 8, 9] });
  });

  it("a peer's null, array or number entry is refused, never a throw", () => {
    expect(isExecutedEntry(null)).toBe(false);
    expect(isExecutedEntry(5)).toBe(false);
    expect(isExecutedEntry(["a", "b"])).toBe(false);
    expect(isExecutedEntry({ floor: 1, above: [3] })).toBe(true);
  });
});

describe("log chain", () => {
  it("refuses a malformed digest on either side with a clear error", () => {
    expect(() => nextLogRoot("zz", GENESIS_LOG_ROOT)).toThrow(/nextLogRoot: not a hex SHA-256 digest/);
    expect(() => nextLogRoot(GENESIS_LOG_ROOT, "zz")).toThrow(/nextLogRoot: not a hex SHA-256 digest/);
    expect(() => nextLogRoot(GENESIS_LOG_ROOT, "A".repeat(64))).toThrow(/not a hex SHA-256 digest/);
  });
});

describe("results tree", () => {
  const results: OpResult[] = [0, 1, 2].map((i): OpResult => ({ opId: `c:${i}`, status: "ok", value: i }));
  const tree = lazy(() => buildResultsTree(results)); // in the test, not at collection (lazy.ts says why)

  it("refuses to prove a leaf it does not have: past the end, negative, fractional", () => {
    expect(() => tree().prove(3)).toThrow(new RangeError("results: no leaf 3 in a batch of 3"));
    expect(() => tree().prove(-1)).toThrow(RangeError);
    expect(() => tree().prove(1.5)).toThrow(RangeError);
  });

  it("an audit path longer than its (index, count) shape folds to nothing", () => {
    const p = tree().prove(2);
    const leaf = resultLeafHash(results[2]!);
    expect(rootFromResultPath(leaf, 2, 3, p.path)).not.toBeNull();
    expect(rootFromResultPath(leaf, 2, 3, [...p.path, p.path[0]!])).toBeNull();
    expect(rootFromResultPath(leaf, 0, 1, [p.path[0]!])).toBeNull();
  });
});
