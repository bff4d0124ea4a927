/**
 * The certified-store acceptance suite over the SQLite stores, inside workerd: real
 * `ctx.storage.sql` and `transactionSync` of a Durable Object (an EdgeReplica instance serves as
 * the host; the stores use tables of their own).
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SqlNodeStore } from "../../durable-objects/storage/sql-node-store.js";
import { SqlRecordStore } from "../../durable-objects/storage/sql-record-store.js";
import { AuthMap } from "../../shared/certified/merkle-map.js";
import { MemoryNodeStore } from "../../shared/certified/node-store.js";
import { utf8 } from "../../shared/bytes.js";
import { keyHashOf } from "../../shared/certified/hashing.js";
import { runStoreAcceptance } from "../support/store-acceptance.js";

const host = () => env.EDGE_REPLICA.get(env.EDGE_REPLICA.idFromName("sql-stores-acceptance"));
let n = 0;

runStoreAcceptance("SQLite (workerd)", {
  durable: true,
  run: (body) =>
    runInDurableObject(host(), (_instance, state) => {
      const name = `t${++n}`;
      const open = () => ({
        nodes: new SqlNodeStore(state.storage.sql, `${name}_m`),
        records: new SqlRecordStore(state.storage.sql, `${name}_r`),
      });
      body({ open, reopen: open, transaction: (fn) => state.storage.transactionSync(fn) });
    }),
});

describe("SQLite stores at scale", () => {
  // 100,000 keys written through both stores as a PBFT node would: batches of 100 keys, each in
  // one transaction at its seq, replaced nodes retired, collected every 10 batches through a
  // "stable checkpoint" 10 seqs back. Nothing the stores keep in memory may grow with the keys.
  it(
    "write 100,000 keys in batches of 100 with the in-memory tree's root, and memory bounded by the caches",
    () =>
      runInDurableObject(host(), (_instance, { storage }) => {
        const keys = 100_000;
        const perBatch = 100;
        const name = `scale_${Date.now() % 1e9}`;
        const nodes = new SqlNodeStore(storage.sql, `${name}_m`);
        const records = new SqlRecordStore(storage.sql, `${name}_r`);
        const map = new AuthMap(nodes);
        const ref = new AuthMap(new MemoryNodeStore());
        const t0 = Date.now();
        let maxCache = 0;
        for (let seq = 1; seq <= keys / perBatch; seq++) {
          const batch = Array.from({ length: perBatch }, (_, j) => {
            const k = `key${(seq - 1) * perBatch + j}`;
            return [k, utf8(`v${seq}`)] as const;
          });
          storage.transactionSync(() => {
            map.retireAt = seq;
            map.setMany(batch);
            for (const [k] of batch) records.setAt(k, { type: "counter", state: { p: seq, n: 0 } }, seq);
            if (seq % 10 === 0 && seq > 10) {
              nodes.collect(seq - 10);
              records.collect(seq - 10);
            }
          });
          ref.setMany(batch);
          maxCache = Math.max(maxCache, nodes.hashCacheSize);
        }
        const ms = Date.now() - t0;
        expect(map.root()).toBe(ref.root());
        expect(records.size).toBe(keys);
        expect(records.get("key12345")).toEqual({ type: "counter", state: { p: 124, n: 0 } });
        expect(records.keyOf(keyHashOf("key99999"))).toBe("key99999");
        expect(JSON.stringify(map.prove("key12345"))).toBe(JSON.stringify(ref.prove("key12345")));
        // What the stores keep in memory: the hash cache, bounded whatever the number of keys.
        expect(maxCache).toBeLessThanOrEqual(SqlNodeStore.hashCacheMax);
        expect(nodes.hashCacheSize).toBeLessThanOrEqual(SqlNodeStore.hashCacheMax);
        expect(nodes.size).toBe(ref.store.size + nodes.retiredCount);
        console.log(
          `100k keys through the SQLite stores: ${ms} ms; ${nodes.size} node rows, ${nodes.retiredCount} retired, hash cache ${nodes.hashCacheSize}/${SqlNodeStore.hashCacheMax}`,
        );
      }),
    180_000,
  );
});
