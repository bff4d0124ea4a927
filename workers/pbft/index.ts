/** The nodes' Worker (`aspec-pbft`): the PbftNode Durable Objects and the `Nodes` entrypoint. */
import { AspecError } from "../../shared/errors.js";

export { PbftNode } from "../../durable-objects/pbft-node.js";
export { Nodes } from "./nodes.js";

const notServed = new AspecError("not_found", "the PBFT nodes answer RPC from the edge only");

/** Nothing is served over HTTP: the edge reaches the nodes by RPC only. */
export default {
  fetch: () => Response.json(notServed.toBody(), { status: notServed.status }),
} satisfies ExportedHandler;
