/**
 * The replica core acceptance suite over the EdgeReplica's SQLite store, inside workerd: real
 * `ctx.storage.sql` and `transactionSync`. Each test gets a Durable Object of its own (an
 * EdgeReplica instance, never called as a replica), so every store starts empty.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { ReplicaStore } from "../../durable-objects/storage/replica-store.js";
import { runReplicaCoreAcceptance } from "../support/replica-acceptance.js";

let n = 0;

runReplicaCoreAcceptance("SQLite (workerd)", {
  run: (body) => {
    const id = env.EDGE_REPLICA.idFromName(`replica-core-acceptance-${Date.now()}-${++n}`);
    return runInDurableObject(env.EDGE_REPLICA.get(id), (_instance, state) =>
      body({
        open: () => new ReplicaStore(state.storage.sql),
        transaction: (fn) => state.storage.transactionSync(fn),
      }),
    );
  },
});
