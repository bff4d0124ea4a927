import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toHex, utf8 } from "../../../shared/bytes.js";
import { sha256 } from "../../../shared/hash.js";
import {
  EMPTY_HASH,
  keyHashOf,
  recordStateHash,
  stateValueBytes,
  stateValueHash,
  type StateValue,
} from "../../../shared/certified/hashing.js";
import { AuthMap, subtreeHashOf, type HashedEntry } from "../../../shared/certified/merkle-map.js";
import { MemoryNodeStore } from "../../../shared/certified/node-store.js";
import { verifyStateProof, type StateProof } from "../../../shared/certified/proofs.js";

const sv = (n: number): StateValue => ({ type: "counter", value: n, stateHash: recordStateHash(n) });

/** A map from scratch (bulk build) over the final contents. */
const fromScratch = (m: Map<string, number>) =>
  AuthMap.fromEntries([...m].map(([k, v]) => [k, stateValueBytes(sv(v))] as const));

/** A map built by incremental sets, in the given order. */
function incremental(entries: [string, number][]): AuthMap {
  const map = new AuthMap();
  for (const [k, v] of entries) map.set(k, stateValueBytes(sv(v)));
  return map;
}

const keyArb = fc.string({ minLength: 1, maxLength: 12 });
const contentsArb = fc.uniqueArray(fc.tuple(keyArb, fc.integer({ min: -50, max: 50 })), {
  selector: (e) => e[0],
  maxLength: 60,
});

describe("AuthMap", () => {
  it("the empty map's root is the empty hash and proves every key absent", () => {
    const map = new AuthMap();
    expect(map.root()).toBe(toHex(EMPTY_HASH));
    expect(verifyStateProof(map.root(), "k", null, map.prove("k"))).toBe(true);
    expect(verifyStateProof(map.root(), "k", sv(1), map.prove("k"))).toBe(false);
  });

  it("a one-key map: root is that leaf, proof has no siblings", () => {
    const map = incremental([["only", 3]]);
    const p = map.prove("only");
    expect(p.siblings).toEqual([]);
    expect(verifyStateProof(map.root(), "only", sv(3), p)).toBe(true);
    const q = map.prove("other");
    expect(q.leaf).toBeDefined();
    expect(verifyStateProof(map.root(), "other", null, q)).toBe(true);
  });

  it("every key proves its value, and no other value", () => {
    fc.assert(
      fc.property(contentsArb, (entries) => {
        const map = incremental(entries);
        const root = map.root();
        for (const [k, v] of entries) {
          const p = map.prove(k);
          expect(verifyStateProof(root, k, sv(v), p)).toBe(true);
          expect(verifyStateProof(root, k, sv(v + 1), p)).toBe(false);
          expect(
            verifyStateProof(root, k, { type: "account", value: v, stateHash: recordStateHash(v) }, p),
          ).toBe(false);
          expect(verifyStateProof(root, k + "x", sv(v), p)).toBe(false);
        }
      }),
    );
  });

  it("an absent key proves absent; a present key can't be proven absent with any proof at hand", () => {
    fc.assert(
      fc.property(contentsArb, fc.array(keyArb, { maxLength: 10 }), (entries, probes) => {
        const map = incremental(entries);
        const root = map.root();
        const present = new Map(entries);
        const proofs: StateProof[] = [
          ...entries.map(([k]) => map.prove(k)),
          ...probes.map((k) => map.prove(k)),
        ];
        for (const k of probes) {
          if (present.has(k)) continue;
          expect(verifyStateProof(root, k, null, map.prove(k))).toBe(true);
          expect(verifyStateProof(root, k, sv(0), map.prove(k))).toBe(false);
        }
        for (const [k] of entries)
          for (const p of proofs) expect(verifyStateProof(root, k, null, p)).toBe(false);
      }),
    );
  });

  it("incremental root == from-scratch root, whatever the order of sets and deletes", () => {
    fc.assert(
      fc.property(
        contentsArb,
        fc.array(fc.tuple(keyArb, fc.option(fc.integer({ min: -5, max: 5 }))), { maxLength: 60 }),
        fc.integer(),
        (initial, updates, seed) => {
          // Apply in a shuffled order: sets of the initial contents, then updates/deletes in sequence.
          const shuffled = [...initial].sort((a, b) => ((a[1] * 31 + seed) % 7) - ((b[1] * 31 + seed) % 7));
          const map = incremental(shuffled);
          const model = new Map(initial);
          for (const [k, v] of updates) {
            if (v === null) {
              map.delete(k);
              model.delete(k);
            } else {
              map.set(k, stateValueBytes(sv(v)));
              model.set(k, v);
            }
          }
          const scratch = fromScratch(model);
          expect(map.root()).toBe(scratch.root());
          // Same canonical shape, so the same node count: no leaked or missing nodes.
          expect(map.store.size).toBe(scratch.store.size);
          for (const [k, v] of model) expect(verifyStateProof(map.root(), k, sv(v), map.prove(k))).toBe(true);
        },
      ),
    );
  });

  it("deleting every key returns to the empty root with no nodes left", () => {
    fc.assert(
      fc.property(contentsArb, (entries) => {
        const map = incremental(entries);
        for (const [k] of [...entries].reverse()) map.delete(k);
        expect(map.root()).toBe(toHex(EMPTY_HASH));
        expect(map.store.size).toBe(0);
      }),
    );
  });

  it("proofs from an old root fail against the new root after a change", () => {
    fc.assert(
      fc.property(
        contentsArb.filter((e) => e.length > 0),
        fc.nat(),
        (entries, pick) => {
          const map = incremental(entries);
          const [k, v] = entries[pick % entries.length]!;
          const old = map.prove(k);
          const oldRoot = map.root();
          const others = entries.filter(([j]) => j !== k).map(([j, w]) => [j, w, map.prove(j)] as const);
          map.set(k, stateValueBytes(sv(v + 100)));
          expect(verifyStateProof(oldRoot, k, sv(v), old)).toBe(true);
          expect(verifyStateProof(map.root(), k, sv(v), old)).toBe(false);
          expect(verifyStateProof(map.root(), k, sv(v + 100), map.prove(k))).toBe(true);
          // Every other key's old proof has k's old leaf inside one of its siblings.
          for (const [j, w, p] of others) {
            expect(verifyStateProof(oldRoot, j, sv(w), p)).toBe(true);
            expect(verifyStateProof(map.root(), j, sv(w), p)).toBe(false);
          }
          // …and a removal: the old inclusion proof no longer works, the new non-inclusion does.
          map.delete(k);
          expect(verifyStateProof(map.root(), k, sv(v + 100), old)).toBe(false);
          expect(verifyStateProof(map.root(), k, null, map.prove(k))).toBe(true);
        },
      ),
    );
  });

  it("setting an unchanged value costs no hashes and keeps the root", () => {
    const map = incremental([
      ["a", 1],
      ["b", 2],
    ]);
    const before = map.hashCount;
    const root = map.root();
    map.set("a", stateValueBytes(sv(1)));
    expect(map.hashCount).toBe(before);
    expect(map.root()).toBe(root);
  });

  it("an update costs about log2(n) hashes, and so does a proof", () => {
    const n = 4096;
    const map = AuthMap.fromEntries(
      Array.from({ length: n }, (_, i) => [`k${i}`, stateValueBytes(sv(i))] as const),
    );
    const before = map.hashCount;
    for (let i = 0; i < 200; i++) map.set(`k${i * 7}`, stateValueBytes(sv(-i)));
    const perUpdate = (map.hashCount - before) / 200;
    expect(perUpdate).toBeGreaterThan(Math.log2(n) - 1);
    expect(perUpdate).toBeLessThan(Math.log2(n) + 6);
    expect(map.prove("k5").siblings.length).toBeLessThan(Math.log2(n) + 12);
  });

  it("rejects malformed proofs without throwing", () => {
    const map = incremental([
      ["a", 1],
      ["b", 2],
      ["c", 3],
    ]);
    const root = map.root();
    const good = map.prove("a");
    const bad: unknown[] = [
      null,
      {},
      { siblings: "x" },
      { siblings: ["zz"] },
      { siblings: [...good.siblings, "0".repeat(64)] },
      { siblings: good.siblings.slice(1) },
      { siblings: Array(257).fill(null) },
      { ...good, leaf: { keyHash: "0".repeat(64), valueHash: 5 } },
    ];
    for (const p of bad) expect(verifyStateProof(root, "a", sv(1), p as StateProof)).toBe(false);
    expect(verifyStateProof("nothex", "a", sv(1), good)).toBe(false);
    expect(
      verifyStateProof(root, "a", { type: "counter", value: NaN, stateHash: recordStateHash(0) }, good),
    ).toBe(false);
    // A non-inclusion proof naming the key's own leaf is refused (it would fold to the right root).
    const own = {
      siblings: good.siblings,
      leaf: { keyHash: toHex(keyHashOf("a")), valueHash: toHex(stateValueHash(sv(1))) },
    };
    expect(verifyStateProof(root, "a", null, own)).toBe(false);
  });

  it("stays equal to a from-scratch build under heavy churn (store growth and slot reuse)", () => {
    const map = new AuthMap();
    const model = new Map<string, number>();
    for (let i = 0; i < 3000; i++) {
      map.set(`k${i}`, stateValueBytes(sv(i)));
      model.set(`k${i}`, i);
    }
    for (let i = 0; i < 3000; i += 2) {
      map.delete(`k${i}`);
      model.delete(`k${i}`);
    }
    for (let i = 1; i < 5000; i += 3) {
      map.set(`k${i}`, stateValueBytes(sv(-i)));
      model.set(`k${i}`, -i);
    }
    const scratch = fromScratch(model);
    expect(map.root()).toBe(scratch.root());
    expect(map.store.size).toBe(scratch.store.size);
    for (const [k, v] of model) expect(verifyStateProof(map.root(), k, sv(v), map.prove(k))).toBe(true);
    expect(verifyStateProof(map.root(), "k0", null, map.prove("k0"))).toBe(true);
  });

  it("setMany (one pass per batch) == the same sets one by one, across batches, deletes and id reuse", () => {
    const batchArb = fc.uniqueArray(
      fc.tuple(fc.constantFrom(...["a", "b", "c", "d", "e", "f", "g", "h"]), fc.integer({ min: -3, max: 3 })),
      {
        selector: (e) => e[0],
        maxLength: 8,
      },
    );
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            batchArb,
            fc.array(fc.constantFrom("a", "b", "c", "d", "e", "f", "g", "h"), { maxLength: 2 }),
          ),
          {
            maxLength: 8,
          },
        ),
        (rounds) => {
          const batched = new AuthMap();
          const oneByOne = new AuthMap();
          const model = new Map<string, number>();
          for (const [batch, deletes] of rounds) {
            batched.setMany(batch.map(([k, v]) => [k, stateValueBytes(sv(v))] as const));
            for (const [k, v] of batch) {
              oneByOne.set(k, stateValueBytes(sv(v)));
              model.set(k, v);
            }
            for (const k of deletes) {
              batched.delete(k);
              oneByOne.delete(k);
              model.delete(k);
            }
            expect(batched.root()).toBe(oneByOne.root());
            expect(batched.store.size).toBe(oneByOne.store.size);
          }
          expect(batched.root()).toBe(fromScratch(model).root());
          for (const [k, v] of model)
            expect(verifyStateProof(batched.root(), k, sv(v), batched.prove(k))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
    expect(() =>
      new AuthMap().setMany([
        ["x", stateValueBytes(sv(1))],
        ["x", stateValueBytes(sv(2))],
      ]),
    ).toThrow(/duplicate/);
  });

  it("setMany over a large batch costs fewer hashes than the same sets one by one", () => {
    const keys = Array.from({ length: 2000 }, (_, i) => `k${i}`);
    const a = AuthMap.fromEntries(keys.map((k) => [k, stateValueBytes(sv(0))] as const));
    const b = AuthMap.fromEntries(keys.map((k) => [k, stateValueBytes(sv(0))] as const));
    const batch = keys.filter((_, i) => i % 20 === 0).map((k) => [k, stateValueBytes(sv(1))] as const);
    const [ha, hb] = [a.hashCount, b.hashCount];
    a.setMany(batch);
    for (const [k, v] of batch) b.set(k, v);
    expect(a.root()).toBe(b.root());
    expect(a.hashCount - ha).toBeLessThan(0.7 * (b.hashCount - hb));
  });

  it("keeps working on a store that is reused after a from-scratch build", () => {
    const store = new MemoryNodeStore();
    const map = AuthMap.fromEntries([["x", stateValueBytes(sv(1))] as const], store);
    map.set("y", stateValueBytes(sv(2)));
    expect(map.root()).toBe(
      incremental([
        ["x", 1],
        ["y", 2],
      ]).root(),
    );
    expect(() => AuthMap.fromEntries([], store)).toThrow(/not empty/);
  });
});

describe("nodes of the update under way", () => {
  it("are removed, not retired, when the same update replaces them: a first batch retires nothing", () => {
    const entries = Array.from({ length: 300 }, (_, i) => [`n${i}`, utf8(`v${i}`)] as const);
    const scratch = AuthMap.fromEntries(entries);
    const store = new MemoryNodeStore();
    const map = new AuthMap(store);
    map.retireAt = 1;
    // 300 new keys into an empty tree: taken one by one below the root, each replaces nodes the
    // update itself added; none of them was ever part of a version.
    map.setMany(entries);
    expect(store.retiredCount).toBe(0);
    expect(store.size).toBe(scratch.store.size);
    expect(map.root()).toBe(scratch.root());
    // The next batch retires only what it replaced of version 1: the current tree is all that is live.
    map.retireAt = 2;
    map.setMany([["n7", utf8("again")]]);
    expect(store.retiredCount).toBeGreaterThan(0);
    expect(store.size - store.retiredCount).toBe(scratch.store.size);
  });
});

// Forty keys for the bulk build and the reads below.
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const MANY_KEYS = Array.from({ length: 40 }, (_, i) => `key-${i}`);
const manyEntries = (): [string, Uint8Array][] => MANY_KEYS.map((k) => [k, enc(`value of ${k}`)]);
const manyHashed = (): HashedEntry[] =>
  manyEntries().map(([k, v]) => ({ keyHash: keyHashOf(k), valueHash: sha256(v) }));

describe("AuthMap.build commits to exactly the entries it is given", () => {
  it("build over hashed entries has the same root as fromEntries and as inserting one by one", () => {
    const incremental = new AuthMap();
    for (const [k, v] of manyEntries()) incremental.set(k, v);
    expect(AuthMap.build(manyHashed()).root()).toBe(incremental.root());
    expect(AuthMap.fromEntries(manyEntries()).root()).toBe(incremental.root());
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
    const m = AuthMap.fromEntries(manyEntries());
    for (const [k, v] of manyEntries()) expect(toHex(m.valueHashOf(k)!)).toBe(toHex(sha256(v)));
    for (let i = 0; i < 40; i++) expect(m.valueHashOf(`absent-${i}`)).toBeUndefined();
    expect(new AuthMap().valueHashOf("x")).toBeUndefined();
  });

  it("a value hash handed out is a copy: scribbling on it changes neither the map nor its root", () => {
    const m = AuthMap.fromEntries(manyEntries());
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
      manyHashed()
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
    const m = AuthMap.fromEntries(manyEntries());
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
