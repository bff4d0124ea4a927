/**
 * The delivery state acceptance suite over the memory state (plain Node): a reopen is a copy of
 * what was stored (`clone`), as a restart of a host finds it.
 */
import { MemoryDeliveryState } from "../../../shared/delivery/memory-state.js";
import { runDeliveryStateAcceptance } from "../../support/delivery-acceptance.js";

runDeliveryStateAcceptance("memory", {
  run: (body) => {
    let last: MemoryDeliveryState | undefined;
    body({
      open: () => (last = new MemoryDeliveryState()),
      reopen: () => {
        if (!last) throw new Error("nothing opened yet");
        return (last = last.clone());
      },
    });
  },
});
