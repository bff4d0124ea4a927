/**
 * A PBFT node as a Durable Object (`pbft-0..3`, each created with its region as `locationHint`):
 * the last host of the one shell loop (`shared/pbft/driver.ts`). Everything that decides is the
 * pure core; this shell decodes, steps, persists (one `transactionSync` per step), sends and replies.
 * Its parts: booting (keys, stores, the boundary, the driver restored from SQLite: `node-boot.ts`),
 * the peer links (`node-links.ts`: one RPC per destination per step, never awaited inside a step),
 * the loop (`node-loop.ts`: one alarm), certified batches posted, kept and served to replicas that
 * missed a seq (`certificate-posts.ts`; docs/architecture.md, "Posting certificates"), the state
 * transfer source (`node-transfer-source.ts`). What it lets out goes through one `NodeBoundary`
 * (platform/node-boundary.ts), which dev fault injection may wrap (`#dev-faults`, behind
 * FAULT_TOKEN; none in production).
 */
import "./native-sha256.js";
import { FAULT_INJECTION_OFF, faultInjectionAllowed } from "../shared/config.js";
import { AspecError } from "../shared/errors.js";
import { refusalText } from "../shared/certified/transfer-wire.js";
import type { SignedOp } from "../shared/ops.js";
import { plainNodeBoundary, type NodeBoundary } from "../platform/node-boundary.js";
import type { PbftEnv } from "../platform/pbft-env.js";
import type { FaultSettings } from "../shared/rpc/fault-settings.js";
import type { CertifiedBatchSource, NodeStatus, SubmitAnswer } from "../shared/rpc/nodes.js";
import { parseEnvelopes, parseSubmittedOps } from "../shared/wire/node-calls.js";
import { CertificatePosts } from "./certificate-posts.js";
import { bootNode, type RunningNode } from "./node-boot.js";
import { NodeLinks } from "./node-links.js";
import { stateChunks, transferPoint } from "./node-transfer-source.js";
import { NamedObject } from "./named-object.js";
import { isNodeId, legacyNodeId } from "./node-config.js";
import { NodeLoop } from "./node-loop.js";

export class PbftNode extends NamedObject<PbftEnv> implements CertifiedBatchSource {
  protected readonly kind = "pbft node";
  /** Earlier versions kept the node id in `pbft_identity`. */
  protected override legacyName = () => legacyNodeId(this.ctx.storage.sql);

  private running: Promise<RunningNode> | undefined;
  /** Certified batches kept, posted and served (durable-objects/certificate-posts.ts). */
  private readonly posts: CertificatePosts = new CertificatePosts(
    this.ctx,
    this.env,
    () => this.out,
    () => this.loop.wakeAt(null),
  );
  private readonly loop: NodeLoop = new NodeLoop(this.ctx.storage, () => this.posts);
  /** Dev `delayMs` only: per destination, when its last delayed send leaves (ms). */
  private readonly links = new NodeLinks(this.ctx, this.env, () => this.out);
  /** What the node lets out goes through here (set at boot; in dev, possibly a fault wrapper). */
  private out: NodeBoundary = plainNodeBoundary;

  /** Envelopes from another node (its sends of one step), each as its wire JSON text. */
  async deliver(id: string, envelopes: readonly string[]): Promise<void> {
    const node = await this.start(id);
    await this.out.hold();
    const raws = parseEnvelopes(envelopes);
    if (raws.length === 0) return; // none, or a faulty peer's junk: nothing to step
    await this.loop.tickIfAsleep(node);
    const { wakeAtMs } = await node.driver.deliver(raws);
    await this.loop.wakeAt(wakeAtMs);
  }

  /**
   * Client ops from the replicate queue, as the text of a JSON array of ops (`submitText`); each op
   * verified here before it enters the pool.
   */
  async submit(id: string, text: string): Promise<SubmitAnswer> {
    const node = await this.start(id);
    await this.out.hold();
    const ops = parseSubmittedOps(text);
    const admitted: SignedOp[] = [];
    for (const raw of ops.slice(0, 5_000)) {
      const op = await node.boundary.admitOp(raw);
      if (op) admitted.push(op);
    }
    let busy = 0;
    if (admitted.length > 0) {
      await this.loop.tickIfAsleep(node);
      const { effects, wakeAtMs } = await node.driver.step({ kind: "submit-many", ops: admitted });
      busy = effects.poolFull ?? 0;
      await this.loop.wakeAt(wakeAtMs);
    }
    return { admitted: admitted.length - busy, refused: ops.length - admitted.length, busy };
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
      ...this.posts.stats(),
      faults: node.faults?.current() ?? {},
      ...this.loop.stats(),
      sendFailures: node.driver.sendFailures,
      stats: { ...s.stats },
    };
  }

  /**
   * The newest seq this node keeps a certified batch for (0: none). For replicas that missed seqs
   * (durable-objects/certified-sync.ts); an unknown `id` answers 0.
   */
  async certifiedHead(id: string): Promise<number> {
    if (!isNodeId(id)) return 0;
    await this.start(id);
    await this.out.hold();
    if (!this.out.serves()) return 0;
    return this.posts.kept.head();
  }

  /**
   * Kept certified batches from `fromSeq` on (kept-batches.ts `served`); bad arguments answer `[]`,
   * never a throw. Untrusted by the replica, which parses and verifies every batch.
   */
  async certifiedBatches(id: string, fromSeq: number, max: number): Promise<string> {
    if (!isNodeId(id) || !Number.isSafeInteger(fromSeq) || fromSeq < 1) return "[]";
    if (!Number.isSafeInteger(max) || max < 1) return "[]";
    await this.start(id);
    await this.out.hold();
    if (!this.out.serves()) return "[]";
    return this.posts.served(fromSeq, max);
  }

  /** The stable checkpoint's certificate, for a replica's state transfer (node-transfer-source.ts). */
  async transferPoint(id: string): Promise<string> {
    if (!isNodeId(id)) return refusalText("bad_args");
    const { driver } = await this.start(id);
    return transferPoint(driver.replica.state, this.out, (seq) => this.posts.kept.certificate(seq));
  }

  /** Chunks of the stable checkpoint's state (node-transfer-source.ts). Never throws on bad arguments. */
  async stateChunks(id: string, seq: number, paths: string[], recordsMax: number): Promise<string> {
    if (!isNodeId(id)) return refusalText("bad_args");
    const { driver } = await this.start(id);
    return stateChunks(driver.replica.state, this.out, seq, paths, recordsMax);
  }

  /**
   * Dev only, behind FAULT_TOKEN (the replicas' rule, `faultInjectionAllowed`; refused with the same
   * error otherwise, and wherever no fault wrapper is installed): switch this node's faults; `{}`
   * switches them off. The wrapper keeps them in SQLite: they survive an eviction.
   */
  async setFaults(id: string, token: string, faults: FaultSettings): Promise<void> {
    const { faults: wrapper } = await this.start(id);
    if (!faultInjectionAllowed(this.env, token) || !wrapper) throw new Error(FAULT_INJECTION_OFF);
    const f = wrapper.set(faults);
    console.log({ event: "dev_faults_set", node: id, faults: f });
  }

  /** The node's one loop (durable-objects/node-loop.ts). */
  override async alarm(): Promise<void> {
    await this.loop.ring(this.boundName ?? undefined, (id) => this.start(id));
  }

  /**
   * A replica's reader found its newest certificate old: client activity, so the heartbeat runs
   * again for `HEARTBEAT_ACTIVITY_MS` (the primary beats at once if it has not proposed for
   * `HEARTBEAT_MS`; never sooner, however often asked). Cheap when already beating: no step while
   * the window has more than half of it left. Answers nothing; bad ids are ignored.
   */
  async beat(id: string): Promise<void> {
    if (!isNodeId(id)) return;
    const node = await this.start(id);
    await this.out.hold();
    const s = node.driver.replica.state;
    const windowTicks = s.cfg.heartbeatActivityTicks;
    const nowTick = Math.floor(Date.now() / s.cfg.tickMs);
    if (windowTicks > 0 && s.beatUntilTick - nowTick > windowTicks / 2) return;
    const { wakeAtMs } = await node.driver.step({ kind: "activity", nowMs: Date.now() });
    await this.loop.wakeAt(wakeAtMs);
  }

  /** The node, started once per instance: keys, stores, the driver restored from SQLite. */
  private start(id: string): Promise<RunningNode> {
    return (this.running ??= this.boot(id).catch((e) => {
      this.running = undefined; // a missing key today may be set tomorrow
      throw e;
    }));
  }

  private async boot(id: string): Promise<RunningNode> {
    if (!isNodeId(id)) throw new AspecError("invalid_args", `no PBFT node '${id}'`);
    this.bindName(id);
    const { node, effects } = await bootNode(this.ctx, this.env, id, {
      transport: this.links,
      publish: (me, n, nodeId, c) => this.posts.publish(me, n, nodeId, c),
      installed: (out) => void (this.out = out),
    });
    const { wakeAtMs } = await node.driver.resume(effects);
    await this.loop.wakeAt(wakeAtMs);
    return node;
  }
}
