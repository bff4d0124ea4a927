/**
 * The simulated system: three EC replicas (replica.ts), the four PBFT nodes of the PBFT simulator
 * (../world.ts: real cores behind the real boundary and driver, its Byzantine behaviours, its
 * network and safety checker), the replicate channel between replicas and the certificates channel
 * from nodes to replicas (each a seeded `Network`: loss, duplication, delay and so reordering), and
 * the clients. Deterministic in its seed: one PRNG (the PBFT world's) decides everything, and every
 * async call is awaited in order.
 *
 * Posting (modelled after PbftNode): a correct node posts seq s to every replica if s mod n is its
 * index, and FALLBACK_TICKS later if (s + 1) mod n is; a replica's catch-up asks a random node for
 * the batches after its head. A Byzantine node posts nothing real; it may post lies (lying-poster.ts).
 * A Byzantine replica runs the honest code but lies in the entries it sends (lying-replica.ts) and
 * in its replies to reading clients (lying-replies.ts); both Byzantine hosts play the boundary
 * tricks on what they send (boundary-tricks.ts). Reading clients verify every reply with the SDK's
 * own code and turn refusals into evidence (readers.ts). The readers, the tricks and the mid-step
 * crashes draw from PRNGs of their own, so a seed's other choices are what they were without them.
 */
import { createHash } from "node:crypto";
import { verifyCertificate } from "../../../shared/certified/certificate.js";
import type { CertifiedBatch } from "../../../shared/pbft/effects.js";
import { opIdOf, type SignedOp } from "../../../shared/ops.js";
import { certifiedBatchText, type CertifiedBatchMessage } from "../../../shared/wire/certified-batch.js";
import { Network } from "../network.js";
import { World } from "../world.js";
import { SystemChecker, SystemViolation } from "./checks.js";
import { Clients } from "./clients.js";
import { simCrypto, type SimCrypto } from "./crypto.js";
import { lie } from "./lying-poster.js";
import { lieInEntries } from "./lying-replica.js";
import type { ReplicatedOp } from "../../../shared/replication.js";
import { messageText, parseMessage, type ReplicaMessage } from "./messages.js";
import type { ChannelFaults, SystemPlan } from "./plan.js";
import { SimReplica, type Plants, type ReplicaHost } from "./replica.js";
import { Readers, type ReaderHost, type ReaderPlants } from "./readers.js";
import { BoundaryTricks, laxParsers, PRODUCT_PARSERS, type Parsers } from "./boundary-tricks.js";
import { Prng } from "../prng.js";

export const REPLICAS = 3;
const TICK_MS = 10;
const FALLBACK_TICKS = 20;
const CATCH_UP_BATCHES = 16;
/** The keys client ops use (test/sim/ops.ts: k0..k7). */
export const KEYS = Array.from({ length: 8 }, (_, i) => `k${i}`);

export interface SystemOptions {
  plan: SystemPlan;
  /** Planted bugs (test-only), by replica. */
  plants?: Partial<Record<number, Plants>>;
  /** Planted bugs (test-only) in the reading clients and the evidence check. */
  readerPlants?: ReaderPlants;
  /** Planted bug (test-only): peer parsers that take an object as if it were parsed text. */
  laxParsers?: boolean;
  traceAll?: boolean;
}

export class SystemWorld implements ReplicaHost, ReaderHost {
  readonly replicas: SimReplica[] = [];
  readonly repNet: Network;
  readonly certNet: Network;
  checker!: SystemChecker;
  crypto!: SimCrypto;
  clients!: Clients;
  readers!: Readers;
  parsers: Parsers = PRODUCT_PARSERS;
  private tricks!: BoundaryTricks;
  /** Mid-step crashes (replicas' and nodes'): a PRNG of their own, so the rest of a seed runs as without them. */
  readonly crashRng: Prng;
  private readonly acked: string[] = [];
  readonly replicaCount = REPLICAS;
  /** Per node, the certified batches it published (seq → batch): what its catch-up answers serve. */
  private readonly published: Map<number, CertifiedBatch>[] = [];
  /** Per replica, its clock's skew (ms). */
  private readonly skew: number[] = [];
  readonly counts: Record<string, number> = {};

  private constructor(
    readonly pbft: World,
    readonly plan: SystemPlan,
  ) {
    this.crashRng = new Prng(plan.seed ^ 0xc4a5);
    this.repNet = new Network(pbft.rng);
    this.certNet = new Network(pbft.rng);
    for (let i = 0; i < pbft.n; i++) this.published.push(new Map());
  }

  static async create(opts: SystemOptions): Promise<SystemWorld> {
    const plan = opts.plan;
    let sys: SystemWorld | null = null;
    const pbft = await World.create({
      seed: plan.seed,
      crypto: plan.crypto,
      config: plan.config,
      byzantine: plan.byzantine ? [plan.byzantine] : [],
      deepInvariantsEvery: 20,
      traceAll: opts.traceAll,
      onPublished: (node, c) => sys!.onPublished(node, c),
    });
    sys = new SystemWorld(pbft, plan);
    sys.crypto = simCrypto(pbft, plan.crypto === "ed25519");
    const real = plan.crypto === "ed25519";
    const checkWith = pbft.nodes[pbft.n - 1]!.boundary;
    sys.checker = new SystemChecker(
      pbft.checker,
      plan.byzantineReplica,
      async (c) => (real ? (await verifyCertificate(c, pbft.cluster)).ok : checkWith.checkCertificate(c)),
      KEYS,
    );
    sys.clients = await Clients.create(pbft.rng, sys.crypto, REPLICAS);
    for (let i = 0; i < REPLICAS; i++) {
      sys.replicas.push(new SimReplica(i, sys, opts.plants?.[i] ?? {}));
      sys.skew.push(pbft.rng.int(-50, 50));
    }
    if (opts.laxParsers) sys.parsers = laxParsers(PRODUCT_PARSERS);
    sys.tricks = new BoundaryTricks(plan, sys.crypto, sys.parsers, (w) => sys.count(w));
    sys.readers = await Readers.create(sys, plan, pbft, KEYS, opts.readerPlants);
    return sys;
  }

  get rng(): Prng {
    return this.pbft.rng;
  }
  get tick(): number {
    return this.pbft.tick;
  }
  log(line: string): void {
    this.pbft.log(line);
  }
  count(what: string): void {
    this.counts[what] = (this.counts[what] ?? 0) + 1;
  }

  setFaults(rep: ChannelFaults, cert: ChannelFaults, pbft: ChannelFaults): void {
    for (const [net, f] of [
      [this.repNet, rep],
      [this.certNet, cert],
      [this.pbft.net, pbft],
    ] as const) {
      net.loss = f.loss;
      net.dup = f.dup;
      net.delayMax = f.delayMax;
    }
  }

  heal(): void {
    this.repNet.heal();
    this.certNet.heal();
    this.pbft.net.heal();
  }

  // ---------------------------------------------------------------- ReplicaHost

  nowMs(replica: number): number {
    return this.tick * TICK_MS + this.skew[replica]!;
  }

  send(from: number, to: number, m: ReplicaMessage): void {
    this.repNet.send(this.tick, from, to, messageText(m));
  }

  async submitToNodes(ops: readonly SignedOp[], first: boolean): Promise<void> {
    for (const op of ops)
      for (const node of this.pbft.nodes) {
        // the queue consumer's submission may not reach every node; the certify task's retries do
        if (first && this.rng.chance(0.2)) continue;
        await this.pbft.submit(op, [node.id]);
      }
  }

  lieInEntries(from: number, entries: ReplicatedOp[]): ReplicatedOp[] {
    if (from !== this.plan.byzantineReplica) return entries;
    const others = this.replicas.filter((r) => r.id !== from).flatMap((r) => r.store.ownEntries(0, 20, 20));
    const l = lieInEntries(this.rng, entries, this.plan.replicaLieRate, others);
    for (const lie of l.lies) this.count(`replica_lie.${lie}`);
    return l.entries;
  }

  get byzantineReplica(): number | null {
    return this.plan.byzantineReplica;
  }

  ackedOpIds(): readonly string[] {
    return this.acked;
  }

  crashesMidStep(replica: number, step: "entries" | "certified"): boolean {
    if (!this.crashRng.chance(this.plan.crashMidStepRate)) return false;
    this.count(`replica.crash_mid_${step}`);
    return true;
  }

  crashNow(replica: number): void {
    this.crashReplica(this.replicas[replica]!);
  }

  /** Is this replica honest (its state checked, its acknowledgments owed)? */
  isHonest(r: SimReplica): boolean {
    return r.id !== this.plan.byzantineReplica;
  }

  catchUp(replica: number, head: number): void {
    const node = this.rng.int(0, this.pbft.n - 1);
    if (!this.pbft.nodes[node]!.replica) return;
    if (!this.pbft.isCorrect(node)) return this.postLie(node, replica);
    const kept = this.published[node]!;
    for (let s = head + 1; s <= head + CATCH_UP_BATCHES; s++) {
      const b = kept.get(s);
      if (b) this.post(node, replica, b, this.tick);
    }
  }

  // ---------------------------------------------------------------- certificates

  private onPublished(node: number, c: CertifiedBatch): void {
    this.published[node]!.set(c.body.seq, c);
    const n = this.pbft.n;
    const at =
      c.body.seq % n === node ? this.tick : (c.body.seq + 1) % n === node ? this.tick + FALLBACK_TICKS : null;
    if (at !== null) for (let r = 0; r < REPLICAS; r++) this.post(node, r, c, at);
  }

  private post(node: number, replica: number, c: CertifiedBatch, at: number): void {
    const msg: CertifiedBatchMessage = { certificate: c.certificate, ops: c.ops };
    this.certNet.send(at, node, replica, certifiedBatchText(msg));
  }

  /**
   * The Byzantine node posts a lie built from real batches (any correct node's): mostly about the
   * seq the replica needs next (it knows every replica's head: the strongest adversary), else any.
   */
  private postLie(node: number, replica: number): void {
    const known = this.published.flatMap((m) => [...m.values()]);
    if (known.length < 2) return;
    const head = this.replicas[replica]!.follower?.head().seq ?? 0;
    const next = this.published.map((m) => m.get(head + 1)).find((b) => b !== undefined);
    const real = next && this.rng.chance(0.8) ? next : this.rng.pick(known);
    const l = lie(this.rng, real, this.rng.pick(known));
    this.count(`lie.${l.lie}`);
    this.certNet.send(this.tick, node, replica, l.text);
  }

  // ---------------------------------------------------------------- running

  /** One tick: restarts due, the nodes' tick, messages due on both channels, the replicas' timers. */
  async runTick(): Promise<void> {
    await this.pbft.runTick();
    for (const r of this.replicas)
      if (!r.up && r.restartAt !== null && r.restartAt <= this.tick) {
        r.restart();
        this.log(`${r.name} RESTART (certified seq ${r.follower!.head().seq}, ${r.store.rowCount} rows)`);
        await this.checker.afterStep(r);
      }
    const byz = this.plan.byzantine?.node;
    if (byz !== undefined && this.rng.chance(this.plan.byzantinePostRate) && this.pbft.nodes[byz]!.replica)
      this.postLie(byz, this.rng.int(0, REPLICAS - 1));
    for (const p of this.repNet.due(this.tick)) {
      const r = this.replicas[p.to]!;
      if (!r.up) continue;
      const m = parseMessage(p.data);
      if (m.kind === "entries" && p.from === this.plan.byzantineReplica)
        m.text = await this.tricks.maybe(m.via === "queue" ? "replicate" : "log-page", m.text as string);
      await r.receive(m);
      await this.checker.afterStep(r);
    }
    for (const p of this.certNet.due(this.tick)) {
      const r = this.replicas[p.to]!;
      if (!r.up) continue;
      const byz = p.from === this.plan.byzantine?.node;
      await r.receiveCertified(byz ? await this.tricks.maybe("certified", p.data) : p.data);
      await this.checker.afterStep(r);
    }
    for (const r of this.replicas) {
      await r.timers();
      await this.checker.afterStep(r);
    }
    await this.readers.maybeAct(this.plan.readRate);
  }

  /** One client action: its writes, each to its replica; `crashRate`: the replica dies mid-write. */
  async clientActs(crashRate: number): Promise<void> {
    for (const w of await this.clients.next(this.tick * TICK_MS)) {
      const r = this.replicas[w.to]!;
      const hadIt = r.store.getOp(`${w.op.client}:${w.op.seq}`)?.op;
      if (r.up && this.rng.chance(crashRate)) {
        await r.submit(w.op, true);
        this.crashReplica(r);
        continue;
      }
      const res = await r.submit(w.op);
      if (res.kind === "down") continue;
      if (res.kind === "refused") {
        this.count(`refused.${w.client}.${res.error.code}`);
        // an honest client may still write where it has no right (namespaces, test/sim/ops.ts):
        // the certified order's decision on such ops is checked by the authz oracle (checker.ts)
        if (w.client === "honest" && res.error.code !== "not_authorized")
          throw new SystemViolation(
            `${r.name} refused an honest client's op (${res.error.code}: ${res.error.message})`,
          );
        if (res.error.code === "not_authorized") this.clients.refusedForGood(w);
        continue;
      }
      if (hadIt && JSON.stringify(hadIt) === JSON.stringify(w.op) && !res.outcome.duplicate)
        throw new SystemViolation(`${r.name} accepted again an op it held, not as a duplicate`);
      this.count(`acked.${w.client}${res.outcome.duplicate ? ".duplicate" : ""}`);
      this.clients.acknowledged(w);
      if (!this.checker.acked.has(opIdOf(w.op))) this.acked.push(opIdOf(w.op));
      if (r.lostOps.has(opIdOf(w.op))) this.clients.forget(w.op);
      this.checker.onAck(w.op, this.clients.isHonest(w.op), this.isHonest(r));
      await this.checker.afterStep(r);
    }
  }

  crashReplica(r: SimReplica): void {
    if (!r.up) return;
    r.crash(this.tick + this.rng.int(5, 60));
    this.count("replica.crash");
    this.log(`${r.name} CRASH (restart at T${r.restartAt})`);
  }

  /** A hash of the end state: every replica's tentative records and clock, the summary, the trace's tail. */
  fingerprint(): string {
    const h = createHash("sha256");
    for (const r of this.replicas)
      h.update(JSON.stringify([r.hlc, KEYS.map((k) => r.store.getRecord(k) ?? null)]));
    h.update(this.summary());
    h.update(this.pbft.traceTail(400));
    return h.digest("hex");
  }

  summary(): string {
    const reps = this.replicas.map((r) => {
      const f = r.follower;
      const head = f ? `certified seq ${f.head().seq}` : "down";
      return `${r.name}: ${head}, ${r.store.rowCount} op rows, own log ${r.store.ownHead()}, batches ${JSON.stringify(r.outcomes)}`;
    });
    const q = this.readers.quarantines.replicas;
    return [...reps, `quarantined: ${q.length ? q.join(", ") : "none"}`, this.pbft.summary()].join("\n");
  }
}
