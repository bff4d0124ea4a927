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
import { recordValueBytes } from "../../shared/certified/execute.js";
import { MerkleStateMachine, memoryStores } from "../../shared/certified/state-machine.js";
import { sha256 } from "../../shared/hash.js";
import type { KeyRecord } from "../../shared/materialize.js";
import type { SignedOp } from "../../shared/ops.js";

// The native SHA-256 a server installs (shared/hash.ts; node:crypto under nodejs_compat): the
// scale test hashes a few million times, and the stores, not the portable hash, are under test.
useNativeSha256((d) => new Uint8Array(nodeCrypto.createHash("sha256").update(d).digest()));

const host = () => env.EDGE_REPLICA.get(env.EDGE_REPLICA.idFromName("sql-stores-acceptance"));
let n = 0;

for (const history of [true, false])
  runStoreAcceptance(history ? "SQLite (workerd)" : "SQLite (workerd), no record history", {
    durable: true,
    recordHistory: history,
    run: (body) =>
      runInDurableObject(host(), (_instance, state) => {
        const name = `t${++n}`;
        const open = () => ({
          nodes: new SqlNodeStore(state.storage.sql, `${name}_m`),
          records: new SqlRecordStore(state.storage.sql, `${name}_r`, { history }),
        });
        body({ open, reopen: open, transaction: (fn) => state.storage.transactionSync(fn) });
      }),
  });

describe("SQLite stores at scale", () => {
  // 100,000 keys in a PBFT node's stores: 99,000 built in bulk (as a node adopting a state would
  // end up), then batches of 100 ops through the certified state machine, each in one transaction
  // at its seq, replaced nodes retired and collected through a "stable checkpoint" behind. Nothing
  // kept in memory may grow with the keys: only the bounded caches (the JS heap itself, measured
  // by `npm run bench:store`, stays ~1 MiB at 10^6 keys).
  it(
    "100,000 keys: the certified state machine over SQLite gives the in-memory roots and proofs, memory bounded by the caches",
    () =>
      runInDurableObject(host(), (_instance, { storage }) => {
        const bulk = 99_000;
        const name = `scale_${Date.now() % 1e9}`;
        const nodes = new SqlNodeStore(storage.sql, `${name}_m`);
        const records = new SqlRecordStore(storage.sql, `${name}_r`);
        const ref = memoryStores();
        const rec = (i: number): KeyRecord => ({ type: "counter", state: { p: i % 7, n: 0 } });
        const t0 = Date.now();
        storage.transactionSync(() => {
          const kh = new Uint8Array(bulk * 32);
          const vh = new Uint8Array(bulk * 32);
          for (let i = 0; i < bulk; i++) {
            kh.set(keyHashOf(`key${i}`), i * 32);
            vh.set(sha256(recordValueBytes(rec(i))), i * 32);
            records.setAt(`key${i}`, rec(i), 0);
            ref.records.setAt(`key${i}`, rec(i), 0);
          }
          AuthMap.buildPacked(kh, vh, nodes);
          AuthMap.buildPacked(kh, vh, ref.nodes);
        });
        const tBulk = Date.now() - t0;
        const sm = new MerkleStateMachine({ nodes, records });
        const mem = new MerkleStateMachine(ref);
        expect(sm.stateRoot()).toBe(mem.stateRoot());
        let maxCache = 0;
        let seq = 0;
        for (let b = 0; b < 30; b++) {
          // 100 ops: a third on new keys (up to 100,000 in all), the rest on existing ones
          const ops: SignedOp[] = Array.from({ length: 100 }, (_, j) => {
            seq++;
            const key = j % 3 === 0 ? `key${bulk + b * 34 + j / 3}` : `key${(seq * 7919) % bulk}`;
            return {
              client: "C".repeat(43),
              seq,
              key,
              type: "counter",
              op: "add",
              args: { n: 1 },
              ts: seq,
              sig: "S".repeat(86),
            };
          });
          const got = storage.transactionSync(() => {
            const ex = sm.execute(ops, b + 1);
            if (b >= 10) sm.collect(b - 9);
            return ex;
          });
          expect(got).toEqual(mem.execute(ops, b + 1));
          if (b >= 10) mem.collect(b - 9);
          maxCache = Math.max(maxCache, nodes.hashCacheSize);
        }
        const ms = Date.now() - t0;
        expect(records.size).toBeGreaterThanOrEqual(100_000);
        for (const key of ["key12345", "key99999", "key42"])
          expect(JSON.stringify(sm.proveKey(key))).toBe(JSON.stringify(mem.proveKey(key)));
        // What the stores keep in memory: the node store's hash cache, bounded whatever the number
        // of keys (the record store keeps nothing; the state machine a bounded key-hash cache).
        expect(maxCache).toBeLessThanOrEqual(SqlNodeStore.hashCacheMax);
        expect(nodes.hashCacheSize).toBeLessThanOrEqual(SqlNodeStore.hashCacheMax);
        expect(nodes.size).toBe(ref.nodes.size);
        console.log(
          `100k keys in the SQLite stores: bulk ${tBulk} ms, 3,000 ops ${ms - tBulk} ms; ${records.size} records, ${nodes.size} node rows, ${nodes.retiredCount} retired, hash cache ${nodes.hashCacheSize}/${SqlNodeStore.hashCacheMax}`,
        );
      }),
    120_000,
  );
});
