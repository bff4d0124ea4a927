/**
 * The delivery state acceptance suite over the SQLite state, inside workerd: real `ctx.storage.sql`
 * and `transactionSync` of a Durable Object, the marks in the replica store's `meta` rows. Each
 * test body gets a Durable Object of its own (an EdgeReplica instance, never used as a replica),
 * so every state starts empty; a reopen is a new state over the same storage.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { DeliveryStore } from "../../durable-objects/delivery-store.js";
import { ReplicaStore } from "../../durable-objects/storage/replica-store.js";
import { runDeliveryStateAcceptance } from "../support/delivery-acceptance.js";

let n = 0;

runDeliveryStateAcceptance("SQLite (workerd)", {
  run: (body) => {
    const id = env.EDGE_REPLICA.idFromName(`delivery-acceptance-${Date.now()}-${++n}`);
    return runInDurableObject(env.EDGE_REPLICA.get(id), (_instance, state) => {
      const open = () => new DeliveryStore(state.storage, new ReplicaStore(state.storage.sql));
      body({ open, reopen: open });
    });
  },
});
