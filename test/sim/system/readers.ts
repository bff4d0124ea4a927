/**
 * Reading clients that verify as the SDK does, with the SDK's own code: each pins the replicas'
 * reply keys and the cluster, keeps its `CertificateGuard` (client/certificates.ts: certificates
 * verified, a replica's newest never going back), sends a fresh nonce with every request, and checks
 * every reply with client/verify.ts (`verifyReadReply`, `verifyCertifiedReadReply`,
 * `verifyOpStatusReply`: signatures, nonce, certificates, Merkle proofs). A refused reply is turned
 * into evidence with client/evidence.ts `evidenceFrom` and submitted (quarantines.ts).
 *
 * Checked after every reply (besides reader-checks.ts on what was accepted): an honest replica's
 * reply is never refused; evidence only ever quarantines the Byzantine replica; every provable lie
 * the Byzantine replica tells (lying-replies.ts) is refused and its evidence quarantines it.
 */
import { CertificateGuard } from "../../../client/certificates.js";
import type { PinnedCluster } from "../../../client/cluster.js";
import { ReplyVerificationError } from "../../../client/errors.js";
import { evidenceFrom, type EvidencePins } from "../../../client/evidence.js";
import { verifyCertifiedReadReply, verifyOpStatusReply, verifyReadReply } from "../../../client/verify.js";
import { toB64u } from "../../../shared/bytes.js";
import { clusterId } from "../../../shared/certified/cluster-id.js";
import { nonceMember } from "../../../shared/replies.js";
import { Prng } from "../prng.js";
import type { World } from "../world.js";
import { CertView } from "./cert-view.js";
import { SystemViolation } from "./checks.js";
import { ReplyLiar, type LyingReply, type ReplyLie } from "./lying-replies.js";
import { Quarantines } from "./quarantines.js";
import { ReaderChecker, type Accepted } from "./reader-checks.js";
import { honestReply, ReplyKeys, type ReadRequest } from "./replies.js";
import type { SimReplica } from "./replica.js";
import { Truth } from "./truth.js";

/** Planted bugs (test-only) in the client and the evidence check: the checks must catch each. */
export interface ReaderPlants {
  /** The client forgets every replica's newest certificate before each request (a new guard each time). */
  acceptOlderCertificate?: boolean;
  /** Evidence is checked against the key that signed it, whatever replica it names. */
  trustSigner?: boolean;
  /** Not a bug: the liar tells only these lies (a test aims the plant's check at one). */
  lies?: readonly ReplyLie[];
}

export interface ReaderHost {
  readonly replicas: readonly SimReplica[];
  readonly byzantineReplica: number | null;
  nowMs(replica: number): number;
  /** Op ids some client had acknowledged (what op-status requests ask about). */
  ackedOpIds(): readonly string[];
  count(what: string): void;
  log(line: string): void;
}

export const READING_CLIENTS = 2;

export class Readers {
  private readonly guards: CertificateGuard[] = [];
  private readonly checker: ReaderChecker;
  readonly quarantines: Quarantines;
  private readonly pins: EvidencePins;
  private readonly liar: ReplyLiar | null;

  constructor(
    private readonly host: ReaderHost,
    private readonly rng: Prng,
    private readonly view: CertView,
    private readonly keys: ReplyKeys,
    truth: Truth,
    private readonly lieRate: number,
    private readonly plants: ReaderPlants = {},
  ) {
    for (let c = 0; c < READING_CLIENTS; c++) this.guards.push(this.newGuard());
    this.checker = new ReaderChecker(truth, clusterId(view.cluster));
    const byz = host.byzantineReplica;
    const replicaKeys = keys.pinned();
    if (plants.trustSigner && byz !== null)
      for (const name of replicaKeys.keys()) replicaKeys.set(name, keys.keys[byz]!.publicKey);
    this.pins = { cluster: view.cluster, replicaKeys };
    this.quarantines = new Quarantines(this.pins);
    this.liar = byz === null ? null : new ReplyLiar(rng, host.replicas[byz]!, view, plants.lies);
  }

  static async create(
    host: ReaderHost,
    plan: { seed: number; crypto: string; replyLieRate: number },
    world: World,
    keys: readonly string[],
    plants: ReaderPlants = {},
  ): Promise<Readers> {
    return new Readers(
      host,
      new Prng(plan.seed ^ 0x5eed), // a PRNG of its own: the rest of a seed draws as without the readers
      await CertView.create(world, plan.crypto === "ed25519"),
      await ReplyKeys.create(host.replicas.length),
      new Truth(world.checker, keys),
      plan.replyLieRate,
      plants,
    );
  }

  private newGuard(): CertificateGuard {
    // no age bound: the simulated cluster's clock is not the client's
    return new CertificateGuard({ config: this.view.cluster } as PinnedCluster, {
      maxAgeMs: Infinity,
      now: () => 0,
    });
  }

  /** With chance `rate`, one request (the readers' own PRNG: the rest of the run draws as without them). */
  async maybeAct(rate: number): Promise<void> {
    if (this.rng.chance(rate)) await this.act();
  }

  /** One request of one reading client to one replica, verified, its refusal turned into evidence. */
  async act(): Promise<void> {
    const client = this.rng.int(0, READING_CLIENTS - 1);
    const to = this.rng.int(0, this.host.replicas.length - 1);
    const replica = this.host.replicas[to]!;
    if (!replica.up) return this.host.count("read.replica_down");
    const req = this.request();
    const nonce = toB64u(Uint8Array.from({ length: 16 }, () => this.rng.int(0, 255)));
    const time = this.host.nowMs(to);
    if (this.plants.acceptOlderCertificate) this.guards[client] = this.newGuard();
    const guard = this.guards[client]!;
    const sent = guard.mark();
    const honest = await honestReply(replica, req, nonce, time, this.view);
    const lying = to === this.host.byzantineReplica && this.rng.chance(this.lieRate);
    const lie = lying ? await this.liar!.lie(req, honest, client) : null;
    let signed: unknown;
    if (lie?.signed !== undefined) signed = lie.signed;
    else {
      const body = lie?.body ?? honest;
      if (!body) return this.host.count("read.refused_by_replica");
      const named = lie?.lie === "frame" ? this.framed(to) : replica.name;
      const told = lie ? { ...body, replica: named, time, ...nonceMember(nonce) } : body;
      signed = await this.keys.sign(to, told);
      if (to === this.host.byzantineReplica && !lie) this.liar?.keep(req, signed);
    }
    if (lie) this.host.count(`reply_lie.${lie.lie}`);
    const wire = JSON.parse(JSON.stringify(signed)) as unknown;
    const expect = { replica: replica.name, nonce, sent };
    const pinned = this.keys.pinned();
    let accepted: Accepted;
    try {
      accepted =
        req.kind === "read"
          ? await verifyReadReply(wire, { ...expect, key: req.key }, pinned, guard)
          : req.kind === "certified-read"
            ? await verifyCertifiedReadReply(wire, { ...expect, key: req.key }, pinned, guard)
            : await verifyOpStatusReply(wire, { ...expect, opId: req.opId }, pinned, guard);
    } catch (e) {
      if (!(e instanceof ReplyVerificationError)) throw e;
      return this.refused(e, to, lie);
    }
    this.host.count(`read.accepted${lie ? ".lie" : ""}`);
    this.checker.accepted(client, replica.name, accepted, lie);
  }

  private request(): ReadRequest {
    const key = `k${this.rng.int(0, 7)}`;
    const roll = this.rng.float();
    const ops = this.host.ackedOpIds();
    if (roll < 0.3 && ops.length) return { kind: "op-status", opId: this.rng.pick(ops) };
    return roll < 0.65 ? { kind: "read", key } : { kind: "certified-read", key };
  }

  /** The honest replica a framing reply names. */
  private framed(liar: number): string {
    return `r${(liar + 1) % this.host.replicas.length}`;
  }

  private async refused(e: ReplyVerificationError, to: number, lie: LyingReply | null): Promise<void> {
    const name = this.host.replicas[to]!.name;
    this.host.count(`read.refused.${e.reason}`);
    if (to !== this.host.byzantineReplica || !lie)
      throw new SystemViolation(`the SDK refused ${name}'s honest reply (${e.reason}: ${e.message})`);
    const ev = await evidenceFrom(e, this.pins);
    const s = ev ? await this.quarantines.submit(ev, this.host.nowMs(to)) : null;
    for (const q of this.quarantines.replicas)
      if (q !== name)
        throw new SystemViolation(`honest replica ${q} was quarantined (evidence of ${name}'s ${lie.lie})`);
    if (s?.ok) {
      this.host.count(`evidence.${s.verdict.kind}.${s.outcome.outcome}`);
      const against = s.verdict.kind === "cluster_equivocation" ? null : s.verdict.replica;
      if (against !== name)
        throw new SystemViolation(
          `evidence of ${name}'s lie (${lie.lie}) is against ${against ?? "the cluster"}`,
        );
      if (s.outcome.outcome === "quarantined")
        this.host.log(`${name} QUARANTINED (${s.verdict.kind}, ${lie.lie})`);
    }
    if (lie.provable && !s?.ok)
      throw new SystemViolation(
        `${name}'s provable lie (${lie.lie}) was refused (${e.reason}) but yielded no evidence${s ? ` (${s.reason})` : ""}`,
      );
  }
}
