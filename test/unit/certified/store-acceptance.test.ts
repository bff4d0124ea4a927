/**
 * The certified-store acceptance suite over the in-memory stores (plain Node). The memory stores
 * have no storage or transactions of their own; the host gives them both with `clone()`, the way
 * the simulator does: a restart reopens copies of the stores' current state, and a transaction
 * snapshots the open stores and puts the snapshots back on a throw. So the durable tests check the
 * reference semantics too.
 */
import { MemoryNodeStore, type NodeStore } from "../../../shared/certified/node-store.js";
import { MemoryRecordStore, type VersionedRecordStore } from "../../../shared/certified/record-store.js";
import { runStoreAcceptance, type StoreHost, type Stores } from "../../support/store-acceptance.js";

/** A store whose state can be swapped under its callers (restored after a throw). */
interface Cell {
  nodes: MemoryNodeStore;
  records: MemoryRecordStore;
}

function nodesOf(cell: Cell): NodeStore {
  return {
    get: (id) => cell.nodes.get(id),
    add: (n) => cell.nodes.add(n),
    remove: (id) => cell.nodes.remove(id),
    retire: (id, v) => cell.nodes.retire(id, v),
    collect: (t) => cell.nodes.collect(t),
    getRoot: () => cell.nodes.getRoot(),
    setRoot: (id) => cell.nodes.setRoot(id),
    copyHash: (id, out, offset) => cell.nodes.copyHash(id, out, offset),
    get retiredCount() {
      return cell.nodes.retiredCount;
    },
    get size() {
      return cell.nodes.size;
    },
  };
}

function recordsOf(cell: Cell): VersionedRecordStore {
  return {
    // Records go through JSON, like the SQLite store's, so a caller can't alias stored state.
    get: (k) => structuredClone(cell.records.get(k)),
    setAt: (k, r, v) => cell.records.setAt(k, structuredClone(r), v),
    setManyAt: (es, v) => cell.records.setManyAt(structuredClone(es), v),
    getAt: (k, v) => structuredClone(cell.records.getAt(k, v)),
    keyOf: (h) => cell.records.keyOf(h),
    collect: (t) => cell.records.collect(t),
    get size() {
      return cell.records.size;
    },
  };
}

/** The memory stores as a host; `history: false` opens the record store as a replica does. */
const memoryHost = (history: boolean): StoreHost => ({
  durable: true,
  recordHistory: history,
  run: (body) => {
    let cells: Cell[] = [];
    const wrap = (cell: Cell): Stores => {
      cells.push(cell);
      return { nodes: nodesOf(cell), records: recordsOf(cell) };
    };
    const last = () => cells[cells.length - 1]!;
    body({
      open: () => wrap({ nodes: new MemoryNodeStore(), records: new MemoryRecordStore({ history }) }),
      reopen: () => wrap({ nodes: last().nodes.clone(), records: last().records.clone() }),
      transaction: (fn) => {
        const saved = cells.map((c) => ({ cell: c, nodes: c.nodes.clone(), records: c.records.clone() }));
        try {
          return fn();
        } catch (e) {
          for (const s of saved) Object.assign(s.cell, { nodes: s.nodes, records: s.records });
          throw e;
        }
      },
    });
    cells = [];
  },
});

runStoreAcceptance("in-memory", memoryHost(true));
runStoreAcceptance("in-memory, no record history", memoryHost(false));
