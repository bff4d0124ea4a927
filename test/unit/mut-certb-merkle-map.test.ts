import { describe, expect, it } from "vitest";
import { toHex } from "../../shared/bytes.js";
import { sha256 } from "../../shared/hash.js";
import { keyHashOf } from "../../shared/certified/hashing.js";
import { AuthMap, subtreeHashOf, type HashedEntry } from "../../shared/certified/merkle-map.js";
import { MemoryNodeStore } from "../../shared/certified/node-store.js";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const KEYS = Array.from({ length: 40 }, (_, i) => `key-${i}`);
const entries = (): [string, Uint8Array][] => KEYS.map((k) => [k, enc(`value of ${k}`)]);
const hashed = (): HashedEntry[] =>
  entries().map(([k, v]) => ({ keyHash: keyHashOf(k), valueHash: sha256(v) }));

describe("AuthMap.build commits to exactly the entries it is given", () => {
  it("build over hashed entries has the same root as fromEntries and as inserting one by one", () => {
    const incremental = new AuthMap();
    for (const [k, v] of entries()) incremental.set(k, v);
    expect(AuthMap.build(hashed()).root()).toBe(incremental.root());
    expect(AuthMap.fromEntries(entries()).root()).toBe(incremental.root());
    expect(AuthMap.build([]).root()).toBe(new AuthMap().root());
  });

  it("packed hashes of unequal or partial length are refused with a clear message", () => {
    expect(() => AuthMap.buildPacked(new Uint8Array(64), new Uint8Array(32))).toThrow(
      "AuthMap.build: packed hashes of unequal or partial length",
    );
    expect(() => AuthMap.buildPacked(new Uint8Array(33), new Uint8Array(33))).toThrow(
      /unequal or partial length/,
    );
  });

  it("a duplicate key is refused, never built into a tree that commits to it twice", () => {
    const e = { keyHash: new Uint8Array(32).fill(0xff), valueHash: new Uint8Array(32).fill(1) };
    const f = { keyHash: new Uint8Array(32).fill(0xff), valueHash: new Uint8Array(32).fill(2) };
    expect(() => AuthMap.build([e, f])).toThrow("AuthMap.build: duplicate key");
    expect(() => subtreeHashOf([e, f], 0)).toThrow("subtreeHashOf: duplicate key");
  });

  it("two different key hashes that agree on all 256 bits are refused with a clear message", () => {
    const m = new AuthMap();
    const kh = new Uint8Array(32).fill(0x5a);
    const longer = new Uint8Array(33).fill(0x5a);
    m.setHashed(kh, new Uint8Array(32).fill(1));
    expect(() => m.setHashed(longer, new Uint8Array(32).fill(2))).toThrow(
      "merkle map: two keys with one SHA-256 (impossible)",
    );
  });
});

describe("AuthMap reads", () => {
  it("valueHashOf returns each present key's value hash and undefined for absent keys", () => {
    const m = AuthMap.fromEntries(entries());
    for (const [k, v] of entries()) expect(toHex(m.valueHashOf(k)!)).toBe(toHex(sha256(v)));
    for (let i = 0; i < 40; i++) expect(m.valueHashOf(`absent-${i}`)).toBeUndefined();
    expect(new AuthMap().valueHashOf("x")).toBeUndefined();
  });

  it("a value hash handed out is a copy: scribbling on it changes neither the map nor its root", () => {
    const m = AuthMap.fromEntries(entries());
    const root = m.root();
    m.valueHashOf("key-3")!.fill(0);
    const leaves = m.leavesUnder(m.store.getRoot(), 100)!;
    expect(leaves).toHaveLength(40);
    for (const l of leaves) {
      l.keyHash.fill(0);
      l.valueHash.fill(0);
    }
    expect(toHex(m.valueHashOf("key-3")!)).toBe(toHex(sha256(enc("value of key-3"))));
    const again = m.leavesUnder(m.store.getRoot(), 100)!;
    expect(again.map((l) => toHex(l.keyHash)).sort()).toEqual(
      hashed()
        .map((e) => toHex(e.keyHash))
        .sort(),
    );
    expect(m.root()).toBe(root);
    // the store itself still hashes to the same root from scratch
    expect(AuthMap.build(again).root()).toBe(root);
  });

  it("childHashes of the empty subtree is null (not a corrupt-store error)", () => {
    expect(new AuthMap().childHashes(0)).toBeNull();
  });

  it("MemoryNodeStore.get of an id it never gave out is undefined (0, negative, the next id)", () => {
    const store = new MemoryNodeStore();
    const id = store.add({
      kind: "leaf",
      keyHash: keyHashOf("a"),
      valueHash: keyHashOf("v"),
      hash: keyHashOf("h"),
    });
    expect(store.get(id)).toMatchObject({ kind: "leaf" });
    for (const never of [0, -1, id + 1, id + 2]) expect(store.get(never)).toBeUndefined();
  });

  it("a root that points at a node the store lacks is reported as a corrupt store", () => {
    const store = new MemoryNodeStore();
    store.setRoot(99);
    const m = new AuthMap(store);
    expect(() => m.valueHashOf("x")).toThrow("merkle map: missing node 99 (corrupt store)");
  });
});

describe("AuthMap.delete of an absent key", () => {
  it("costs no hashes and retires no node (an old checkpoint keeps exactly what it had)", () => {
    const m = AuthMap.fromEntries(entries());
    const rootId = m.store.getRoot();
    const root = m.root();
    m.retireAt = 1;
    m.hashCount = 0;
    for (let i = 0; i < 20; i++) m.delete(`absent-${i}`);
    expect(m.hashCount).toBe(0);
    expect(m.store.retiredCount).toBe(0);
    expect(m.store.getRoot()).toBe(rootId);
    expect(m.root()).toBe(root);
  });
});
