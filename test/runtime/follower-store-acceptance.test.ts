/**
 * The follower store acceptance suite over the SQLite store, inside workerd: real `ctx.storage.sql`
 * and `transactionSync` (nested: a savepoint) of a Durable Object. Each test body gets Durable
 * Objects of its own (an EdgeReplica instance per `open`, never used as a replica), so every store
 * starts empty; a reopen is a new store over the same storage.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { SqlFollowerStore } from "../../durable-objects/storage/sql-follower-store.js";
import { runFollowerStoreAcceptance } from "../support/follower-acceptance.js";

let n = 0;

runFollowerStoreAcceptance("SQLite (workerd)", {
  run: (body) => {
    const id = env.EDGE_REPLICA.idFromName(`follower-acceptance-${Date.now()}-${++n}`);
    return runInDurableObject(env.EDGE_REPLICA.get(id), (_instance, state) => {
      let opened = 0;
      body({
        open: () => {
          // one storage per Durable Object: a second `open` in a body starts from a wiped store
          if (opened++ > 0) wipe(state.storage);
          return new SqlFollowerStore(state.storage);
        },
        reopen: () => new SqlFollowerStore(state.storage),
      });
    });
  },
});

function wipe(storage: DurableObjectStorage): void {
  const tables = storage.sql
    .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'cert%'")
    .toArray();
  for (const { name } of tables) storage.sql.exec(`DELETE FROM ${name}`);
}
