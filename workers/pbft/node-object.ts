/** A PBFT node's Durable Object, inside the nodes' Worker: created in its region (`locationHint`). */
import type { NodePlacement } from "../../shared/cluster-config.js";
import type { PbftNode } from "../../durable-objects/pbft-node.js";

const ids = new WeakMap<object, Map<string, DurableObjectId>>();

export function nodeObject(ns: DurableObjectNamespace<PbftNode>, node: NodePlacement) {
  let byName = ids.get(ns);
  if (!byName) ids.set(ns, (byName = new Map()));
  let id = byName.get(node.id);
  if (!id) byName.set(node.id, (id = ns.idFromName(node.id)));
  return ns.get(id, { locationHint: node.region as DurableObjectLocationHint });
}
