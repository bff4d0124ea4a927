/**
 * A PBFT node as a Durable Object (`pbft-0..3`, each created with its region as `locationHint`):
 * the last host of the one shell loop (`shared/pbft/driver.ts`). Everything that decides is the
 * pure core; this shell only persists, sends and replies:
 *
 * - storage: the core's rows in `pbft_rows`, the certified state in `pbft_records*` / `pbft_nodes*`
 *   (the same SQLite store classes the replicas use), one `transactionSync` per step;
 * - transport: one RPC per destination per step (`deliver`), never awaited inside a step;
 * - signer: the node's own Ed25519 key (`PBFT_KEY_<ID>` when deployed, the dev seed in dev;
 *   missing → the node refuses to run, `not_configured`), through `PbftBoundary`;
 * - certificates: posted to the `certificates` queue by one node per seq (`seq mod n`), with the
 *   batch's ops, for every replica;
 * - one alarm, at the core's next wake-up.
 * It comes back from SQLite after an eviction, a deploy or a crash (`PbftDriver.restore`).
 */
import { DurableObject } from "cloudflare:workers";
import { nodeKey, PBFT_NODES, resolveCluster } from "../shared/cluster-config.js";
import { MerkleStateMachine } from "../shared/certified/state-machine.js";
import type { ClusterConfig } from "../shared/certified/types.js";
import { AspecError } from "../shared/errors.js";
import type { SignedOp } from "../shared/ops.js";
import { PbftBoundary } from "../shared/pbft/boundary.js";
import type { PbftConfig } from "../shared/pbft/config.js";
import { PbftDriver, type DriverHost } from "../shared/pbft/driver.js";
import type { CertifiedBatch } from "../shared/pbft/effects.js";
import type { Envelope } from "../shared/pbft/messages.js";
import { ed25519Scheme } from "../shared/pbft/signature-scheme.js";
import type { Env } from "../workers/env.js";
import { pbftNodeStub } from "../workers/pbft-node-stub.js";
import { publishCertified } from "../workers/certificates-publish.js";
import { SqlNodeStore } from "./storage/sql-node-store.js";
import { SqlRecordStore } from "./storage/sql-record-store.js";
import { sqlDriverStorage } from "./storage/sql-driver-storage.js";

/** The core's timing in a Durable Object: 50 ms ticks (an alarm per tick only while busy). */
export const NODE_CONFIG: Partial<PbftConfig> = {
  tickMs: 50,
  batchSizeMax: 100,
  statusIntervalTicks: 20,
  retransmitAfterTicks: 10,
  requestTimeoutTicks: 100,
  viewChangeTimeoutTicks: 60,
  relayAfterTicks: 20,
  stateTransferIntervalTicks: 20,
};

/** What a node answers about itself (`GET /v1/cluster` shows it per node; tests read it). */
export interface NodeStatus {
  id: string;
  view: number;
  normal: boolean;
  lastExecuted: number;
  stableSeq: number;
  pool: number;
  uncertifiedFrom: number;
  certificatesPosted: number;
  sendFailures: number;
  stats: Record<string, number>;
}

interface Running {
  me: number;
  id: string;
  cluster: ClusterConfig;
  driver: PbftDriver;
  boundary: PbftBoundary;
}

export class PbftNode extends DurableObject<Env> {
  private running: Promise<Running> | undefined;
  private certificatesPosted = 0;

  /** Envelopes from another node (its sends of one step). */
  async deliver(id: string, envelopes: string): Promise<void> {
    const node = await this.start(id);
    let raws: unknown;
    try {
      raws = JSON.parse(envelopes);
    } catch {
      raws = null;
    }
    if (!Array.isArray(raws)) return; // a faulty peer's junk: nothing to step
    const { wakeAtMs } = await node.driver.deliver(
      raws.slice(0, 1024).map((raw) => ({ raw, sizeBytes: JSON.stringify(raw).length })),
    );
    await this.wakeAt(wakeAtMs);
  }

  /** Client ops from the replicate queue (each verified here before it enters the pool). */
  async submit(id: string, ops: readonly unknown[]): Promise<{ admitted: number; refused: number }> {
    const node = await this.start(id);
    const admitted: SignedOp[] = [];
    for (const raw of ops.slice(0, 5_000)) {
      const op = await node.boundary.admitOp(raw);
      if (op) admitted.push(op);
    }
    if (admitted.length > 0) {
      const { wakeAtMs } = await node.driver.step({ kind: "submit-many", ops: admitted });
      await this.wakeAt(wakeAtMs);
    }
    return { admitted: admitted.length, refused: ops.length - admitted.length };
  }

  async status(id: string): Promise<NodeStatus> {
    const node = await this.start(id);
    const s = node.driver.replica.state;
    return {
      id: node.id,
      view: s.view,
      normal: s.normal,
      lastExecuted: s.lastExecuted,
      stableSeq: s.stable.seq,
      pool: s.pool.size,
      uncertifiedFrom: s.uncertifiedFrom,
      certificatesPosted: this.certificatesPosted,
      sendFailures: node.driver.sendFailures,
      stats: { ...s.stats },
    };
  }

  override async alarm(): Promise<void> {
    const id = this.ctx.storage.sql.exec<{ id: string }>("SELECT id FROM pbft_identity").toArray()[0]?.id;
    if (id === undefined) return; // never started: nothing to tick
    const node = await this.start(id);
    const { wakeAtMs } = await node.driver.step({ kind: "tick", nowMs: Date.now() });
    await this.wakeAt(wakeAtMs, true);
  }

  /** The node, started once per instance: keys, stores, the driver restored from SQLite. */
  private start(id: string): Promise<Running> {
    return (this.running ??= this.boot(id).catch((e) => {
      this.running = undefined; // a missing key today may be set tomorrow
      throw e;
    }));
  }

  private async boot(id: string): Promise<Running> {
    const me = PBFT_NODES.findIndex((n) => n.id === id);
    if (me < 0) throw new AspecError("invalid_args", `no PBFT node '${id}'`);
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS pbft_identity (id TEXT NOT NULL)");
    const known = sql.exec<{ id: string }>("SELECT id FROM pbft_identity").toArray()[0]?.id;
    if (known !== undefined && known !== id)
      throw new Error(`pbft node: this object is '${known}', not '${id}'`);
    if (known === undefined) sql.exec("INSERT INTO pbft_identity (id) VALUES (?)", id);
    const { config: cluster } = await resolveCluster(this.env);
    const key = await nodeKey(this.env, id);
    const boundary = new PbftBoundary(cluster, me, ed25519Scheme(cluster, key.secret), NODE_CONFIG);
    const sm = new MerkleStateMachine({
      records: new SqlRecordStore(sql, "pbft_records"),
      nodes: new SqlNodeStore(sql, "pbft_nodes"),
    });
    const host: DriverHost = {
      storage: sqlDriverStorage(this.ctx.storage),
      transport: { send: (to, envelopes) => this.send(to, envelopes) },
      signer: boundary,
      publish: (c) => this.publish(me, cluster, c),
    };
    const { driver, effects } = PbftDriver.restore({ cluster, me, config: NODE_CONFIG, sm }, host);
    const node: Running = { me, id, cluster, driver, boundary };
    const { wakeAtMs } = await driver.resume(effects);
    await this.wakeAt(wakeAtMs);
    return node;
  }

  /** One RPC to one node with one step's envelopes; not awaited by the step (the protocol repairs a loss). */
  private send(to: number, envelopes: readonly Envelope[]): void {
    const target = PBFT_NODES[to];
    if (!target) return;
    const call = pbftNodeStub(this.env, target)
      .deliver(target.id, JSON.stringify(envelopes))
      .catch((e: unknown) => console.log({ event: "pbft_send_failed", to: target.id, error: String(e) }));
    this.ctx.waitUntil(call);
  }

  /** The poster of a seq (seq mod n) sends its certified batch to every replica through the queue. */
  private async publish(me: number, cluster: ClusterConfig, c: CertifiedBatch): Promise<void> {
    if (c.body.seq % cluster.nodes.length !== me) return;
    await publishCertified(this.env, c); // the queue, or RPC to every replica for a batch over 120 KiB
    this.certificatesPosted++;
  }

  /** One alarm: at the core's next wake-up (earlier than a later one already set). */
  private async wakeAt(wakeAtMs: number | null, fired = false): Promise<void> {
    if (wakeAtMs === null) return;
    const at = Math.max(wakeAtMs, Date.now() + 1);
    const current = fired ? null : await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }
}
