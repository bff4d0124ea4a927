// The in-memory Merkle node store (shared/certified/node-store.ts) on its own: ids it never handed
// out are refused loudly, retirement keeps its version order and stays bounded, freed leaf slots are
// reused, and a clone shares nothing with the original.
import { describe, expect, it } from "vitest";
import { MemoryNodeStore, type MerkleNode } from "../../../shared/certified/node-store.js";

const bytes = (b: number): Uint8Array => new Uint8Array(32).fill(b);
const leaf = (b: number): MerkleNode => ({
  kind: "leaf",
  keyHash: bytes(b),
  valueHash: bytes(b + 1),
  hash: bytes(b + 2),
});
const inner = (b: number): MerkleNode => ({ kind: "inner", left: 0, right: 0, hash: bytes(b) });

/** A store whose slot arrays are exactly full: the next id is one past their end. */
function fullStore(): MemoryNodeStore {
  const s = new MemoryNodeStore();
  for (let i = 0; i < 1023; i++) s.add(inner(i & 0xff));
  return s;
}

describe("MemoryNodeStore refuses ids it never handed out (a corrupt tree must fail loudly, never silently)", () => {
  it("remove of a negative, out-of-range, one-past-the-end or already-removed id throws and changes nothing", () => {
    const s = new MemoryNodeStore();
    const id = s.add(leaf(1));
    expect(() => s.remove(-1)).toThrow(/remove of absent node -1/);
    expect(() => s.remove(1_000_000)).toThrow(/remove of absent node 1000000/);
    s.remove(id);
    expect(() => s.remove(id)).toThrow(`merkle store: remove of absent node ${id}`);
    expect(s.size).toBe(0);
    const full = fullStore();
    expect(() => full.remove(1024)).toThrow(/remove of absent node 1024/);
    expect(full.size).toBe(1023);
    // nothing bogus went onto the free list: the next add gets a fresh, distinct slot
    const a = full.add(inner(7));
    const b = full.add(inner(8));
    expect(a).toBe(1024);
    expect(b).toBe(1025);
  });

  it("retire of a negative, out-of-range, one-past-the-end or removed id throws", () => {
    const s = new MemoryNodeStore();
    const id = s.add(leaf(1));
    expect(() => s.retire(-1, 0)).toThrow(/retire of absent node -1/);
    expect(() => s.retire(0, 0)).toThrow(/retire of absent node 0/);
    expect(() => s.retire(1_000_000, 0)).toThrow(/retire of absent node 1000000/);
    s.remove(id);
    expect(() => s.retire(id, 0)).toThrow(`merkle store: retire of absent node ${id}`);
    expect(s.retiredCount).toBe(0);
    expect(() => fullStore().retire(1024, 0)).toThrow(/retire of absent node 1024/);
  });

  it("copyHash of a negative, out-of-range, one-past-the-end or removed id throws", () => {
    const s = new MemoryNodeStore();
    const id = s.add(leaf(1));
    const out = new Uint8Array(32);
    expect(() => s.copyHash(-1, out, 0)).toThrow(/missing node -1 \(corrupt store\)/);
    expect(() => s.copyHash(1_000_000, out, 0)).toThrow(/missing node 1000000/);
    s.remove(id);
    expect(() => s.copyHash(id, out, 0)).toThrow(`merkle store: missing node ${id} (corrupt store)`);
    expect(() => fullStore().copyHash(1024, out, 0)).toThrow(/missing node 1024/);
  });

  it("copyHash writes exactly the 32 hash bytes at the offset and nothing past them", () => {
    const s = new MemoryNodeStore();
    const id = s.add(inner(0x11));
    const out = new Uint8Array(96).fill(0xaa);
    s.copyHash(id, out, 32);
    expect(out.subarray(0, 32)).toEqual(new Uint8Array(32).fill(0xaa));
    expect(out.subarray(32, 64)).toEqual(bytes(0x11));
    expect(out.subarray(64)).toEqual(new Uint8Array(32).fill(0xaa));
  });
});

describe("MemoryNodeStore retirement", () => {
  it("a retire at a version older than a pending one is refused", () => {
    const s = new MemoryNodeStore();
    const a = s.add(leaf(1));
    const b = s.add(leaf(4));
    s.retire(a, 5);
    expect(() => s.retire(b, 3)).toThrow("merkle store: retire at a version older than the last one");
    expect(s.retiredCount).toBe(1);
  });

  it("once every retired node is collected, the next retire may use any version (nothing pending to order against)", () => {
    const s = new MemoryNodeStore();
    const a = s.add(leaf(1));
    const b = s.add(leaf(4));
    s.retire(a, 5);
    expect(s.collect(5)).toBe(1);
    expect(() => s.retire(b, 3)).not.toThrow();
    expect(s.collect(3)).toBe(1);
    expect(s.size).toBe(0);
  });

  it("a long-running store's retirement log stays bounded: collected entries are dropped", () => {
    const s = new MemoryNodeStore();
    for (let v = 0; v < 3000; v++) {
      s.retire(s.add(inner(v & 0xff)), v);
      s.collect(v);
    }
    expect(s.retiredCount).toBe(0);
    const log = s as unknown as { retiredAt: number[] };
    expect(log.retiredAt.length).toBeLessThanOrEqual(1025);
    // and when a large backlog is collected in one go
    for (let v = 3000; v < 5000; v++) s.retire(s.add(inner(v & 0xff)), v);
    expect(s.collect(5000)).toBe(2000);
    expect(s.retiredCount).toBe(0);
    expect(log.retiredAt.length).toBeLessThanOrEqual(1025);
  });

  it("removed leaves give their byte slot back: churn does not grow the leaf memory", () => {
    const s = new MemoryNodeStore();
    const keep = s.add(leaf(9));
    for (let i = 0; i < 3000; i++) s.remove(s.add(leaf(i & 0x7f)));
    expect((s as unknown as { leafBytes: Uint8Array }).leafBytes.length).toBe(1024 * 64);
    expect(s.get(keep)).toMatchObject({ kind: "leaf", keyHash: bytes(9), valueHash: bytes(10) });
  });
});

describe("MemoryNodeStore.clone is independent (the simulator's disk must not change when the live store does)", () => {
  it("removing a leaf in the clone and then adding in the original leaves the original's leaf intact", () => {
    const orig = new MemoryNodeStore();
    const x = orig.add(leaf(1));
    const c = orig.clone();
    c.remove(x);
    const z = orig.add(leaf(50));
    expect(z).not.toBe(x);
    expect(orig.get(x)).toMatchObject({
      kind: "leaf",
      keyHash: bytes(1),
      valueHash: bytes(2),
      hash: bytes(3),
    });
    expect(orig.get(z)).toMatchObject({ kind: "leaf", keyHash: bytes(50), valueHash: bytes(51) });
  });

  it("reusing a leaf slot in the clone does not overwrite the original's leaf bytes", () => {
    const orig = new MemoryNodeStore();
    const x = orig.add(leaf(1));
    const c = orig.clone();
    c.remove(x);
    const y = c.add(leaf(70));
    expect(c.get(y)).toMatchObject({ kind: "leaf", keyHash: bytes(70), valueHash: bytes(71) });
    expect(orig.get(x)).toMatchObject({ kind: "leaf", keyHash: bytes(1), valueHash: bytes(2) });
  });
});
