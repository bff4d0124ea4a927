/**
 * The in-memory record store (shared/certified/record-store.ts) on its own: versions only go
 * forward, and collection drops every replaced record (also past the queue compaction), so reads
 * as of any version then see the current one. The host contract both stores share is the
 * acceptance suite (store-acceptance.test.ts).
 */
import { describe, expect, it } from "vitest";
import { MemoryRecordStore } from "../../../shared/certified/record-store.js";
import type { KeyRecord } from "../../../shared/materialize.js";

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
