/**
 * The simulated world: n = 3f + 1 nodes running the real core behind the real boundary, each node
 * run by the shell driver (shared/pbft/driver.ts; the simulator's powers are its hooks), a seeded
 * network (network.ts), crash-restart from persisted rows (storage.ts), and up to f faulty nodes:
 * Byzantine ones (byzantine.ts, hostile.ts, tamper.ts) and ones that lose writes. Deterministic in
 * its seed: every random choice comes from one PRNG and every async call is awaited in order.
 */
import { verifyCertificate } from "../../shared/certified/certificate.js";
import { MerkleStateMachine } from "../../shared/certified/state-machine.js";
import type { ClusterConfig } from "../../shared/certified/types.js";
import { devKeyPair, type KeyPair } from "../../shared/crypto/keys.js";
import { opIdOf, signOp, type SignedOp } from "../../shared/ops.js";
import { PbftBoundary, type OpenDrop } from "../../shared/pbft/boundary.js";
import type { PbftConfig } from "../../shared/pbft/config.js";
import { PbftDriver, type DriverHost } from "../../shared/pbft/driver.js";
import type { CertifiedBatch, Effects, Outgoing } from "../../shared/pbft/effects.js";
import type { Envelope } from "../../shared/pbft/messages.js";
import { PbftReplica, type Input, type ReplicaOptions } from "../../shared/pbft/replica.js";
import {
  ed25519Scheme,
  standInScheme,
  standInSignOp,
  type SignatureScheme,
} from "../../shared/pbft/signature-scheme.js";
import { forgeries, rewrite, type ByzantineContext, type ByzantineBehaviour } from "./byzantine.js";
import { SafetyChecker, SafetyViolation } from "./checker.js";
import { hostileBulk } from "./hostile.js";
import { AdversaryMemory } from "./memory.js";
import { Network } from "./network.js";
import { opBodyFor } from "./ops.js";
import { Prng } from "./prng.js";
import { SimStorage, type CrashPoint } from "./storage.js";
import { tamperChunk } from "./tamper.js";
import { NodeCpu, type CpuCosts } from "./cpu.js";

export interface WorldOptions {
  seed: number;
  f?: number;
  crypto?: "stand-in" | "ed25519";
  config?: Partial<PbftConfig>;
  /** Byzantine nodes (at most f, with `loseWrites`): each with one or more behaviours. */
  byzantine?: { node: number; behaviours?: ByzantineBehaviour[]; mode?: ByzantineBehaviour }[];
  /** Nodes whose writes reach storage only every few steps (faulty: see storage.ts). */
  loseWrites?: { node: number; syncEverySteps: number }[];
  /** Each node's clock is off by up to this (else ±200 ms). */
  skewMaxMs?: number;
  /** Ops near the op size limits. */
  bigOps?: boolean;
  /** Run the deep invariant check every this many steps (1: every step, the default). */
  deepInvariantsEvery?: number;
  /** Keep every trace line (else the last `traceKeep`). */
  traceAll?: boolean;
  traceKeep?: number;
  /** The CPU model (cpu.ts): every node handles its inputs one at a time at these costs. Off if unset. */
  cpu?: CpuCosts;
  /** Told of every certified batch a correct node publishes (the whole-system simulator posts them). */
  onPublished?: (node: number, c: CertifiedBatch) => void;
}

export interface SimNode {
  id: number;
  replica: PbftReplica | null;
  /** The shell driver running `replica` (null while down). */
  driver: PbftDriver | null;
  storage: SimStorage;
  boundary: PbftBoundary;
  skewMs: number;
  /** Its Byzantine behaviours, or null for a node that follows the protocol. */
  byzantine: ReadonlySet<ByzantineBehaviour> | null;
  /** Everything a Byzantine node has seen (null for others). */
  memory: AdversaryMemory | null;
  restartAt: number | null;
  /** Its CPU under the CPU model (null: the model is off). */
  cpu: NodeCpu | null;
}

const TICK_MS = 10;

export class World {
  readonly rng: Prng;
  readonly n: number;
  readonly f: number;
  readonly cluster: ClusterConfig;
  readonly nodes: SimNode[] = [];
  readonly checker: SafetyChecker;
  readonly net: Network;
  tick = 0;
  private steps = 0;
  private readonly trace: string[] = [];
  private clientKeys: KeyPair[] = [];
  private clientSeq: number[] = [];
  /** opId → tick it was accepted by a correct node (owed a certificate). */
  readonly owed = new Map<string, number>();
  private readonly opts: WorldOptions;
  private replicaOpts!: (i: number, sm: MerkleStateMachine) => ReplicaOptions;
  /** Envelopes built as tampered STATE (replays of them are tampered too). */
  private readonly tampered = new WeakSet<Envelope>();
  /** Counters of injected faults, for the run's summary. */
  readonly faults: Record<string, number> = {};
  /** Messages the receivers' boundaries dropped, by reason (`OpenDrop`), for the run's summary. */
  readonly drops: Partial<Record<OpenDrop, number>> = {};

  private constructor(opts: WorldOptions) {
    this.opts = opts;
    this.rng = new Prng(opts.seed);
    this.net = new Network(this.rng);
    this.f = opts.f ?? 1;
    this.n = 3 * this.f + 1;
    this.cluster = { cluster: "sim", f: this.f, nodes: [] };
    this.checker = new SafetyChecker();
  }

  static async create(opts: WorldOptions): Promise<World> {
    const w = new World(opts);
    await w.init();
    return w;
  }

  private async init(): Promise<void> {
    const real = this.opts.crypto === "ed25519";
    const nodeKeys: KeyPair[] = [];
    for (let i = 0; i < this.n; i++)
      nodeKeys.push(real ? await devKeyPair("sim", `pbft-${i}`) : { secret: `s${i}`, publicKey: `p${i}` });
    this.cluster.nodes = nodeKeys.map((k, i) => ({ id: `pbft-${i}`, publicKey: k.publicKey }));
    const secrets = nodeKeys.map((k) => `stand-in-secret-${k.secret}`);
    const cfg: Partial<PbftConfig> = { tickMs: TICK_MS, ...this.opts.config };
    this.replicaOpts = (i, sm) => ({ cluster: this.cluster, me: i, config: cfg, sm });
    for (let i = 0; i < 3; i++) {
      this.clientKeys.push(await devKeyPair("sim-client", `c${i}`));
      this.clientSeq.push(0);
    }
    const faulty = (this.opts.byzantine?.length ?? 0) + (this.opts.loseWrites?.length ?? 0);
    if (faulty > this.f) throw new Error(`sim: ${faulty} faulty nodes, more than f = ${this.f}`);
    const skew = this.opts.skewMaxMs ?? 200;
    for (let i = 0; i < this.n; i++) {
      const scheme: SignatureScheme = real
        ? ed25519Scheme(this.cluster, nodeKeys[i]!.secret)
        : standInScheme(secrets, i);
      const b = this.opts.byzantine?.find((x) => x.node === i);
      const behaviours = b ? (b.behaviours ?? (b.mode ? [b.mode] : [])) : null;
      const lw = this.opts.loseWrites?.find((x) => x.node === i);
      const storage = new SimStorage(lw ? lw.syncEverySteps : null);
      const node: SimNode = {
        id: i,
        replica: new PbftReplica(this.replicaOpts(i, new MerkleStateMachine(storage.live))),
        driver: null,
        storage,
        boundary: new PbftBoundary(this.cluster, i, scheme, cfg),
        skewMs: this.rng.int(-skew, skew),
        byzantine: behaviours ? new Set(behaviours) : null,
        memory: behaviours ? new AdversaryMemory() : null,
        restartAt: null,
        cpu: this.opts.cpu ? new NodeCpu() : null,
      };
      node.driver = new PbftDriver(node.replica!, this.hostFor(node));
      this.nodes.push(node);
    }
  }

  /** Follows the protocol and keeps its writes: its outputs are checked, its ops owed. */
  isCorrect(i: number): boolean {
    const node = this.nodes[i]!;
    return node.byzantine === null && !node.storage.losesWrites;
  }

  log(line: string): void {
    this.trace.push(`T${this.tick} ${line}`);
    if (this.opts.traceAll) console.log(`T${this.tick} ${line}`);
    const keep = this.opts.traceKeep ?? 400;
    if (this.trace.length > keep * 2) this.trace.splice(0, this.trace.length - keep);
  }

  traceTail(lines = 200): string {
    return this.trace.slice(-lines).join("\n");
  }

  count(fault: string): void {
    this.faults[fault] = (this.faults[fault] ?? 0) + 1;
  }

  // ---------------------------------------------------------------- clients

  /**
   * Make one client op (signed with real Ed25519 or the stand-in, matching the run): a random one
   * of the sim's few keys, or a counter increment of `key`.
   */
  async makeOp(key?: string): Promise<SignedOp> {
    const c = this.rng.int(0, this.clientKeys.length - 1);
    const seq = ++this.clientSeq[c]!;
    const client = this.clientKeys[c]!.publicKey;
    const ts = this.tick * TICK_MS;
    const body =
      key === undefined
        ? opBodyFor(this.rng, client, seq, ts, this.opts.bigOps)
        : { client, seq, key, type: "counter" as const, op: "add", args: { n: 1 }, ts };
    return this.opts.crypto === "ed25519" ? signOp(this.clientKeys[c]!.secret, body) : standInSignOp(body);
  }

  /** Submit an op to some nodes, through each node's boundary; owed if a correct node took it. */
  async submit(op: SignedOp, to: readonly number[]): Promise<void> {
    for (const i of to) {
      const node = this.nodes[i]!;
      if (!node.replica) continue;
      // Under the CPU model the op waits its turn for the node's CPU.
      if (node.cpu) node.cpu.push({ kind: "submit", op });
      else await this.admit(node, op);
    }
  }

  private async admit(node: SimNode, op: SignedOp): Promise<void> {
    const admitted = await node.boundary.admitOp(JSON.parse(JSON.stringify(op)));
    if (!admitted) throw new Error(`sim: a valid op was refused by node ${node.id}'s boundary`);
    await this.stepNode(node, { kind: "submit", op: admitted });
    const id = opIdOf(op);
    if (this.isCorrect(node.id) && node.replica?.state.pool.has(id) && !this.owed.has(id))
      this.owed.set(id, this.tick);
  }

  // ---------------------------------------------------------------- faults

  crash(i: number, restartAt: number | null): void {
    const node = this.nodes[i]!;
    if (!node.replica) return;
    node.replica = null;
    node.driver = null;
    node.restartAt = restartAt;
    node.cpu?.reset();
    const lost = node.storage.losesWrites ? node.storage.crash(this.rng) : 0;
    this.log(`n${i} CRASH (restart at ${restartAt})${lost ? `, ${lost} unsynced steps lost` : ""}`);
  }

  /** Crash node `i` inside its next step that writes rows, at `point` (see storage.ts). */
  armCrash(i: number, point: CrashPoint, restartAt: number): void {
    const node = this.nodes[i]!;
    if (!node.replica || node.storage.armed) return;
    node.storage.armed = { point, restartAt };
  }

  async restart(i: number): Promise<void> {
    const node = this.nodes[i]!;
    if (node.replica) return;
    const sm = new MerkleStateMachine(node.storage.restartStores());
    const { driver, effects } = PbftDriver.restore(this.replicaOpts(i, sm), this.hostFor(node));
    const replica = driver.replica;
    node.driver = driver;
    node.replica = replica;
    node.restartAt = null;
    this.log(
      `n${i} RESTART view=${replica.state.view} normal=${replica.state.normal} exec=${replica.state.lastExecuted} stable=${replica.state.stable.seq}`,
    );
    if (this.isCorrect(i)) replica.checkInvariants();
    await this.stepNode(node, null, effects);
  }

  // ---------------------------------------------------------------- running

  /** One tick: restarts due, packets due (shuffled), then every live node ticks. */
  async runTick(): Promise<void> {
    this.tick++;
    for (const node of this.nodes)
      if (!node.replica && node.restartAt !== null && node.restartAt <= this.tick)
        await this.restart(node.id);
    if (this.opts.cpu) return this.runTickCpu(this.opts.cpu);
    for (const p of this.net.due(this.tick)) await this.deliver(p.from, p.to, p.data, p.tampered === true);
    for (const node of this.nodes) {
      if (!node.replica) continue;
      await this.stepNode(node, { kind: "tick", nowMs: this.tick * TICK_MS + node.skewMs });
      if (node.byzantine && node.replica) await this.misbehave(node);
    }
  }

  /**
   * A tick under the CPU model: packets due join their node's inputs, each live node's tick too
   * (one waiting at most), then each node handles its inputs in order while its CPU is free within
   * this tick; the rest wait for the next.
   */
  private async runTickCpu(costs: CpuCosts): Promise<void> {
    for (const p of this.net.due(this.tick)) {
      const node = this.nodes[p.to]!;
      if (node.replica)
        node.cpu!.push({ kind: "packet", from: p.from, data: p.data, tampered: p.tampered === true });
    }
    for (const node of this.nodes) {
      if (!node.replica) continue;
      const cpu = node.cpu!;
      if (!cpu.tickQueued) {
        cpu.push({ kind: "tick" });
        cpu.tickQueued = true;
      }
      await this.drainCpu(node, costs);
      if (node.byzantine && node.replica) await this.misbehave(node);
    }
  }

  /** Handle a node's waiting inputs while its CPU is free this tick; each step's sends leave when it is done. */
  private async drainCpu(node: SimNode, c: CpuCosts): Promise<void> {
    const cpu = node.cpu!;
    const end = (this.tick + 1) * TICK_MS;
    cpu.clockMs = Math.max(cpu.clockMs, this.tick * TICK_MS);
    while (node.replica && cpu.waiting > 0 && cpu.clockMs < end) {
      const input = cpu.next()!;
      cpu.stepMs = 0;
      const out: { to: number; env: Envelope }[] = (cpu.out = []);
      let cost: number;
      if (input.kind === "tick") {
        cpu.tickQueued = false;
        cost = c.tick;
        await this.stepNode(node, { kind: "tick", nowMs: this.tick * TICK_MS + node.skewMs });
      } else if (input.kind === "submit") {
        cost = c.message + c.opVerified;
        await this.admit(node, input.op);
      } else {
        const env = await this.deliver(input.from, node.id, input.data, input.tampered);
        cost = c.message + c.opVerified * opsCarried(env);
      }
      cpu.out = null;
      cost += cpu.stepMs;
      cpu.clockMs += cost;
      cpu.usedMs += cost;
      const departs = Math.max(this.tick, Math.floor(cpu.clockMs / TICK_MS));
      for (const o of out) this.send(node.id, o.to, o.env, departs);
    }
  }

  /** What a Byzantine node does on its own each tick, beyond rewriting what its core sends. */
  private async misbehave(node: SimNode): Promise<void> {
    const bs = node.byzantine!;
    const mem = node.memory!;
    if (bs.has("silent")) return;
    if (bs.has("replay") && mem.seen.length && this.rng.chance(0.3)) {
      const burst = this.rng.chance(0.1) ? this.rng.int(2, 20) : 1;
      for (let k = 0; k < burst; k++) {
        const env = this.rng.pick(mem.seen);
        this.send(node.id, this.rng.int(0, this.n - 1), env);
      }
      this.count("replayed");
    }
    if (bs.has("forge") && this.rng.chance(0.5))
      for (const { to, raw } of forgeries(node.id, this.n, mem.seen, this.rng)) {
        this.net.send(this.tick, node.id, to, JSON.stringify(raw));
        this.count("forged");
      }
    if (bs.has("hostile-bulk") && this.rng.chance(0.3)) {
      const h = await hostileBulk(this.byzantineContext(node));
      if (h) {
        for (const to of h.to) this.send(node.id, to, h.env);
        this.count(`hostile.${h.env.msg.type}`);
      }
    }
    if (bs.has("hostile-bulk") && this.opts.bigOps && this.rng.chance(0.05)) this.sendNearLimit(node);
  }

  /** A real envelope padded (JSON allows trailing spaces) to exactly the byte limit, or one past it. */
  private sendNearLimit(node: SimNode): void {
    const mem = node.memory!;
    if (!mem.seen.length) return;
    const env = this.rng.pick(mem.seen);
    const data = JSON.stringify(env);
    const cfg = node.replica!.state.cfg;
    const bulk =
      env.msg.type === "state-chunk" || env.msg.type === "view-change" || env.msg.type === "new-view";
    const limit = bulk ? cfg.bulkMessageBytesMax : cfg.messageBytesMax;
    if (data.length > limit) return;
    const over = this.rng.chance(0.5) ? 1 : 0;
    this.net.send(
      this.tick,
      node.id,
      this.rng.int(0, this.n - 1),
      data + " ".repeat(limit - data.length + over),
    );
    this.count(over ? "size.over_limit" : "size.at_limit");
  }

  private byzantineContext(node: SimNode): ByzantineContext {
    return {
      me: node.id,
      n: this.n,
      f: this.f,
      rng: this.rng,
      replica: node.replica!,
      mem: node.memory!,
      seal: (out: Outgoing) => node.boundary.seal(out),
      count: (what: string) => this.count(what),
    };
  }

  /** Deliver a packet to a node (its boundary, then its core); the envelope it opened, if any. */
  private async deliver(from: number, to: number, data: string, tampered: boolean): Promise<Envelope | null> {
    const node = this.nodes[to]!;
    if (!node.replica) return null;
    // As a shell should (the driver's `open`): votes and shares the core no longer needs are
    // dropped unverified.
    const replica = node.replica;
    const opened = await node.driver!.open(JSON.parse(data), data.length);
    if (!opened.ok) {
      this.drops[opened.reason] = (this.drops[opened.reason] ?? 0) + 1;
      if (opened.reason === "redundant") return null;
      this.log(`n${to} <- n${from} REJECTED (${opened.reason}) ${data.slice(0, 120)}`);
      return null;
    }
    const env = opened.envelope;
    node.memory?.remember(env);
    const keptBefore = replica.stats["state_transfer.chunk_kept"] ?? 0;
    await this.stepNode(node, { kind: "message", envelope: env });
    if (tampered && this.isCorrect(to) && (replica.stats["state_transfer.chunk_kept"] ?? 0) > keptBefore)
      throw new SafetyViolation(`n${to} kept a tampered state chunk from n${from}`);
    if (env.msg.type === "status" && node.byzantine?.has("tamper-state") && node.replica)
      await this.offerStateAtOnce(node, env.from, env.msg.lastExecuted);
    return env;
  }

  /**
   * A tamper-state node answers every STATUS from a node behind it at once with its real stable
   * checkpoint (no rate limit), so that it is the one asked for chunks; it then tampers with them.
   */
  private async offerStateAtOnce(node: SimNode, to: number, lastExecuted: number): Promise<void> {
    const s = node.replica!.state;
    if (to === node.id || lastExecuted >= s.stable.seq || s.stable.seq === 0) return;
    const env = await node.boundary.seal({
      to: [to],
      msg: { type: "state", checkpoint: s.stable, header: s.stableHeader },
    });
    node.memory!.remember(env);
    this.send(node.id, to, env);
  }

  /**
   * Step a node through its driver (or, with `input` null, handle a restore's `effects`). A node
   * whose storage lost writes may restore into a state its own asserts refuse: its fault, within f.
   * It crashes and comes back, as a Durable Object would.
   */
  private async stepNode(node: SimNode, input: Input | null, effects?: Effects): Promise<void> {
    const driver = node.driver!;
    try {
      if (input) await driver.step(input);
      else await driver.resume(effects!);
    } catch (e) {
      const on = this.stepping.get(node);
      this.log(`n${node.id} THREW on ${on ? describeInput(on) : "restore"}: ${(e as Error).message}`);
      if (node.storage.losesWrites && !(e instanceof SafetyViolation)) {
        this.count("lose_writes.threw");
        this.crash(node.id, this.tick + this.rng.int(1, 20));
        return;
      }
      throw e;
    }
  }

  /** The input each node's driver is stepping (for the THREW line). */
  private readonly stepping = new WeakMap<SimNode, Input | null>();

  /**
   * What a simulated node's shell does around the driver's loop (shared/pbft/driver.ts): one
   * transaction per step in SimStorage, the armed crash between persist and send, per-step
   * invariants and logging, the safety checker (executed batches before the crash point,
   * certificates after), a Byzantine node's rewrites before sealing and the marking of its
   * tampered chunks, and the seeded network.
   */
  private hostFor(node: SimNode): DriverHost {
    const correct = node.byzantine === null && !node.storage.losesWrites; // isCorrect(node.id)
    let crash: { point: CrashPoint; restartAt: number } | null = null;
    let before = { view: 0, normal: true, exec: 0, stable: 0 };
    const tamperedOuts = new WeakSet<Outgoing>();
    return {
      storage: {
        transaction: (body) => {
          crash = null;
          node.storage.stepStarts();
          return body();
        },
        write: (rows) => {
          crash = node.storage.write(rows, this.rng);
        },
        readRows: () => node.storage.read(),
      },
      signer: node.boundary,
      transport: {
        send: (to, envs) => {
          // Under the CPU model a step's sends leave when the step is done (drainCpu).
          for (const env of envs)
            if (node.cpu?.out) node.cpu.out.push({ to, env });
            else this.send(node.id, to, env);
        },
      },
      publish: (c) => (correct ? this.published(node, c) : undefined),
      hooks: {
        beforeStep: (input) => {
          this.stepping.set(node, input);
          const s = node.replica!.state;
          before = { view: s.view, normal: s.normal, exec: s.lastExecuted, stable: s.stable.seq };
        },
        persisted: (input, fx) => {
          const r = node.replica!;
          if (input) {
            if (correct) r.checkInvariants(++this.steps % (this.opts.deepInvariantsEvery ?? 1) === 0);
            this.logStep(node, input, before);
          }
          if (node.cpu?.out && this.opts.cpu)
            for (const b of fx.executed)
              node.cpu.stepMs += this.opts.cpu.batchExecuted + b.ops.length * this.opts.cpu.opExecuted;
          // What a correct node executed is checked even if it crashes before telling anyone.
          if (correct) for (const b of fx.executed) this.checker.onExecuted(node.id, b);
          if (!crash) return true;
          this.count(`crash.${crash.point}`);
          this.log(`n${node.id} crash ${crash.point} (${fx.persist.length} rows, ${fx.send.length} sends)`);
          this.crash(node.id, crash.restartAt);
          return false;
        },
        // A Byzantine node's rewrites decide what its own core hears too (e.g. which of its NEW-VIEWs).
        rewrite: node.byzantine
          ? async (out) =>
              (await rewrite(node.byzantine!, out, this.byzantineContext(node))).map((o) => {
                if (o.tampered) tamperedOuts.add(o.out);
                return o.out;
              })
          : undefined,
        sealed: (env, out) => {
          if (tamperedOuts.has(out)) this.tampered.add(env);
          node.memory?.remember(env);
        },
      },
    };
  }

  private logStep(
    node: SimNode,
    input: Input,
    before: { view: number; normal: boolean; exec: number; stable: number },
  ): void {
    const s = node.replica!.state;
    if (s.view !== before.view || s.normal !== before.normal)
      this.log(
        `n${node.id} view ${before.view}${before.normal ? "" : "*"} -> ${s.view}${s.normal ? "" : "*"} on ${describeInput(input)}`,
      );
    if (s.stable.seq !== before.stable) this.log(`n${node.id} stable ${before.stable} -> ${s.stable.seq}`);
    if (s.lastExecuted > before.exec + 1 && input.kind === "message")
      this.log(`n${node.id} STATE TRANSFER ${before.exec} -> ${s.lastExecuted} (${describeInput(input)})`);
  }

  /** A correct node's certificate: valid for the boundary (and, with real keys, for clients), and safe. */
  private async published(node: SimNode, c: CertifiedBatch): Promise<void> {
    if (!(await node.boundary.checkCertificate(c.certificate)))
      throw new Error(`n${node.id} emitted an invalid certificate`);
    // With real keys, the verifier clients and replicas run must accept it too.
    if (this.opts.crypto === "ed25519" && !(await verifyCertificate(c.certificate, this.cluster)).ok)
      throw new Error(`n${node.id} emitted a certificate verifyCertificate rejects`);
    this.checker.onCertified(node.id, c);
    this.opts.onPublished?.(node.id, c);
    if (c.body.seq % 8 === 0) this.log(`n${node.id} certified seq ${c.body.seq} (ops ${c.body.opCount})`);
  }

  /** Scenario hook: return true to drop a message on the wire. */
  dropIf: ((from: number, to: number, env: Envelope) => boolean) | null = null;

  private send(from: number, to: number, env: Envelope, atTick = this.tick): void {
    if (this.dropIf?.(from, to, env)) return;
    let data = this.wire.get(env);
    if (data === undefined) this.wire.set(env, (data = JSON.stringify(env)));
    this.net.send(atTick, from, to, data, this.tampered.has(env));
  }

  /** Each envelope's wire text, encoded once however many nodes it goes to (envelopes never change). */
  private readonly wire = new WeakMap<Envelope, string>();

  /** Ops owed a certificate that have none yet. */
  uncertifiedOwed(): string[] {
    return [...this.owed.keys()].filter((id) => !this.checker.certifiedOps.has(id));
  }

  summary(): string {
    return this.nodes
      .map((nd) => {
        const r = nd.replica;
        const tag = nd.byzantine
          ? `(${[...nd.byzantine].join("+")})`
          : nd.storage.losesWrites
            ? "(lose-writes)"
            : "";
        if (!r) return `n${nd.id}${tag}: down`;
        const s = r.state;
        return `n${nd.id}${tag}: view=${s.view}${s.normal ? "" : "*"} exec=${s.lastExecuted} stable=${s.stable.seq} pool=${s.pool.size} uncert=${s.uncertified.size} certFrom=${s.uncertifiedFrom}`;
      })
      .join("\n");
  }
}

/** Client ops a peer message carries (each verified by the receiving boundary). */
function opsCarried(env: Envelope | null): number {
  if (!env) return 0;
  const m = env.msg as { type: string; ops?: unknown[] };
  return (env.proposal?.ops.length ?? 0) + (m.type === "ops" && Array.isArray(m.ops) ? m.ops.length : 0);
}

function describeInput(input: Input): string {
  if (input.kind === "tick") return `tick ${input.nowMs}`;
  if (input.kind === "submit") return `submit ${input.op.seq}`;
  if (input.kind === "submit-many") return `submit ${input.ops.map((o) => o.seq).join(",")}`;
  if (input.kind === "activity") return `activity ${input.nowMs}`;
  const m = input.envelope.msg as { type: string; view?: number; seq?: number };
  return `${m.type} from n${input.envelope.from} v${m.view ?? "-"} s${m.seq ?? "-"}`;
}
