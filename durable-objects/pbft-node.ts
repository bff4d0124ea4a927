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
 * - certified batches (durable-objects/certificate-posts.ts): each one kept, served to replicas
 *   that missed a seq (`certifiedHead`, `certifiedBatches`; durable-objects/certified-sync.ts
 *   asks), and posted for every replica by the seq's poster, or a delay later by the next node in
 *   line (`shared/pbft/posting.ts`; docs/architecture.md, "Posting certificates");
 * - certified state transfer to replicas: the stable checkpoint's certificate and chunks of its
 *   state (`transferPoint`, `stateChunks`; durable-objects/certified-transfer.ts asks);
 * - one alarm (durable-objects/one-alarm.ts), at the earlier of the core's next wake-up and the
 *   next fallback post;
 * - its boundary (platform/node-boundary.ts): what it lets out and how it answers goes through one
 *   `NodeBoundary`, which dev fault injection may wrap (`#dev-faults`, behind FAULT_TOKEN; none in
 *   production); the driver's `rewrite` hook is the boundary's.
 * It comes back from SQLite after an eviction, a deploy or a crash (`PbftDriver.restore`).
 */
import { DurableObject } from "cloudflare:workers";
import "./native-sha256.js";
import { nodeKey, nodeSecretName, PBFT_NODES, resolveCluster } from "../shared/cluster-config.js";
import { FAULT_INJECTION_OFF, faultInjectionAllowed } from "../shared/config.js";
import { MerkleStateMachine } from "../shared/certified/state-machine.js";
import { chunkRequest, chunksText, pointText, refusalText } from "../shared/certified/transfer-wire.js";
import type { Certificate, ClusterConfig } from "../shared/certified/types.js";
import { AspecError } from "../shared/errors.js";
import type { SignedOp } from "../shared/ops.js";
import { PbftBoundary } from "../shared/pbft/boundary.js";
import { PbftDriver, type DriverHost } from "../shared/pbft/driver.js";
import { ed25519Scheme } from "../shared/pbft/signature-scheme.js";
import { devFaults } from "#dev-faults";
import type { FaultSwitch } from "../platform/dev-faults-hook.js";
import { plainNodeBoundary, type NodeBoundary } from "../platform/node-boundary.js";
import type { PbftEnv } from "../platform/pbft-env.js";
import type { FaultSettings } from "../shared/rpc/fault-settings.js";
import type { CertifiedBatchSource, NodeStatus, SubmitAnswer } from "../shared/rpc/nodes.js";
import { parsePeerJson } from "../shared/wire/peer-text.js";
import { ENVELOPE_LIMITS, parseSubmittedOps } from "../shared/wire/node-calls.js";
import { CertificatePosts } from "./certificate-posts.js";
import { claimIdentity, NODE_CONFIG, nodeConfig } from "./node-config.js";
import { NodeLinks } from "./node-links.js";
import { OneAlarm } from "./one-alarm.js";
import { SqlNodeStore } from "./storage/sql-node-store.js";
import { SqlRecordStore } from "./storage/sql-record-store.js";
import { sqlDriverStorage } from "./storage/sql-driver-storage.js";

interface Running {
  me: number;
  id: string;
  cluster: ClusterConfig;
  driver: PbftDriver;
  boundary: PbftBoundary;
}

export class PbftNode extends DurableObject<PbftEnv> implements CertifiedBatchSource {
  private running: Promise<Running> | undefined;
  /** Certified batches kept, posted and served (durable-objects/certificate-posts.ts). */
  private readonly posts = new CertificatePosts(
    this.ctx,
    this.env,
    () => this.out,
    () => this.wakeAt(null),
  );
  private readonly wake = new OneAlarm(this.ctx.storage);
  /** Dev `delayMs` only: per destination, when its last delayed send leaves (ms). */
  private readonly links = new NodeLinks(this.ctx, this.env, () => this.out);
  private alarms = 0;
  private alarmFailures = 0;
  private lastAlarmAt: number | null = null;
  /** What the node lets out goes through here (set at boot; in dev, possibly a fault wrapper). */
  private out: NodeBoundary = plainNodeBoundary;
  /** The fault wrapper's switch, where one is installed (dev, with a FAULT_TOKEN). */
  private faults: FaultSwitch | undefined;

  /** Envelopes from another node (its sends of one step), each as its wire JSON text. */
  async deliver(id: string, envelopes: readonly string[]): Promise<void> {
    const node = await this.start(id);
    await this.out.hold();
    if (!Array.isArray(envelopes)) return; // a faulty peer's junk: nothing to step
    await this.tickIfAsleep(node);
    const raws = envelopes.slice(0, 1024).map((text) => {
      // the text's length is the size the boundary checks against the message limits; the strict
      // parser refuses what JSON.parse would resolve silently (duplicate members, __proto__, depth)
      if (typeof text !== "string") return { raw: null };
      const parsed = parsePeerJson(text, ENVELOPE_LIMITS);
      return { raw: parsed.ok ? parsed.value : null, sizeBytes: text.length };
    });
    const { wakeAtMs } = await node.driver.deliver(raws);
    await this.wakeAt(wakeAtMs);
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
      await this.tickIfAsleep(node);
      const { effects, wakeAtMs } = await node.driver.step({ kind: "submit-many", ops: admitted });
      busy = effects.poolFull ?? 0;
      await this.wakeAt(wakeAtMs);
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
      faults: this.faults?.current() ?? {},
      alarms: this.alarms,
      alarmFailures: this.alarmFailures,
      lastAlarmAt: this.lastAlarmAt,
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
   * Kept certified batches from `fromSeq` on, contiguous (it stops at the first seq it lacks: one it
   * skipped by state transfer, or older than what it keeps), at most `max` (≤ CERTIFIED_BATCHES_MAX)
   * and CERTIFIED_BATCHES_BYTES_MAX of JSON past the first, as the text of a JSON array of each
   * batch's wire text. Bad arguments answer `[]`, never a throw. What it serves is untrusted: a
   * replica parses and verifies every batch (`CertifiedReplica.receive`).
   */
  async certifiedBatches(id: string, fromSeq: number, max: number): Promise<string> {
    if (!isNodeId(id) || !Number.isSafeInteger(fromSeq) || fromSeq < 1) return "[]";
    if (!Number.isSafeInteger(max) || max < 1) return "[]";
    await this.start(id);
    await this.out.hold();
    if (!this.out.serves()) return "[]";
    return this.posts.served(fromSeq, max);
  }

  /**
   * Where a replica can transfer its certified state to: the certificate of this node's stable
   * checkpoint (its body has the log root and op count the replica resumes from), as canonical JSON
   * text (shared/certified/transfer-wire.ts). `no_checkpoint` while that seq has no certificate here
   * (none yet, or a node that skipped it). Never throws on bad arguments.
   */
  async transferPoint(id: string): Promise<string> {
    if (!isNodeId(id)) return refusalText("bad_args");
    const { driver } = await this.start(id);
    if (!this.out.serves()) return refusalText("unavailable");
    const s = driver.replica.state;
    const cert = s.stable.seq > 0 ? this.certificateOf(s.stable.seq, s.certificates) : undefined;
    if (cert === undefined) return refusalText("no_checkpoint");
    return pointText(this.out.certificate(cert));
  }

  /**
   * Chunks of the stable checkpoint's state (kept readable until the next checkpoint is stable:
   * `collect`), one per asked path, as canonical JSON text; another `seq` answers `not_stable` with
   * the seq served now (the replica moves to it). Bounded: TRANSFER_PATHS_MAX paths, records per
   * chunk, bytes per answer. Bad arguments answer `bad_args`, never a throw.
   */
  async stateChunks(id: string, seq: number, paths: string[], recordsMax: number): Promise<string> {
    if (!isNodeId(id) || !Number.isSafeInteger(seq) || seq < 1) return refusalText("bad_args");
    const req = chunkRequest(paths, recordsMax);
    if (req === null) return refusalText("bad_args");
    const { driver } = await this.start(id);
    if (!this.out.serves()) return refusalText("unavailable");
    const s = driver.replica.state;
    if (seq !== s.stable.seq) return refusalText("not_stable", s.stable.seq);
    return chunksText(s.sm, s.stableHandle, s.stable.seq, req);
  }

  /** The certificate of `seq`, from the kept batches or the core's recent certificates. */
  private certificateOf(seq: number, recent: ReadonlyMap<number, Certificate>): Certificate | undefined {
    return this.posts.kept.certificate(seq) ?? recent.get(seq);
  }

  /**
   * Dev only, behind FAULT_TOKEN (the replicas' rule, `faultInjectionAllowed`; refused with the same
   * error otherwise, and wherever no fault wrapper is installed): switch this node's faults; `{}`
   * switches them off. The wrapper keeps them in SQLite: they survive an eviction.
   */
  async setFaults(id: string, token: string, faults: FaultSettings): Promise<void> {
    await this.start(id);
    if (!faultInjectionAllowed(this.env, token) || !this.faults) throw new Error(FAULT_INJECTION_OFF);
    const f = this.faults.set(faults);
    console.log({ event: "dev_faults_set", node: id, faults: f });
  }

  /**
   * The node's one loop: tick first, then hand the due fallback posts to the network without waiting
   * for them (each has its own deadline), and re-arm in `finally`, whatever threw: a tick never waits
   * on I/O, and a throw never leaves re-arming to the platform's retry backoff.
   */
  override async alarm(): Promise<void> {
    const id = this.ctx.storage.sql.exec<{ id: string }>("SELECT id FROM pbft_identity").toArray()[0]?.id;
    if (id === undefined) return; // never started: nothing to tick
    let wakeAtMs: number | null = Date.now() + (NODE_CONFIG.tickMs ?? 50);
    this.alarms++;
    this.lastAlarmAt = Date.now();
    try {
      const node = await this.start(id);
      wakeAtMs = (await node.driver.step({ kind: "tick", nowMs: Date.now() })).wakeAtMs;
      this.posts.postDue(node.id);
    } catch (e) {
      this.alarmFailures++;
      console.error({ event: "pbft_alarm_failed", node: id, error: String(e) });
    } finally {
      await this.wakeAt(wakeAtMs, true);
    }
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
    await this.wakeAt(wakeAtMs);
  }

  /**
   * A node with nothing pending sets no alarm (`nextWakeMs`): its tick count then stops. Before it
   * steps what woke it, it ticks, so the timers that input starts count from now, not from when it
   * fell asleep (a view-change deadline set from an old tick would expire at once).
   */
  private async tickIfAsleep(node: Running): Promise<void> {
    const s = node.driver.replica.state;
    if (s.started && (s.tick + 2) * s.cfg.tickMs > Date.now()) return;
    const { wakeAtMs } = await node.driver.step({ kind: "tick", nowMs: Date.now() });
    await this.wakeAt(wakeAtMs);
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
    claimIdentity(sql, id);
    const { config: cluster } = await resolveCluster(this.env);
    const key = await nodeKey(this.env, id);
    // a node whose key is not the one the cluster lists would sign what every verifier refuses
    if (cluster.nodes[me]!.publicKey !== key.publicKey)
      throw new AspecError(
        "not_configured",
        `${nodeSecretName(id)} is not the key PBFT_PUBLIC_KEYS lists for ${id}`,
      );
    const config = nodeConfig(this.env);
    const boundary = new PbftBoundary(cluster, me, ed25519Scheme(cluster, key.secret), config);
    const installed = devFaults.node(plainNodeBoundary, { sql, env: this.env, me });
    this.out = installed.boundary;
    this.faults = installed.faults;
    const sm = new MerkleStateMachine({
      records: new SqlRecordStore(sql, "pbft_records"),
      nodes: new SqlNodeStore(sql, "pbft_nodes"),
    });
    const host: DriverHost = {
      storage: sqlDriverStorage(this.ctx.storage),
      transport: { send: (to, envelopes) => this.links.send(to, envelopes) },
      signer: boundary,
      publish: (c) => this.posts.publish(me, cluster.nodes.length, id, c),
      hooks: { rewrite: (out) => this.out.rewrite(out) },
    };
    const { driver, effects } = PbftDriver.restore({ cluster, me, config, sm }, host);
    const node: Running = { me, id, cluster, driver, boundary };
    const { wakeAtMs } = await driver.resume(effects);
    await this.wakeAt(wakeAtMs);
    return node;
  }

  private get sql(): SqlStorage {
    return this.ctx.storage.sql;
  }

  /** One alarm: at the earlier of the core's next wake-up and the next fallback post. */
  private async wakeAt(coreMs: number | null, fired = false): Promise<void> {
    if (fired) this.wake.fired();
    const fallback = this.posts.nextDueAt();
    await this.wake.want(
      coreMs === null ? fallback : fallback === null ? coreMs : Math.min(coreMs, fallback),
    );
  }
}

const isNodeId = (id: unknown): id is string => typeof id === "string" && PBFT_NODES.some((n) => n.id === id);
