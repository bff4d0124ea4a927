/**
 * The driver acceptance suite (test/support/driver-acceptance.ts) over the PbftNode's storage inside
 * workerd: the core's rows in a SQLite table and the certified state in the SQLite stores, one
 * `transactionSync` per step (a step that throws is rolled back by SQLite itself). All four nodes'
 * tables live in one Durable Object here (names of their own), which changes nothing they rely on.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { sqlDriverStorage } from "../../durable-objects/storage/sql-driver-storage.js";
import { SqlNodeStore } from "../../durable-objects/storage/sql-node-store.js";
import { SqlRecordStore } from "../../durable-objects/storage/sql-record-store.js";
import { MerkleStateMachine } from "../../shared/certified/state-machine.js";
import { runDriverAcceptance, type HostNode } from "../support/driver-acceptance.js";

const host = () => env.PBFT_NODE.get(env.PBFT_NODE.idFromName("driver-acceptance-host"));
let storage: DurableObjectStorage | null = null;

/** SQL table names per node name: one short prefix each (`n1`, `n2`, …), the same on reopen. */
const prefixes = new Map<string, string>();
const tableOf = (name: string) => {
  let p = prefixes.get(name);
  if (p === undefined) prefixes.set(name, (p = `n${prefixes.size + 1}`));
  return p;
};

function nodeOn(name: string): HostNode {
  const s = storage!;
  const t = tableOf(name);
  return {
    storage: sqlDriverStorage(s, `${t}_rows`),
    sm: new MerkleStateMachine({
      records: new SqlRecordStore(s.sql, `${t}_r`),
      nodes: new SqlNodeStore(s.sql, `${t}_m`),
    }),
  };
}

runDriverAcceptance("SQLite (workerd)", {
  fresh: nodeOn,
  reopen: nodeOn,
  run: (body) =>
    runInDurableObject(host(), async (_instance, state) => {
      storage = state.storage;
      try {
        await body();
      } finally {
        storage = null;
      }
    }),
});
