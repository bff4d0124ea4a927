/**
 * The replica core acceptance suite over the memory store (plain Node): each test a fresh store, the
 * host's transaction the store's own.
 */
import { MemoryReplicaStore } from "../../../shared/replica/memory-store.js";
import { runReplicaCoreAcceptance } from "../../support/replica-acceptance.js";

runReplicaCoreAcceptance("memory", {
  run: async (body) => {
    let store: MemoryReplicaStore | undefined;
    await body({
      open: () => (store = new MemoryReplicaStore()),
      transaction: (fn) => {
        if (!store) throw new Error("nothing opened yet");
        return store.transaction(fn);
      },
    });
  },
});
