/**
 * `Nodes`, the nodes' Worker's one entrypoint: what the edge (`aspec-edge`, its `PBFT` service
 * binding) may ask of a node. Each call names the node; a name that is not one of `PBFT_NODES` is
 * refused before any Durable Object is touched (a faulty caller can't create objects by naming them).
 * Arguments are checked again by the node itself (durable-objects/pbft-node.ts): the caller is a peer.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import { PBFT_NODES } from "../../shared/cluster-config.js";
import { AspecError } from "../../shared/errors.js";
import type { FaultSettings } from "../../shared/rpc/fault-settings.js";
import type { NodesRpc, NodeStatus, SubmitAnswer } from "../../shared/rpc/nodes.js";
import type { PbftEnv } from "../../platform/pbft-env.js";
import { nodeObject } from "../../platform/node-object.js";

export class Nodes extends WorkerEntrypoint<PbftEnv> implements NodesRpc {
  /** Client ops (the text of a JSON array), verified by the node before they enter its pool. */
  async submit(id: string, text: string): Promise<SubmitAnswer> {
    return await this.node(id).submit(id, text);
  }

  async status(id: string): Promise<NodeStatus> {
    return (await this.node(id).status(id)) as NodeStatus;
  }

  beat(id: string): Promise<void> {
    return this.node(id).beat(id);
  }

  certifiedHead(id: string): Promise<number> {
    return this.node(id).certifiedHead(id);
  }

  certifiedBatches(id: string, fromSeq: number, max: number): Promise<string> {
    return this.node(id).certifiedBatches(id, fromSeq, max);
  }

  transferPoint(id: string): Promise<string> {
    return this.node(id).transferPoint(id);
  }

  stateChunks(id: string, seq: number, paths: string[], recordsMax: number): Promise<string> {
    return this.node(id).stateChunks(id, seq, paths, recordsMax);
  }

  /** Dev only: the node checks the token (and that this is a dev deployment) itself. */
  setFaults(id: string, token: string, faults: FaultSettings): Promise<void> {
    return this.node(id).setFaults(id, token, faults);
  }

  private node(id: unknown) {
    const node = PBFT_NODES.find((n) => n.id === id);
    if (!node) throw new AspecError("invalid_args", "no such PBFT node");
    return nodeObject(this.env.PBFT_NODE, node);
  }
}
