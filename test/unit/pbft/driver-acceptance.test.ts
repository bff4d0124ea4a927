/**
 * The driver acceptance suite (test/support/driver-acceptance.ts) over the in-memory host: rows in
 * a map, the state machine over memory stores, one transaction per step (a step that throws is
 * rolled back: the node comes back from what was there before it).
 */
import type { Json } from "../../../shared/canonical.js";
import { MerkleStateMachine, memoryStores } from "../../../shared/certified/state-machine.js";
import { applyRows } from "../../../shared/pbft/driver.js";
import { runDriverAcceptance, type HostNode } from "../../support/driver-acceptance.js";

type Stores = ReturnType<typeof memoryStores>;

/** A node's durable state: what its committed transactions wrote. */
interface Disk {
  rows: Map<string, Json>;
  stores: Stores;
}

const disks = new Map<string, Disk>();

function nodeOver(disk: Disk): HostNode {
  return {
    storage: {
      transaction(body) {
        const rows = new Map(disk.rows);
        const stores = { records: disk.stores.records.clone(), nodes: disk.stores.nodes.clone() };
        try {
          return body();
        } catch (e) {
          // Rolled back: the disk is as before the transaction (the running node is discarded).
          disk.rows = rows;
          disk.stores = stores;
          throw e;
        }
      },
      write: (ops) => applyRows(disk.rows, ops),
      readRows: () => [...disk.rows].map(([k, v]) => [k, JSON.parse(JSON.stringify(v)) as Json]),
    },
    sm: new MerkleStateMachine(disk.stores),
  };
}

runDriverAcceptance("in-memory", {
  fresh(name) {
    const disk: Disk = { rows: new Map(), stores: memoryStores() };
    disks.set(name, disk);
    return nodeOver(disk);
  },
  reopen: (name) => nodeOver(disks.get(name)!),
});
