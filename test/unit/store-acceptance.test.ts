/** The certified-store acceptance suite over the in-memory stores (plain Node). */
import type { RecordStore } from "../../shared/certified/execute.js";
import { MemoryNodeStore } from "../../shared/certified/node-store.js";
import type { KeyRecord } from "../../shared/materialize.js";
import { runStoreAcceptance } from "../support/store-acceptance.js";

/** Records kept as JSON text, like the SQLite store, so a caller can't alias stored state. */
function memoryRecords(): RecordStore {
  const rows = new Map<string, string>();
  return {
    get: (k) => {
      const row = rows.get(k);
      return row === undefined ? undefined : (JSON.parse(row) as KeyRecord);
    },
    set: (k, r) => void rows.set(k, JSON.stringify(r)),
  };
}

runStoreAcceptance("in-memory", {
  durable: false,
  run: (body) => body({ open: () => ({ nodes: new MemoryNodeStore(), records: memoryRecords() }) }),
});
