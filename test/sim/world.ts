/**
 * The simulated world: n nodes running the real core behind the real boundary, a seeded network
 * (loss, duplication, delay and so reordering, partitions), crash-restart from persisted rows, and
 * Byzantine nodes. Deterministic in its seed: every random choice comes from one PRNG and every
 * async call is awaited in order.
 */
import { verifyCertificate } from "../../shared/certified/certificate.js";
import type { ClusterConfig, StateMachineFactory } from "../../shared/certified/types.js";
import { devKeyPair, type KeyPair } from "../../shared/crypto/keys.js";
import { opIdOf, signOp, type OpBody, type SignedOp } from "../../shared/ops.js";
import { PbftBoundary } from "../../shared/pbft/boundary.js";
import type { PbftConfig } from "../../shared/pbft/config.js";
import type { Effects } from "../../shared/pbft/effects.js";
import type { Envelope } from "../../shared/pbft/messages.js";
import { PbftReplica, type ReplicaOptions } from "../../shared/pbft/replica.js";
import {
  ed25519Scheme,
  standInScheme,
  standInSignOp,
  type SignatureScheme,
} from "../../shared/pbft/signature-scheme.js";
import { forgeries, rewrite, type ByzantineMode } from "./byzantine.js";
import { SafetyChecker } from "./checker.js";
import { Prng } from "./prng.js";

export interface WorldOptions {
  seed: number;
  f?: number;
  crypto?: "stand-in" | "ed25519";
  config?: Partial<PbftConfig>;
  byzantine?: { node: number; mode: ByzantineMode }[];
  machines: StateMachineFactory;
  /** Keep every trace line (else the last `traceKeep`). */
  traceAll?: boolean;
  traceKeep?: number;
}

export interface SimNode {
  id: number;
  replica: PbftReplica | null;
  storage: Map<string, string>;
  boundary: PbftBoundary;
  skewMs: number;
  byzantine: ByzantineMode | null;
  /** Envelopes seen (for replaying and forging), bounded. */
  seen: Envelope[];
  loopback: Envelope[];
  restartAt: number | null;
}

interface Packet {
  at: number;
  from: number;
  to: number;
  data: string;
}

export interface Network {
  loss: number;
  dup: number;
  delayMax: number;
  /** Group id per node; messages between different groups are dropped. null: no partition. */
  partition: number[] | null;
}

const TICK_MS = 10;
const SEEN_MAX = 300;

export class World {
  readonly rng: Prng;
  readonly n: number;
  readonly f: number;
  readonly cluster: ClusterConfig;
  readonly nodes: SimNode[] = [];
  readonly checker: SafetyChecker;
  readonly net: Network = { loss: 0, dup: 0, delayMax: 1, partition: null };
  tick = 0;
  private steps = 0;
  private packets: Packet[] = [];
  private readonly trace: string[] = [];
  private clientKeys: KeyPair[] = [];
  private clientSeq: number[] = [];
  /** opId → tick it was accepted by a correct node (owed a certificate). */
  readonly owed = new Map<string, number>();
  private readonly opts: WorldOptions;
  private replicaOpts!: (i: number) => ReplicaOptions;

  private constructor(opts: WorldOptions) {
    this.opts = opts;
    this.rng = new Prng(opts.seed);
    this.f = opts.f ?? 1;
    this.n = 3 * this.f + 1;
    this.cluster = { cluster: "sim", f: this.f, nodes: [] };
    this.checker = new SafetyChecker(opts.machines);
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
    this.replicaOpts = (i) => ({ cluster: this.cluster, me: i, config: cfg, machines: this.opts.machines });
    for (let i = 0; i < 3; i++) {
      this.clientKeys.push(await devKeyPair("sim-client", `c${i}`));
      this.clientSeq.push(0);
    }
    for (let i = 0; i < this.n; i++) {
      const scheme: SignatureScheme = real
        ? ed25519Scheme(this.cluster, nodeKeys[i]!.secret)
        : standInScheme(secrets, i);
      const byz = this.opts.byzantine?.find((b) => b.node === i)?.mode ?? null;
      this.nodes.push({
        id: i,
        replica: new PbftReplica(this.replicaOpts(i)),
        storage: new Map(),
        boundary: new PbftBoundary(this.cluster, i, scheme, cfg),
        skewMs: this.rng.int(-200, 200),
        byzantine: byz,
        seen: [],
        loopback: [],
        restartAt: null,
      });
    }
  }

  isCorrect(i: number): boolean {
    return this.nodes[i]!.byzantine === null;
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

  // ---------------------------------------------------------------- clients

  /** Make one client op (signed with real Ed25519 or the stand-in, matching the run). */
  async makeOp(): Promise<SignedOp> {
    const c = this.rng.int(0, this.clientKeys.length - 1);
    const k = this.rng.int(0, 7);
    const key = `k${k}`;
    const seq = ++this.clientSeq[c]!;
    const amount = this.rng.int(1, 20);
    const shapes: [OpBody["type"], string, OpBody["args"]][] = [
      ["counter", "add", { n: amount }],
      ["register", "set", { v: `v${amount}` }],
      ["set", this.rng.chance(0.7) ? "add" : "remove", { x: `x${amount % 5}` }],
      ["account", this.rng.chance(0.6) ? "deposit" : "withdraw", { n: amount }],
    ];
    const [type, op, args] = shapes[k >> 1]!;
    const body: OpBody = {
      client: this.clientKeys[c]!.publicKey,
      seq,
      key,
      type,
      op,
      args,
      ts: this.tick * TICK_MS,
    };
    return this.opts.crypto === "ed25519" ? signOp(this.clientKeys[c]!.secret, body) : standInSignOp(body);
  }

  /** Submit an op to some nodes, through each node's boundary; owed if a correct node took it. */
  async submit(op: SignedOp, to: readonly number[]): Promise<void> {
    const id = opIdOf(op);
    for (const i of to) {
      const node = this.nodes[i]!;
      if (!node.replica) continue;
      const admitted = await node.boundary.admitOp(JSON.parse(JSON.stringify(op)));
      if (!admitted) throw new Error(`sim: a valid op was refused by node ${i}'s boundary`);
      await this.stepNode(node, { kind: "submit", op: admitted });
      if (node.byzantine === null && node.replica?.state.pool.has(id) && !this.owed.has(id))
        this.owed.set(id, this.tick);
    }
  }

  // ---------------------------------------------------------------- faults

  crash(i: number, restartAt: number | null): void {
    const node = this.nodes[i]!;
    if (!node.replica) return;
    node.replica = null;
    node.loopback = [];
    node.restartAt = restartAt;
    this.log(`n${i} CRASH (restart at ${restartAt})`);
  }

  async restart(i: number): Promise<void> {
    const node = this.nodes[i]!;
    if (node.replica) return;
    const rows = [...node.storage].map(([k, v]) => [k, JSON.parse(v)] as const);
    const { replica, effects } = PbftReplica.restore(this.replicaOpts(i), rows);
    node.replica = replica;
    node.restartAt = null;
    this.log(
      `n${i} RESTART view=${replica.state.view} normal=${replica.state.normal} exec=${replica.state.lastExecuted} stable=${replica.state.stable.seq}`,
    );
    replica.checkInvariants();
    await this.handle(node, effects);
    await this.drainLoopback(node);
  }

  // ---------------------------------------------------------------- running

  /** One tick: restarts due, packets due (shuffled), then every live node ticks. */
  async runTick(): Promise<void> {
    this.tick++;
    for (const node of this.nodes)
      if (!node.replica && node.restartAt !== null && node.restartAt <= this.tick)
        await this.restart(node.id);
    const due: Packet[] = [];
    const later: Packet[] = [];
    for (const p of this.packets) (p.at <= this.tick ? due : later).push(p);
    this.packets = later;
    this.rng.shuffle(due);
    for (const p of due) await this.deliver(p);
    for (const node of this.nodes) {
      if (!node.replica) continue;
      await this.stepNode(node, { kind: "tick", nowMs: this.tick * TICK_MS + node.skewMs });
      if (node.byzantine === "replay" && node.seen.length && this.rng.chance(0.3)) {
        const env = this.rng.pick(node.seen);
        this.send(node.id, this.rng.int(0, this.n - 1), env);
      }
      if (node.byzantine === "forge" && this.rng.chance(0.5))
        for (const { to, raw } of forgeries(node.id, this.n, node.seen, this.rng))
          this.sendRaw(node.id, to, JSON.stringify(raw));
    }
  }

  private async deliver(p: Packet): Promise<void> {
    const node = this.nodes[p.to]!;
    if (!node.replica) return;
    // As a shell should: votes and shares the core no longer needs are dropped unverified.
    const replica = node.replica;
    const redundantBefore = node.boundary.stats["drop.redundant"] ?? 0;
    const env = await node.boundary.open(JSON.parse(p.data), p.data.length, (e) => replica.isRedundant(e));
    if (!env) {
      if ((node.boundary.stats["drop.redundant"] ?? 0) > redundantBefore) return;
      this.log(`n${p.to} <- n${p.from} REJECTED ${p.data.slice(0, 120)}`);
      return;
    }
    if (node.byzantine && node.seen.length < SEEN_MAX) node.seen.push(env);
    await this.stepNode(node, { kind: "message", envelope: env });
  }

  private async stepNode(node: SimNode, input: Parameters<PbftReplica["step"]>[0]): Promise<void> {
    const r = node.replica!;
    const before = {
      view: r.state.view,
      normal: r.state.normal,
      exec: r.state.lastExecuted,
      stable: r.state.stable.seq,
    };
    let fx: Effects;
    try {
      fx = r.step(input);
      if (node.byzantine === null) r.checkInvariants(++this.steps % 16 === 0);
    } catch (e) {
      this.log(`n${node.id} THREW on ${describeInput(input)}: ${(e as Error).message}`);
      throw e;
    }
    const s = r.state;
    if (s.view !== before.view || s.normal !== before.normal)
      this.log(
        `n${node.id} view ${before.view}${before.normal ? "" : "*"} -> ${s.view}${s.normal ? "" : "*"} on ${describeInput(input)}`,
      );
    if (s.stable.seq !== before.stable) this.log(`n${node.id} stable ${before.stable} -> ${s.stable.seq}`);
    if (s.lastExecuted > before.exec + 1 && input.kind === "message" && input.envelope.msg.type === "state")
      this.log(`n${node.id} STATE TRANSFER ${before.exec} -> ${s.lastExecuted}`);
    await this.handle(node, fx);
    await this.drainLoopback(node);
  }

  private async drainLoopback(node: SimNode): Promise<void> {
    while (node.replica && node.loopback.length) {
      const env = node.loopback.shift()!;
      await this.stepNode(node, { kind: "message", envelope: env });
    }
  }

  /** Persist, then send, then publish — the shell's order. */
  private async handle(node: SimNode, fx: Effects): Promise<void> {
    for (const p of fx.persist) {
      if (p.op === "put") node.storage.set(p.key, JSON.stringify(p.value));
      else node.storage.delete(p.key);
    }
    for (const out of fx.send) {
      const outs = node.byzantine ? rewrite(node.byzantine, node.id, out, this.rng) : [out];
      for (const o of outs) {
        const env = await node.boundary.seal(o);
        if (node.byzantine && node.seen.length < SEEN_MAX) node.seen.push(env);
        for (const to of o.to) {
          if (to === node.id) node.loopback.push(env);
          else this.send(node.id, to, env);
        }
      }
    }
    if (node.byzantine !== null) return;
    for (const b of fx.executed) this.checker.onExecuted(node.id, b);
    for (const c of fx.certificates) {
      if (!(await node.boundary.checkCertificate(c.certificate)))
        throw new Error(`n${node.id} emitted an invalid certificate`);
      // With real keys, the verifier clients and replicas run must accept it too.
      if (this.opts.crypto === "ed25519" && !(await verifyCertificate(c.certificate, this.cluster)).ok)
        throw new Error(`n${node.id} emitted a certificate verifyCertificate rejects`);
      this.checker.onCertified(node.id, c);
      if (c.body.seq % 8 === 0) this.log(`n${node.id} certified seq ${c.body.seq} (ops ${c.body.opCount})`);
    }
  }

  /** Scenario hook: return true to drop a message on the wire. */
  dropIf: ((from: number, to: number, env: Envelope) => boolean) | null = null;

  private send(from: number, to: number, env: Envelope): void {
    if (this.dropIf?.(from, to, env)) return;
    this.sendRaw(from, to, JSON.stringify(env));
  }

  private sendRaw(from: number, to: number, data: string): void {
    const { loss, dup, delayMax, partition } = this.net;
    if (partition && partition[from] !== partition[to]) return;
    if (this.rng.chance(loss)) return;
    const copies = this.rng.chance(dup) ? 2 : 1;
    for (let c = 0; c < copies; c++)
      this.packets.push({ at: this.tick + this.rng.int(1, delayMax), from, to, data });
  }

  /** Ops owed a certificate that have none yet. */
  uncertifiedOwed(): string[] {
    return [...this.owed.keys()].filter((id) => !this.checker.certifiedOps.has(id));
  }

  summary(): string {
    return this.nodes
      .map((nd) => {
        const r = nd.replica;
        if (!r) return `n${nd.id}: down`;
        const s = r.state;
        return `n${nd.id}${nd.byzantine ? `(${nd.byzantine})` : ""}: view=${s.view}${s.normal ? "" : "*"} exec=${s.lastExecuted} stable=${s.stable.seq} pool=${s.pool.size} uncert=${s.uncertified.size} certFrom=${s.uncertifiedFrom}`;
      })
      .join("\n");
  }
}

function describeInput(input: Parameters<PbftReplica["step"]>[0]): string {
  if (input.kind === "tick") return `tick ${input.nowMs}`;
  if (input.kind === "submit") return `submit ${input.op.seq}`;
  if (input.kind === "submit-many") return `submit ${input.ops.map((o) => o.seq).join(",")}`;
  const m = input.envelope.msg as { type: string; view?: number; seq?: number };
  return `${m.type} from n${input.envelope.from} v${m.view ?? "-"} s${m.seq ?? "-"}`;
}
