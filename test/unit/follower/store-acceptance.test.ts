/**
 * The follower store acceptance suite over the memory store (plain Node): a reopen is a copy of
 * what was stored (`clone`), as a restart of a host finds it.
 */
import { MemoryFollowerStore } from "../../../shared/follower/memory-store.js";
import { runFollowerStoreAcceptance } from "../../support/follower-acceptance.js";

runFollowerStoreAcceptance("memory", {
  run: (body) => {
    let last: MemoryFollowerStore | undefined;
    body({
      open: () => (last = new MemoryFollowerStore()),
      reopen: () => {
        if (!last) throw new Error("nothing opened yet");
        return (last = last.clone());
      },
    });
  },
});
