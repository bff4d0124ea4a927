/**
 * The clients of a system run, each a key and its seqs:
 * - honest ones: one op at a time (seqs increasing, eight keys over the four data types), sent to a
 *   random replica; a write that got no answer (replica down) is sent again, the same signed op, to
 *   another replica (failover) until one accepts it;
 * - an equivocating one: two different ops under one client+seq, to two different replicas;
 * - a replaying one: an op some client already had acknowledged, sent again as is to any replica.
 * "Acknowledged" = the replica that received it accepted it (`submitOp` said accepted).
 */
import type { KeyPair } from "../../../shared/crypto/keys.js";
import type { SignedOp } from "../../../shared/ops.js";
import { opBodyFor } from "../ops.js";
import type { Prng } from "../prng.js";
import type { SimCrypto } from "./crypto.js";

export type ClientKind = "honest" | "equivocating" | "replaying";

/** One write a client makes this tick: the op and the replica it goes to. */
export interface Write {
  client: ClientKind;
  op: SignedOp;
  to: number;
}

interface HonestClient {
  key: KeyPair;
  seq: number;
  /** The op sent and not acknowledged yet (sent again until it is). */
  unacked: SignedOp | null;
}

export class Clients {
  private readonly honest: HonestClient[] = [];
  private equivocator!: KeyPair;
  private equivocatorSeq = 0;
  /** Ops acknowledged so far (what the replaying client re-sends). */
  private readonly acked: SignedOp[] = [];

  private constructor(
    private readonly rng: Prng,
    private readonly crypto: SimCrypto,
    private readonly replicas: number,
  ) {}

  static async create(rng: Prng, crypto: SimCrypto, replicas: number): Promise<Clients> {
    const c = new Clients(rng, crypto, replicas);
    for (let i = 0; i < 3; i++)
      c.honest.push({ key: await crypto.clientKey(`h${i}`), seq: 0, unacked: null });
    c.equivocator = await crypto.clientKey("eq");
    return c;
  }

  /** Is this op an honest client's (its acknowledged version must be the certified one)? */
  isHonest(op: SignedOp): boolean {
    return this.honest.some((h) => h.key.publicKey === op.client);
  }

  /** The writes of one client action at `nowMs`. */
  async next(nowMs: number): Promise<Write[]> {
    const roll = this.rng.float();
    if (roll < 0.75) return [await this.honestWrite(nowMs)];
    if (roll < 0.87) return this.equivocate(nowMs);
    if (this.acked.length === 0) return [];
    return [{ client: "replaying", op: this.rng.pick(this.acked), to: this.rng.int(0, this.replicas - 1) }];
  }

  private async honestWrite(nowMs: number): Promise<Write> {
    const h = this.rng.pick(this.honest);
    const to = this.rng.int(0, this.replicas - 1);
    if (h.unacked) return { client: "honest", op: h.unacked, to };
    const body = opBodyFor(this.rng, h.key.publicKey, ++h.seq, nowMs);
    h.unacked = await this.crypto.sign(h.key, body);
    return { client: "honest", op: h.unacked, to };
  }

  private async equivocate(nowMs: number): Promise<Write[]> {
    const seq = ++this.equivocatorSeq;
    const body = opBodyFor(this.rng, this.equivocator.publicKey, seq, nowMs);
    const a = await this.crypto.sign(this.equivocator, body);
    // the same op id, another content: a different argument (or key) under the same signature key
    const other = opBodyFor(this.rng, this.equivocator.publicKey, seq, nowMs);
    const differs = JSON.stringify({ ...other, ts: 0 }) !== JSON.stringify({ ...body, ts: 0 });
    const b = await this.crypto.sign(this.equivocator, differs ? other : { ...body, ts: body.ts + 1 });
    const first = this.rng.int(0, this.replicas - 1);
    const second = (first + this.rng.int(1, this.replicas - 1)) % this.replicas;
    return [
      { client: "equivocating", op: a, to: first },
      { client: "equivocating", op: b, to: second },
    ];
  }

  /** A planted loss (test-only): no client sends this op again, so only the system could deliver it. */
  forget(op: SignedOp): void {
    const i = this.acked.indexOf(op);
    if (i >= 0) this.acked.splice(i, 1);
  }

  /** A refusal that is final (`not_authorized`: no right in the namespace): the client gives the op up. */
  refusedForGood(w: Write): void {
    const h = this.honest.find((x) => x.unacked === w.op);
    if (h) h.unacked = null;
  }

  /** The replica that got `w` accepted it. */
  acknowledged(w: Write): void {
    this.acked.push(w.op);
    const h = this.honest.find((x) => x.unacked === w.op);
    if (h) h.unacked = null;
  }
}
