/**
 * Starting a PBFT node in its Durable Object (bound to its node id already): resolve the cluster
 * and the node's key (refusing a key the cluster does not list), install its boundary (in dev,
 * possibly the fault wrapper), and restore the core's driver from SQLite.
 */
import { nodeKey, nodeSecretName, PBFT_NODES, resolveCluster } from "../shared/cluster-config.js";
import { MerkleStateMachine } from "../shared/certified/state-machine.js";
import type { ClusterConfig } from "../shared/certified/types.js";
import { AspecError } from "../shared/errors.js";
import { PbftBoundary } from "../shared/pbft/boundary.js";
import { PbftDriver, type DriverHost } from "../shared/pbft/driver.js";
import type { CertifiedBatch } from "../shared/pbft/effects.js";
import { ed25519Scheme } from "../shared/pbft/signature-scheme.js";
import { policyOf } from "../shared/namespaces/policy.js";
import { devFaults } from "#dev-faults";
import type { FaultSwitch } from "../platform/dev-faults-hook.js";
import { plainNodeBoundary, type NodeBoundary } from "../platform/node-boundary.js";
import type { PbftEnv } from "../platform/pbft-env.js";
import { nodeConfig } from "./node-config.js";
import { SqlNodeStore } from "./storage/sql-node-store.js";
import { SqlRecordStore } from "./storage/sql-record-store.js";
import { sqlDriverStorage } from "./storage/sql-driver-storage.js";

export interface RunningNode {
  me: number;
  id: string;
  cluster: ClusterConfig;
  driver: PbftDriver;
  boundary: PbftBoundary;
  /** What the node lets out (the plain boundary, or the dev fault wrapper). */
  out: NodeBoundary;
  /** The fault wrapper's switch, where one is installed (dev, with a FAULT_TOKEN). */
  faults: FaultSwitch | undefined;
}

export interface NodeHostParts {
  /** One step's sends (durable-objects/node-links.ts). */
  transport: DriverHost["transport"];
  /** A certified batch the core completed (durable-objects/certificate-posts.ts). */
  publish(me: number, n: number, id: string, c: CertifiedBatch): void;
  /** The boundary the node runs with, as soon as it is known (the driver's hooks read it). */
  installed(out: NodeBoundary): void;
}

/** Boot node `id` in this object; the driver's pending effects are resumed by the caller. */
export async function bootNode(ctx: DurableObjectState, env: PbftEnv, id: string, parts: NodeHostParts) {
  const me = PBFT_NODES.findIndex((n) => n.id === id);
  if (me < 0) throw new AspecError("invalid_args", `no PBFT node '${id}'`);
  const sql = ctx.storage.sql;
  const { config: cluster } = await resolveCluster(env);
  const key = await nodeKey(env, id);
  // a node whose key is not the one the cluster lists would sign what every verifier refuses
  if (cluster.nodes[me]!.publicKey !== key.publicKey)
    throw new AspecError(
      "not_configured",
      `${nodeSecretName(id)} is not the key PBFT_PUBLIC_KEYS lists for ${id}`,
    );
  const config = nodeConfig(env);
  const boundary = new PbftBoundary(cluster, me, ed25519Scheme(cluster, key.secret), config);
  const { boundary: out, faults } = devFaults.node(plainNodeBoundary, { sql, env, me });
  parts.installed(out);
  // the deployment's open namespaces decide certified results: the cluster config carries them
  const sm = new MerkleStateMachine(
    { records: new SqlRecordStore(sql, "pbft_records"), nodes: new SqlNodeStore(sql, "pbft_nodes") },
    policyOf(cluster),
  );
  const host: DriverHost = {
    storage: sqlDriverStorage(ctx.storage),
    transport: parts.transport,
    signer: boundary,
    publish: (c) => parts.publish(me, cluster.nodes.length, id, c),
    hooks: { rewrite: (effects) => out.rewrite(effects) },
  };
  const { driver, effects } = PbftDriver.restore({ cluster, me, config, sm }, host);
  const node: RunningNode = { me, id, cluster, driver, boundary, out, faults };
  return { node, effects };
}
