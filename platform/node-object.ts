/**
 * A PBFT node's Durable Object, inside the nodes' Worker: created in its region (`locationHint`).
 * Generic over the namespace's class, so this glue never names the Durable Object's class: the
 * caller's binding (`PBFT_NODE`) brings its type.
 */
import type { NodePlacement } from "../shared/cluster-config.js";

const ids = new WeakMap<object, Map<string, DurableObjectId>>();

export function nodeObject<T extends Rpc.DurableObjectBranded | undefined>(
  ns: DurableObjectNamespace<T>,
  node: NodePlacement,
): DurableObjectStub<T> {
  let byName = ids.get(ns);
  if (!byName) ids.set(ns, (byName = new Map()));
  let id = byName.get(node.id);
  if (!id) byName.set(node.id, (id = ns.idFromName(node.id)));
  return ns.get(id, { locationHint: node.region as DurableObjectLocationHint });
}
