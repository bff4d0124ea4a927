/**
 * One acceptance suite for the certified state's stores, run by every host: the in-memory stores in
 * plain Node (test/unit/certified/store-acceptance.test.ts) and the SQLite stores inside workerd
 * (test/runtime/sql-stores.test.ts). A store passes when a tree over it gives exactly the roots and
 * proofs of a tree over the reference in-memory store, for the same seeded updates and deletions,
 * leaks no node, survives being reopened, and (where the host has transactions) a crash in the
 * middle of a batch leaves the previous root and its proofs intact.
 *
 * Versions: a tree whose replaced nodes are retired (`AuthMap.retireAt`) keeps every version not
 * collected yet readable, with the root and proofs of a from-scratch tree over that version's
 * content; the record store's `getAt` gives what a Map per version says. Each test is seeded
 * (test/sim/prng.ts) and opens stores of its own, so none depends on another or on their order.
 */
import { describe, expect, it } from "vitest";
import { utf8 } from "../../shared/bytes.js";
import { keyHashOf } from "../../shared/certified/hashing.js";
import { AuthMap } from "../../shared/certified/merkle-map.js";
import { MemoryNodeStore, type NodeId, type NodeStore } from "../../shared/certified/node-store.js";
import { MemoryRecordStore, type VersionedRecordStore } from "../../shared/certified/record-store.js";
import type { KeyRecord } from "../../shared/materialize.js";
import { MerkleStateMachine } from "../../shared/certified/state-machine.js";
import type { ChunkRecord } from "../../shared/certified/types.js";
import type { SignedOp } from "../../shared/ops.js";
import { Prng } from "../sim/prng.js";

/** What a test body gets from its host, inside whatever context the stores must be used in. */
export interface StoreContext {
  /** Fresh, empty stores (a new name or database each call). */
  open(): Stores;
  /** The same stores opened again over the same storage (a restart); omit where there is none. */
  reopen?(): Stores;
  /** Run `fn` atomically: a throw undoes every write `fn` made. Omit where the host has none. */
  transaction?<T>(fn: () => T): T;
}

export interface Stores {
  nodes: NodeStore;
  records: VersionedRecordStore;
}

export interface StoreHost {
  /** Whether the host has `reopen` and `transaction` (decides which tests run). */
  durable: boolean;
  /**
   * False: the record store was opened without history (a replica's, `{ history: false }`): the
   * tests read no older version of a record and check instead that such a read is refused.
   */
  recordHistory?: boolean;
  /** Run a test body where the stores can be used (e.g. inside a Durable Object). */
  run(body: (ctx: StoreContext) => void): void | Promise<void>;
}

const value = (key: string, version: number) => utf8(`${key}=${version}`);

let opSeq = 0;
/** Seeded ops over 30 keys of three types (execute trusts its input: signatures are not checked). */
function opsBatch(rng: Prng, n: number): SignedOp[] {
  return Array.from({ length: rng.int(0, n) }, () => {
    const k = rng.int(0, 29);
    const [type, op, args] = (
      [
        ["counter", "add", { n: rng.int(-5, 5) }],
        ["set", rng.chance(0.7) ? "add" : "remove", { x: `x${rng.int(0, 3)}` }],
        ["register", "set", { v: `v${rng.int(0, 99)}` }],
      ] as const
    )[k % 3]!;
    return {
      client: "C".repeat(43),
      seq: ++opSeq,
      key: `m${k}`,
      type,
      op,
      args,
      ts: opSeq,
      sig: "S".repeat(86),
    } as SignedOp;
  });
}

/** Seeded batches of sets and deletes over `keys` keys; applies each to both maps, calls `check`. */
function drive(seed: number, a: AuthMap, b: AuthMap, keys: number, batches: number, check: () => void): void {
  const rng = new Prng(seed);
  const present = new Set<string>();
  for (let i = 0; i < batches; i++) {
    const batch = new Map<string, Uint8Array | null>();
    const size = rng.int(1, 40);
    for (let j = 0; j < size; j++) {
      const k = `k${rng.int(0, keys - 1)}`;
      batch.set(k, present.has(k) && rng.chance(0.25) ? null : value(k, i));
    }
    const sets: [string, Uint8Array][] = [];
    for (const [k, v] of batch) {
      if (v === null) {
        a.delete(k);
        b.delete(k);
        present.delete(k);
      } else {
        sets.push([k, v]);
        present.add(k);
      }
    }
    a.setMany(sets);
    b.setMany(sets);
    check();
  }
}

/** A read-only view of `store` whose root is `root`: a tree over an older version. */
function atRoot(store: NodeStore, root: NodeId): NodeStore {
  const readOnly = () => {
    throw new Error("atRoot: read-only view");
  };
  return {
    get: (id) => store.get(id),
    copyHash: store.copyHash && ((id, out, offset) => store.copyHash!(id, out, offset)),
    getRoot: () => root,
    add: readOnly,
    remove: readOnly,
    retire: readOnly,
    collect: readOnly,
    setRoot: readOnly,
    get size() {
      return store.size;
    },
    get retiredCount() {
      return store.retiredCount;
    },
  };
}

const proofOf = (map: AuthMap, key: string) => JSON.stringify(map.prove(key));

/**
 * The certified state over the stores under test, next to its references, one version (batch seq)
 * at a time: the tree retires replaced nodes at the batch's version, beside a reference tree over
 * `MemoryNodeStore` doing the same; records are set at the version, beside a `MemoryRecordStore`.
 * The oracles are independent of versioning: a from-scratch tree over each version's content and a
 * Map of each version's records.
 */
class Versioned {
  readonly map: AuthMap;
  readonly ref = new AuthMap(new MemoryNodeStore());
  readonly refRecords: MemoryRecordStore;
  /** Whether the record store under test keeps history (else only current records are checked). */
  readonly history: boolean;
  readonly keys: number;
  version = 0;
  /** Versions below this were collected. */
  floor = 0;
  /** By version: the store's root id, and a from-scratch tree over that version's content. */
  readonly rootIds: NodeId[] = [0];
  readonly oracles: AuthMap[] = [new AuthMap()];
  /** By version: every key's record. */
  readonly snaps: Map<string, KeyRecord>[] = [new Map()];
  private readonly content = new Map<string, Uint8Array>();
  readonly rng: Prng;

  constructor(
    public nodes: NodeStore,
    public records: VersionedRecordStore,
    seed: number,
    opts: { keys?: number; history?: boolean } = {},
  ) {
    this.keys = opts.keys ?? 60;
    this.history = opts.history ?? true;
    this.refRecords = new MemoryRecordStore({ history: this.history });
    this.map = new AuthMap(nodes);
    this.rng = new Prng(seed);
  }

  /** One batch at the next version: sets and deletes in the tree, records set (some twice). */
  step(): void {
    const v = ++this.version;
    const { rng, map, ref } = this;
    map.retireAt = ref.retireAt = v;
    const batch = new Map<string, Uint8Array | null>();
    for (let j = rng.int(1, 12); j > 0; j--) {
      const k = `k${rng.int(0, this.keys - 1)}`;
      batch.set(k, this.content.has(k) && rng.chance(0.25) ? null : value(k, v));
    }
    const sets: [string, Uint8Array][] = [];
    for (const [k, val] of batch) {
      if (val === null) {
        map.delete(k);
        ref.delete(k);
        this.content.delete(k);
      } else {
        sets.push([k, val]);
        this.content.set(k, val);
      }
    }
    map.setMany(sets);
    ref.setMany(sets);
    const snap = new Map(this.snaps[v - 1]!);
    const touched = [...batch.keys()];
    if (rng.chance(0.5)) touched.push(touched[0]!); // a second set of one key at one version
    touched.forEach((k, j) => {
      const rec: KeyRecord = rng.chance(0.5)
        ? { type: "counter", state: { p: v, n: j } }
        : { type: "register", state: { v: { at: v, nested: [j, "x", null] }, ts: v, client: "c", seq: j } };
      this.records.setAt(k, rec, v);
      this.refRecords.setAt(k, structuredClone(rec), v);
      snap.set(k, structuredClone(rec));
    });
    this.snaps.push(snap);
    this.rootIds.push(this.nodes.getRoot());
    this.oracles.push(AuthMap.fromEntries(this.content));
  }

  /** Collect both stores and both references through `through`: the counts must agree. */
  collect(through: number): void {
    expect(this.nodes.collect(through)).toBe(this.ref.store.collect(through));
    expect(this.records.collect(through)).toBe(this.refRecords.collect(through));
    this.floor = Math.max(this.floor, through);
  }

  /** The stores agree with the references and every version from `floor` on is readable. */
  check(nodes = this.nodes, records = this.records, proofKeys = 4): void {
    expect(nodes.size).toBe(this.ref.store.size);
    expect(nodes.retiredCount).toBe(this.ref.store.retiredCount);
    expect(records.size).toBe(this.refRecords.size);
    for (let w = this.floor; w <= this.version; w++) {
      const old = new AuthMap(atRoot(nodes, this.rootIds[w]!));
      const oracle = this.oracles[w]!;
      expect(old.root()).toBe(oracle.root());
      for (let i = 0; i < proofKeys; i++) {
        const k = `k${(w * 7 + i * 13) % (this.keys + 5)}`; // a few never written
        expect(proofOf(old, k)).toBe(proofOf(oracle, k));
      }
      if (this.history)
        for (let i = 0; i <= this.keys; i++) {
          const k = `k${i}`; // k<keys> is never written
          expect(records.getAt(k, w)).toEqual(this.snaps[w]!.get(k));
        }
    }
    for (let i = 0; i <= this.keys; i++)
      expect(records.get(`k${i}`)).toEqual(this.snaps[this.version]!.get(`k${i}`));
  }

  /** `steps` batches, collecting through a recent version every few. */
  run(steps: number, checkEvery = 5): void {
    for (let i = 0; i < steps; i++) {
      this.step();
      if (this.version % checkEvery === 0) {
        this.collect(Math.max(0, this.version - this.rng.int(0, 6)));
        this.check();
      }
    }
  }
}

export function runStoreAcceptance(hostName: string, host: StoreHost): void {
  const history = host.recordHistory ?? true;
  describe(`certified stores: ${hostName}`, () => {
    it("a tree over the store has the reference tree's root after every batch, and leaks no node", () =>
      host.run((host) => {
        const { nodes } = host.open();
        const map = new AuthMap(nodes);
        const ref = new AuthMap(new MemoryNodeStore());
        drive(1, map, ref, 200, 60, () => {
          expect(map.root()).toBe(ref.root());
          expect(nodes.size).toBe(ref.store.size);
        });
      }));

    // The reference tree's proofs are checked against roots in test/unit/certified/merkle-map.test.ts: equal
    // proofs and value hashes here mean the store's proofs verify too.
    it("gives the reference tree's proofs and value hashes, for present and absent keys", () =>
      host.run((host) => {
        const { nodes } = host.open();
        const map = new AuthMap(nodes);
        const ref = new AuthMap(new MemoryNodeStore());
        drive(2, map, ref, 80, 30, () => undefined);
        const keys = Array.from({ length: 100 }, (_, i) => `k${i}`); // k80..k99 never written
        for (const k of keys) {
          expect(JSON.stringify(map.prove(k))).toBe(JSON.stringify(ref.prove(k)));
          const vh = map.valueHashOf(k);
          expect(vh === undefined ? undefined : [...vh]).toEqual(
            ref.valueHashOf(k) === undefined ? undefined : [...ref.valueHashOf(k)!],
          );
        }
      }));

    it("records round-trip whole, overwrite, and read absent as undefined", () =>
      host.run((host) => {
        const { records } = host.open();
        const a: KeyRecord = { type: "set", state: { adds: { x: ["t1", "t2"] }, removed: ["t0"] } };
        const b: KeyRecord = {
          type: "register",
          state: { v: { nested: [1, "two", null] }, ts: 5, client: "c", seq: 2 },
        };
        records.setAt("a", a, 1);
        records.setAt("b", b, 1);
        expect(records.get("a")).toEqual(a);
        expect(records.get("b")).toEqual(b);
        records.setAt("a", b, 2);
        expect(records.get("a")).toEqual(b);
        expect(records.get("missing")).toBeUndefined();
        expect(records.get("")).toBeUndefined();
      }));

    it("a removed key (a delete) reads absent, leaves the size, keeps its older version and its hash, and comes back", () =>
      host.run((host) => {
        const { records } = host.open();
        const a: KeyRecord = { type: "counter", state: 5 };
        records.setManyAt(
          [
            { key: "a", rec: a },
            { key: "b", rec: a },
          ],
          1,
        );
        records.setManyAt([{ key: "a", rec: undefined }], 2);
        expect(records.get("a")).toBeUndefined();
        expect(records.get("b")).toEqual(a);
        expect(records.size).toBe(1);
        if (history) {
          // a node still serves its older checkpoint: the record and the key behind its leaf
          expect(records.getAt("a", 1)).toEqual(a);
          expect(records.getAt("a", 2)).toBeUndefined();
          expect(records.keyOf(keyHashOf("a"))).toBe("a");
        }
        records.setAt("a", { type: "register", state: null }, 3);
        expect(records.get("a")).toEqual({ type: "register", state: null });
        expect(records.size).toBe(2);
        records.setAt("b", undefined, 4);
        expect(records.get("b")).toBeUndefined();
        expect(records.size).toBe(1);
      }));

    it("retired nodes: the reference's node count, and every retained version's root and proofs until collected", () =>
      host.run((host) => {
        const { nodes, records } = host.open();
        const w = new Versioned(nodes, records, 21, { history });
        w.run(60);
        expect(w.ref.store.retiredCount).toBeGreaterThan(0); // something was still retained
        // A retire at a version older than the newest one is refused.
        expect(() => nodes.retire(nodes.getRoot(), w.version - 1)).toThrow();
        // Collecting everything leaves exactly the current tree, as if nodes were removed at once.
        w.collect(w.version);
        w.check();
        expect(nodes.retiredCount).toBe(0);
        expect(nodes.size).toBe(w.oracles[w.version]!.store.size);
        expect(new AuthMap(nodes).root()).toBe(w.oracles[w.version]!.root());
      }));

    it("retired nodes stay readable through get and copyHash until collected, then are gone", () =>
      host.run((host) => {
        const { nodes } = host.open();
        const map = new AuthMap(nodes);
        map.retireAt = 1;
        map.setMany([
          ["a", value("a", 1)],
          ["b", value("b", 1)],
        ]);
        const oldRoot = nodes.getRoot();
        const oldHash = map.rootHash().slice();
        map.retireAt = 2;
        map.set("a", value("a", 2));
        expect(nodes.retiredCount).toBe(2); // the old root and the old leaf of "a"
        const out = new Uint8Array(40);
        nodes.copyHash?.(oldRoot, out, 4);
        if (nodes.copyHash) expect([...out.subarray(4, 36)]).toEqual([...oldHash]);
        expect([...nodes.get(oldRoot)!.hash]).toEqual([...oldHash]);
        expect(nodes.collect(1)).toBe(0);
        expect(nodes.get(oldRoot)).toBeDefined();
        expect(nodes.collect(2)).toBe(2);
        expect(nodes.get(oldRoot)).toBeUndefined();
        if (nodes.copyHash) expect(() => nodes.copyHash!(oldRoot, out, 0)).toThrow();
        expect(nodes.retiredCount).toBe(0);
        expect(nodes.size).toBe(3);
        expect(() => nodes.retire(oldRoot, 3)).toThrow();
      }));

    if (!history)
      it("no record history: a set keeps the current record only, collect does nothing, getAt refuses", () =>
        host.run((host) => {
          const { records } = host.open();
          const rec = (p: number): KeyRecord => ({ type: "counter", state: { p, n: 0 } });
          records.setAt("a", rec(1), 1);
          records.setAt("a", rec(2), 2);
          records.setAt("a", rec(3), 2);
          records.setAt("b", rec(4), 3);
          expect(records.collect(3)).toBe(0);
          expect(records.get("a")).toEqual(rec(3));
          expect(records.get("b")).toEqual(rec(4));
          expect(records.size).toBe(2);
          // An older version was never kept: asking for one is a bug, refused loudly.
          expect(() => records.getAt("a", 1)).toThrow("keeps no history");
          expect(() => records.getAt("a", 3)).toThrow("keeps no history");
          expect(() => records.setAt("a", rec(5), 2)).toThrow();
          expect(records.get("a")).toEqual(rec(3));
        }));

    if (history)
      it("record history: getAt at every retained version is what a Map per version says; collect keeps the current records", () =>
        host.run((host) => {
          const { nodes, records } = host.open();
          const w = new Versioned(nodes, records, 22, { keys: 30 });
          w.run(50, 3);
          expect(w.refRecords.historySize).toBeGreaterThan(0);
          const rec: KeyRecord = { type: "counter", state: { p: 0, n: 0 } };
          expect(() => records.setAt("k0", rec, w.version - 1)).toThrow();
          w.collect(w.version);
          w.check();
          expect(records.collect(w.version)).toBe(0);
          // The first "before" at a version wins over a second set at that version.
          records.setAt("fresh", rec, w.version + 1);
          records.setAt("fresh", { type: "counter", state: { p: 1, n: 0 } }, w.version + 1);
          expect(records.getAt("fresh", w.version)).toBeUndefined();
          expect(records.getAt("fresh", w.version + 1)).toEqual({ type: "counter", state: { p: 1, n: 0 } });
          expect(records.collect(w.version + 1)).toBe(1);
        }));

    it("keyOf gives the key of a stored hash and nothing for an unknown one", () =>
      host.run((host) => {
        const { records } = host.open();
        const keys = ["a", "b", "", "ключ", "k".repeat(300)];
        keys.forEach((k, i) => records.setAt(k, { type: "counter", state: { p: i, n: 0 } }, i));
        for (const k of keys) expect(records.keyOf(keyHashOf(k))).toBe(k);
        const inside = new Uint8Array(48);
        inside.set(keyHashOf("b"), 7);
        expect(records.keyOf(inside.subarray(7, 39))).toBe("b");
        expect(records.keyOf(keyHashOf("never"))).toBeUndefined();
        const flipped = keyHashOf("a");
        flipped[31]! ^= 1;
        expect(records.keyOf(flipped)).toBeUndefined();
        expect(records.keyOf(new Uint8Array(32))).toBeUndefined();
      }));

    if (host.durable) {
      it("comes back from storage with the same root, proofs and records", () =>
        host.run((host) => {
          const { nodes, records } = host.open();
          const map = new AuthMap(nodes);
          const ref = new AuthMap(new MemoryNodeStore());
          drive(3, map, ref, 100, 20, () => undefined);
          records.setAt("r", { type: "counter", state: { p: 3, n: 1 } }, 1);
          const again = host.reopen!();
          const map2 = new AuthMap(again.nodes);
          expect(map2.root()).toBe(ref.root());
          expect(JSON.stringify(map2.prove("k7"))).toBe(JSON.stringify(ref.prove("k7")));
          expect(again.records.get("r")).toEqual({ type: "counter", state: { p: 3, n: 1 } });
        }));

      it("a crash in the middle of a batch leaves the previous root, its nodes and records intact", () =>
        host.run((host) => {
          const { nodes, records } = host.open();
          const map = new AuthMap(nodes);
          const ref = new AuthMap(new MemoryNodeStore());
          drive(4, map, ref, 100, 20, () => undefined);
          records.setAt("r", { type: "counter", state: { p: 1, n: 0 } }, 1);
          const root = map.root();
          const size = nodes.size;
          expect(() =>
            host.transaction!(() => {
              map.setMany(Array.from({ length: 50 }, (_, i) => [`new${i}`, value(`new${i}`, 0)] as const));
              map.delete("k1");
              records.setAt("r", { type: "counter", state: { p: 99, n: 0 } }, 2);
              throw new Error("crash mid-batch");
            }),
          ).toThrow("crash mid-batch");
          const after = new AuthMap(nodes);
          expect(after.root()).toBe(root);
          expect(nodes.size).toBe(size);
          expect(records.get("r")).toEqual({ type: "counter", state: { p: 1, n: 0 } });
          for (const k of ["k1", "k2", "new3"])
            expect(JSON.stringify(after.prove(k))).toBe(JSON.stringify(ref.prove(k)));
        }));

      it("comes back from storage with its retained versions: history and retired nodes", () =>
        host.run((host) => {
          const { nodes, records } = host.open();
          const w = new Versioned(nodes, records, 23, { history });
          w.run(32);
          w.step(); // a version left uncollected
          w.check();
          const again = host.reopen!();
          w.check(again.nodes, again.records);
          // The reopened stores still refuse an older version, and collect what the references do.
          // (Without history the record store keeps its newest version in memory only: a replica's
          // head seq orders its batches.)
          expect(() => again.nodes.retire(again.nodes.getRoot(), w.version - 1)).toThrow();
          if (history)
            expect(() =>
              again.records.setAt("k0", { type: "counter", state: { p: 0, n: 0 } }, w.version - 1),
            ).toThrow();
          w.nodes = again.nodes;
          w.records = again.records;
          w.collect(w.version - 1);
          w.check();
        }));

      it("a throw inside a transaction rolls back records, history and retired nodes with the tree", () =>
        host.run((host) => {
          const { nodes, records } = host.open();
          const w = new Versioned(nodes, records, 24, { history });
          w.run(30);
          w.step();
          w.step();
          w.check();
          const root = new AuthMap(nodes).root();
          expect(() =>
            host.transaction!(() => {
              const map = new AuthMap(nodes);
              map.retireAt = w.version + 1;
              map.setMany(Array.from({ length: 20 }, (_, i) => [`new${i}`, value(`new${i}`, 0)] as const));
              map.setMany([["k1", value("k1", -1)]]);
              map.delete("k2");
              for (const k of ["k1", "k2", "new0"])
                records.setAt(k, { type: "counter", state: { p: 99, n: 0 } }, w.version + 1);
              expect(nodes.collect(w.version)).toBeGreaterThan(0);
              expect(records.collect(w.version)).toBe(history ? w.refRecords.historySize : 0);
              throw new Error("crash mid-batch");
            }),
          ).toThrow("crash mid-batch");
          expect(new AuthMap(nodes).root()).toBe(root);
          expect(records.keyOf(keyHashOf("new0"))).toBeUndefined();
          w.check(); // sizes, retired count, every retained version's tree and records
          w.collect(w.version); // the same counts as the references: nothing was lost or collected
          w.check();
        }));

      it("the certified state machine over the store: the reference's roots, results and proofs; a crash mid-batch keeps the last", () =>
        host.run((host) => {
          const stores = host.open();
          const sm = new MerkleStateMachine(stores);
          const ref = new MerkleStateMachine();
          const rng = new Prng(31);
          let version = 0;
          for (; version < 40;) {
            const batch = opsBatch(rng, 20);
            version++;
            const got = host.transaction!(() => sm.execute(batch, version));
            expect(got).toEqual(ref.execute(batch, version));
            if (version % 8 === 0) {
              sm.collect(version - 4);
              ref.collect(version - 4);
            }
          }
          for (const key of ["m0", "m5", "m29", "absent"])
            expect(JSON.stringify(sm.proveKey(key))).toBe(JSON.stringify(ref.proveKey(key)));
          const root = sm.stateRoot();
          expect(() =>
            host.transaction!(() => {
              sm.execute(opsBatch(rng, 30), version + 1);
              throw new Error("crash mid-batch");
            }),
          ).toThrow("crash mid-batch");
          const again = new MerkleStateMachine(host.reopen!());
          expect(again.stateRoot()).toBe(root);
          expect(JSON.stringify(again.proveKey("m5"))).toBe(JSON.stringify(ref.proveKey("m5")));
          // Without history no chunk of a version can be served (a replica serves none): refused.
          if (!history)
            expect(() =>
              again.serveChunk(again.handle(), version, "", { records: 1 << 20, bytes: 1 << 30 }),
            ).toThrow("keeps no history");
          else {
            // Its state, served in chunks from the store, brings an empty machine to the same root.
            const h = again.handle();
            const to = new MerkleStateMachine();
            const pending: [string, string][] = [["", h.root]];
            const staged: [string, ChunkRecord[]][] = [];
            while (pending.length) {
              const [path, want] = pending.pop()!;
              if (to.hashAt(path) === want) continue;
              const check = to.checkChunk(
                path,
                want,
                again.serveChunk(h, version, path, { records: 4, bytes: 4096 }),
              );
              if (!check.ok) throw new Error(`chunk refused at '${path}': ${check.reason}`);
              if ("children" in check) pending.push(...check.children);
              else staged.push([path, check.records]);
            }
            expect(to.adopt(staged, version)).toBe(root);
          }
        }));
    }
  });
}
