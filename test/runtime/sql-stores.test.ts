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
import { sha256 } from "../../shared/hash.js";
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
  it(
    "hold 20,000 keys in SQLite with the in-memory tree's root, updated in batches",
    () =>
      runInDurableObject(host(), (_instance, { storage }) => {
        const keys = 20_000;
        const keyHashes = new Uint8Array(keys * 32);
        const valueHashes = new Uint8Array(keys * 32);
        for (let i = 0; i < keys; i++) {
          keyHashes.set(keyHashOf(`key${i}`), i * 32);
          valueHashes.set(sha256(utf8(`v${i}`)), i * 32);
        }
        const nodes = new SqlNodeStore(storage.sql, `scale_${Date.now()}`);
        const map = storage.transactionSync(() => AuthMap.buildPacked(keyHashes, valueHashes, nodes));
        const ref = AuthMap.buildPacked(keyHashes, valueHashes, new MemoryNodeStore());
        expect(map.root()).toBe(ref.root());
        expect(nodes.size).toBe(ref.store.size);
        for (let b = 0; b < 5; b++) {
          const batch = Array.from(
            { length: 100 },
            (_, j) => [`key${(b * 7919 + j * 104_729) % keys}`, utf8(`b${b}`)] as const,
          );
          storage.transactionSync(() => map.setMany(batch));
          ref.setMany(batch);
          expect(map.root()).toBe(ref.root());
        }
        expect(JSON.stringify(map.prove("key12345"))).toBe(JSON.stringify(ref.prove("key12345")));
      }),
    180_000,
  ); // ~50k SQLite rows written: seconds on a quiet machine, far more on a loaded one
});
