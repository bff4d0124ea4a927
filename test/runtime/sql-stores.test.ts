/**
 * The certified-store acceptance suite over the SQLite stores, inside workerd: real
 * `ctx.storage.sql` and `transactionSync` of a Durable Object (an EdgeReplica instance serves as
 * the host; the stores use tables of their own).
 */
import { env, runInDurableObject } from "cloudflare:test";
import * as nodeCrypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { SqlNodeStore } from "../../durable-objects/storage/sql-node-store.js";
import { SqlRecordStore } from "../../durable-objects/storage/sql-record-store.js";
import { AuthMap } from "../../shared/certified/merkle-map.js";
import { MemoryNodeStore } from "../../shared/certified/node-store.js";
import { utf8 } from "../../shared/bytes.js";
import { keyHashOf } from "../../shared/certified/hashing.js";
import { useNativeSha256 } from "../../shared/hash.js";
import { runStoreAcceptance } from "../support/store-acceptance.js";

// The native SHA-256 a server installs (shared/hash.ts; node:crypto under nodejs_compat): the
// scale test hashes a few million times, and the stores, not the portable hash, are under test.
useNativeSha256((d) => new Uint8Array(nodeCrypto.createHash("sha256").update(d).digest()));

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
        // What the stores keep in memory: the node store's hash cache, bounded whatever the number
        // of keys (the record store keeps nothing but the newest version it was set at).
        expect(maxCache).toBeLessThanOrEqual(SqlNodeStore.hashCacheMax);
        expect(nodes.hashCacheSize).toBeLessThanOrEqual(SqlNodeStore.hashCacheMax);
        expect(nodes.size).toBe(ref.store.size + nodes.retiredCount);
        console.log(
          `100k keys through the SQLite stores: ${ms} ms; ${nodes.size} node rows, ${nodes.retiredCount} retired, hash cache ${nodes.hashCacheSize}/${SqlNodeStore.hashCacheMax}`,
        );
      }),
    300_000,
  ); // ~3.5M SQLite statements: 85 s on this 2-core machine under load, 121 s under more load
});
