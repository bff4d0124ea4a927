/**
 * EdgeReplica: one eventually-consistent replica (DESIGN §4). A thin shell: validation and data
 * type decisions are pure code in shared/; this class verifies signatures, runs each write as one
 * SQLite transaction (op + state + outbox row), replies signed, and drains the outbox by alarm.
 */
import { DurableObject } from "cloudflare:workers";
import { admitOp } from "../shared/admission.js";
import type { KeyPair } from "../shared/crypto/keys.js";
import { AspecError, isAspecError, type ErrorBody } from "../shared/errors.js";
import { compareHlc, formatHlc, parseHlc, remoteStampVerdict, tick, type Hlc } from "../shared/hlc.js";
import { applyEffect, decideOp, effectLoses, effectStamp, valueOf } from "../shared/materialize.js";
import { opIdOf, verifyOp, type SignedOp } from "../shared/ops.js";
import { signReply, type OpReply, type ReadReply } from "../shared/replies.js";
import {
  packMessages,
  parseEntries,
  type ReplicateMessage,
  type ReplicatedOp,
} from "../shared/replication.js";
import type { Env } from "../workers/env.js";
import { replicaKey } from "../workers/keys.js";
import { ReplicaStore } from "./replica-store.js";

/** RPC results carry errors as data: an exception's code would not survive the RPC boundary. */
export type RpcResult<T> = { ok: true; value: T } | { ok: false; error: ErrorBody["error"] };

/** Ops drained per alarm run; the rest go in the next run, scheduled at once. */
const OUTBOX_DRAIN_MAX = 2000;
/** Cloudflare Queues: at most 100 messages per sendBatch. */
const SEND_BATCH_MESSAGES_MAX = 100;

export interface ApplyReport {
  applied: number;
  duplicates: number;
  malformed: number;
  badSignature: number;
  typeConflicts: number;
  /** Register stamps more than HLC_AHEAD_MAX_MS ahead of this replica's clock: refused, not recorded. */
  stampAhead: number;
}

/** The RPC surface the Worker calls (declared apart to keep RPC type inference shallow). */
export interface ReplicaRpc {
  submit(name: string, op: SignedOp): Promise<RpcResult<OpReply>>;
  read(name: string, key: string): Promise<RpcResult<ReadReply>>;
  applyRemote(name: string, msg: ReplicateMessage): Promise<ApplyReport>;
  stats(): Promise<{ outbox: number; ops: number; keys: number }>;
}

/**
 * A drain waits this long after the first undrained write, so one alarm and one queue message carry
 * every op written meanwhile: batching, at the price of this much propagation latency.
 */
const drainDelayMs = (env: Env): number => {
  const ms = Number(env.DRAIN_DELAY_MS);
  return Number.isFinite(ms) && ms >= 0 ? Math.min(ms, 10_000) : 20;
};

export class EdgeReplica extends DurableObject<Env> implements ReplicaRpc {
  private readonly store: ReplicaStore;
  private key: Promise<KeyPair> | undefined;
  private name: string | undefined;
  private clock: Hlc | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new ReplicaStore(ctx.storage.sql);
  }

  /** POST /v1/ops: accept a client's op at once (the critical path). */
  async submit(name: string, op: SignedOp): Promise<RpcResult<OpReply>> {
    return this.guard(async () => {
      const key = await this.identity(name);
      if (!(await verifyOp(op))) throw new AspecError("bad_signature", "the op's signature does not verify");
      const opId = opIdOf(op);
      const now = Date.now();
      const outcome = this.ctx.storage.transactionSync(() => {
        const stored = this.store.getOp(opId);
        const admission = admitOp(op, stored?.op, this.store.clientMaxSeq(op.client), now);
        if (admission.kind === "duplicate")
          return {
            ...stored!,
            superseded: this.store.isSuperseded(opId),
            duplicate: true,
            pending: this.store.clientPending(op.client),
          };
        const rec = this.store.getRecord(op.key);
        const d = decideOp(rec, op, { kind: "origin", stamp: tick(this.hlc(), now) });
        if (d.reason === "type_mismatch")
          throw new AspecError("type_mismatch", `key '${op.key}' holds a ${rec!.type}, not a ${op.type}`);
        this.absorbStamp(op.type, d.effect);
        const entry: ReplicatedOp = { op, status: d.status, effect: d.effect };
        if (d.reason) entry.reason = d.reason;
        if (d.record && d.record !== rec) this.store.putRecord(op.key, d.record);
        this.store.insertOp(opId, name, entry, d.value);
        const pending = this.store.noteClientSeq(op.client, op.seq, 1);
        return {
          status: d.status,
          reason: d.reason,
          value: d.value,
          superseded: d.superseded === true,
          duplicate: false,
          pending,
        };
      });
      await this.scheduleDrain();
      const reply: Omit<OpReply, "sig"> = {
        kind: "op",
        opId,
        key: op.key,
        type: op.type,
        tentative: {
          status: outcome.status,
          ...(outcome.reason ? { reason: outcome.reason } : {}),
          value: outcome.value,
          ...(outcome.superseded ? { superseded: true as const } : {}),
        },
        replica: name,
        certificate: null,
        uncertified: outcome.pending,
        duplicate: outcome.duplicate,
        time: now,
      };
      return signReply<OpReply>(key.secret, reply);
    });
  }

  /** GET /v1/kv/:key: the tentative value. */
  async read(name: string, key: string): Promise<RpcResult<ReadReply>> {
    return this.guard(async () => {
      const id = await this.identity(name);
      const rec = this.store.getRecord(key);
      return signReply<ReadReply>(id.secret, {
        kind: "read",
        key,
        type: rec?.type ?? null,
        value: valueOf(rec),
        replica: name,
        certificate: null,
        time: Date.now(),
      });
    });
  }

  /**
   * Ops from another replica, via the replicate queue. Idempotent by op id: a duplicated or
   * redelivered batch changes nothing. Client signatures are checked again: a faulty origin can't
   * inject ops nobody signed.
   */
  async applyRemote(name: string, msg: ReplicateMessage): Promise<ApplyReport> {
    await this.identity(name);
    const report: ApplyReport = {
      applied: 0,
      duplicates: 0,
      malformed: 0,
      badSignature: 0,
      typeConflicts: 0,
      stampAhead: 0,
    };
    const now = Date.now();
    const entries = parseEntries(msg.entries);
    const fresh: ReplicatedOp[] = [];
    for (const e of entries) {
      if (e === null) report.malformed++;
      else if (this.store.hasOp(opIdOf(e.op))) report.duplicates++;
      else fresh.push(e);
    }
    if (report.malformed > 0)
      console.log({ event: "remote_malformed", replica: name, origin: msg.origin, count: report.malformed });
    const verified = await Promise.all(fresh.map((e) => verifyOp(e.op)));
    this.ctx.storage.transactionSync(() => {
      fresh.forEach((e, i) => {
        const opId = opIdOf(e.op);
        if (!verified[i]) {
          report.badSignature++;
          console.log({ event: "remote_bad_signature", replica: name, origin: msg.origin, opId });
          return;
        }
        if (this.store.hasOp(opId)) return void report.duplicates++; // arrived during verification
        if (this.refuseStampAhead(e, now, msg.origin)) return void report.stampAhead++;
        let rec = this.store.getRecord(e.op.key);
        if (e.effect !== null) {
          const lost = effectLoses(rec, e.op.type, e.effect);
          const next = applyEffect(rec, e.op.type, e.effect);
          if (next) {
            this.store.putRecord(e.op.key, next);
            rec = next;
            this.absorbStamp(e.op.type, e.effect);
            if (lost) this.store.markSuperseded(opId);
          } else {
            report.typeConflicts++;
            console.log({ event: "type_conflict", replica: name, origin: msg.origin, opId, key: e.op.key });
          }
        }
        this.store.insertOp(opId, msg.origin, e, valueOf(rec));
        this.store.noteClientSeq(e.op.client, e.op.seq, 0);
        report.applied++;
      });
    });
    return report;
  }

  /** Transactional outbox → replicate queue. At least once: a crash after send re-sends, receivers dedupe. */
  override async alarm(): Promise<void> {
    const name = this.store.getMeta("name");
    const rows = name ? this.store.peekOutbox(name, OUTBOX_DRAIN_MAX) : [];
    if (!name || rows.length === 0) return;
    const messages = packMessages(
      name,
      rows.map((r) => r.entry),
    );
    for (let i = 0; i < messages.length; i += SEND_BATCH_MESSAGES_MAX)
      await this.env.REPLICATE.sendBatch(
        messages.slice(i, i + SEND_BATCH_MESSAGES_MAX).map((body) => ({ body })),
      );
    this.store.markDrained(rows[rows.length - 1]!.seq);
    if (rows.length === OUTBOX_DRAIN_MAX) await this.ctx.storage.setAlarm(Date.now());
  }

  /** For tests and operators: sizes of the durable tables. */
  async stats(): Promise<{ outbox: number; ops: number; keys: number }> {
    const count = (t: string) =>
      this.ctx.storage.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${t}`).one().n;
    const name = this.store.getMeta("name");
    return { outbox: name ? this.store.outboxSize(name) : 0, ops: count("ops"), keys: count("kv") };
  }

  /**
   * Ask for a drain unless one is already due. The alarm is persisted under the same output gate as
   * the outbox row, so a replica evicted right after replying still drains when it comes back.
   */
  private async scheduleDrain(): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null)
      await this.ctx.storage.setAlarm(Date.now() + drainDelayMs(this.env));
  }

  /** The replica's name is fixed by its first call; its key comes from a secret or, in dev, the dev seed. */
  private identity(name: string): Promise<KeyPair> {
    if (this.name !== name) {
      const known = this.store.getMeta("name");
      if (known === undefined) this.store.setMeta("name", name);
      else if (known !== name) throw new Error(`replica '${known}' addressed as '${name}'`);
      this.name = name;
    }
    this.key ??= replicaKey(this.env, name).catch((e) => {
      this.key = undefined;
      throw e;
    });
    return this.key;
  }

  /** This replica's hybrid logical clock (meta `hlc`: survives restarts), cached in memory. */
  private hlc(): Hlc {
    return (this.clock ??= parseHlc(this.store.getMeta("hlc")));
  }

  /**
   * Absorb the stamp an applied effect carries (this replica's own or another's), inside the write's
   * transaction, so every later local write is stamped after it. A rolled-back transaction may leave
   * the cached clock ahead of the stored one: harmless, stamps only need to grow.
   */
  private absorbStamp(type: ReplicatedOp["op"]["type"], effect: unknown): void {
    const s = effectStamp(type, effect);
    if (s === undefined || compareHlc(s, this.hlc()) <= 0) return;
    this.store.setMeta("hlc", formatHlc(s));
    this.clock = s;
  }

  /**
   * A remote stamp too far ahead of this replica's clock would pin the register here (and drag this
   * clock ahead): refuse the op, unrecorded, so a later re-delivery can still apply it.
   */
  private refuseStampAhead(e: ReplicatedOp, nowMs: number, origin: string): boolean {
    const stamp = effectStamp(e.op.type, e.effect);
    const v = stamp ? remoteStampVerdict(stamp, nowMs) : undefined;
    if (!v || v.ok) return false;
    console.log({ event: "remote_stamp_ahead", origin, opId: opIdOf(e.op), aheadMs: v.aheadMs });
    return true;
  }

  private async guard<T>(fn: () => Promise<T>): Promise<RpcResult<T>> {
    try {
      return { ok: true, value: await fn() };
    } catch (e) {
      if (isAspecError(e)) return { ok: false, error: (e as AspecError).toBody().error };
      throw e;
    }
  }
}
