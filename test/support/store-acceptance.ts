/**
 * One acceptance suite for the certified state's stores, run by every host: the in-memory stores in
 * plain Node (test/unit/store-acceptance.test.ts) and the SQLite stores inside workerd
 * (test/runtime/sql-stores.test.ts). A store passes when a tree over it gives exactly the roots and
 * proofs of a tree over the reference in-memory store, for the same seeded updates and deletions,
 * leaks no node, survives being reopened, and (where the host has transactions) a crash in the
 * middle of a batch leaves the previous root and its proofs intact.
 */
import { describe, expect, it } from "vitest";
import { utf8 } from "../../shared/bytes.js";
import type { RecordStore } from "../../shared/certified/execute.js";
import { AuthMap } from "../../shared/certified/merkle-map.js";
import { MemoryNodeStore, type NodeStore } from "../../shared/certified/node-store.js";
import type { KeyRecord } from "../../shared/materialize.js";
import { Prng } from "../sim/prng.js";

/** What a test body gets from its host, inside whatever context the stores must be used in. */
export interface StoreContext {
  /** Fresh, empty stores (a new name or database each call). */
  open(): { nodes: NodeStore; records: RecordStore };
  /** The same stores opened again over the same storage (a restart); omit where there is none. */
  reopen?(): { nodes: NodeStore; records: RecordStore };
  /** Run `fn` atomically: a throw undoes every write `fn` made. Omit where the host has none. */
  transaction?<T>(fn: () => T): T;
}

export interface StoreHost {
  /** Whether the host has `reopen` and `transaction` (decides which tests run). */
  durable: boolean;
  /** Run a test body where the stores can be used (e.g. inside a Durable Object). */
  run(body: (ctx: StoreContext) => void): void | Promise<void>;
}

const value = (key: string, version: number) => utf8(`${key}=${version}`);

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

export function runStoreAcceptance(hostName: string, host: StoreHost): void {
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

    // The reference tree's proofs are checked against roots in test/unit/merkle.test.ts: equal
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
        records.set("a", a);
        records.set("b", b);
        expect(records.get("a")).toEqual(a);
        expect(records.get("b")).toEqual(b);
        records.set("a", b);
        expect(records.get("a")).toEqual(b);
        expect(records.get("missing")).toBeUndefined();
        expect(records.get("")).toBeUndefined();
      }));

    if (host.durable) {
      it("comes back from storage with the same root, proofs and records", () =>
        host.run((host) => {
          const { nodes, records } = host.open();
          const map = new AuthMap(nodes);
          const ref = new AuthMap(new MemoryNodeStore());
          drive(3, map, ref, 100, 20, () => undefined);
          records.set("r", { type: "counter", state: { p: 3, n: 1 } });
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
          records.set("r", { type: "counter", state: { p: 1, n: 0 } });
          const root = map.root();
          const size = nodes.size;
          expect(() =>
            host.transaction!(() => {
              map.setMany(Array.from({ length: 50 }, (_, i) => [`new${i}`, value(`new${i}`, 0)] as const));
              map.delete("k1");
              records.set("r", { type: "counter", state: { p: 99, n: 0 } });
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
    }
  });
}
