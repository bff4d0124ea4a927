/**
 * EdgeReplica: one eventually-consistent replica (docs/architecture.md). A shell around pure code in
 * shared/: what a write or a peer's ops come to is decided by the replica core (shared/replica/:
 * `submitOp`, `screenEntries` / `applyEntries`) over this replica's SQLite store; this class verifies
 * signatures, runs each step in one SQLite transaction (op + state + outbox row), logs the core's
 * events, replies signed; its one alarm drains the outbox, re-sends, reconciles with peers and
 * collects the op log (durable-objects/delivery.ts).
 */
import { DurableObject } from "cloudflare:workers";
import "./native-sha256.js";
import type { KeyPair } from "../shared/crypto/keys.js";
import { AspecError, isAspecError, type ErrorBody } from "../shared/errors.js";
import { encodeCursor, LIST_SCAN_FACTOR, listPage, type ListQuery } from "../shared/kv-list.js";
import { BATCH_OPS_MAX } from "../shared/op-limits.js";
import { parseHlc, type Hlc } from "../shared/hlc.js";
import { liveRecord, rebaseRecord, valueOf, type KeyRecord } from "../shared/materialize.js";
import { opIdOf, verifyOp, type SignedOp } from "../shared/ops.js";
import {
  isNonce,
  nonceMember,
  signErrorReply,
  type CertificateReply,
  type ErrorReply,
  type EvidenceReply,
  type ListReply,
  type OpReply,
  type OpStatusReply,
  type CertifiedReadReply,
  type NamespacesReply,
  NAMESPACES_LIST_MAX,
  type TentativeResult,
  type ReadReply,
} from "../shared/replies.js";
import { clusterOf } from "../shared/cluster-config.js";
import { NS_KEY_PREFIX } from "../shared/namespaces/names.js";
import { policyOf } from "../shared/namespaces/policy.js";
import { CertifiedReplica, type CertificationStats, type CertReport } from "./certified-replica.js";
import { FAULT_INJECTION_OFF, faultInjectionAllowed } from "../shared/config.js";
import { devFaults } from "#dev-faults";
import { parseAcks, parseReplicateText, type ApplyReport } from "../shared/replication.js";
import { applyEntries, NO_COUNTS, screenEntries } from "../shared/replica/apply.js";
import type { ReplicaEvent } from "../shared/replica/events.js";
import { submitOp, type SubmitOutcome, type SubmitResult } from "../shared/replica/submit.js";
import { peerText } from "../shared/wire/peer-text.js";
import type { Env } from "../platform/env.js";
import { replicaKey } from "../platform/keys.js";
import type { FaultSwitch } from "../platform/dev-faults-hook.js";
import { plainReplicaBoundary, type ReplicaBoundary } from "../platform/replica-boundary.js";
import type { CertifiedHead, ReplicaRpc, RpcResult } from "../shared/rpc/replica.js";
import type { FaultSettings } from "../shared/rpc/fault-settings.js";
import type { ReplicaStats } from "../shared/rpc/replica-stats.js";
import { BeatDemand } from "./beat-demand.js";
import { Delivery } from "./delivery.js";
import { ReplicaStore } from "./storage/replica-store.js";

export class EdgeReplica extends DurableObject<Env> implements ReplicaRpc {
  private readonly store: ReplicaStore;
  private key: Promise<KeyPair> | undefined;
  private name: string | undefined;
  private clock: Hlc | undefined;
  private readonly delivery: Delivery;
  private readonly certified: CertifiedReplica;
  /** What it signs and sends goes through here; in dev, possibly a fault wrapper (`#dev-faults`). */
  private readonly boundary: ReplicaBoundary;
  /** The fault wrapper's switch, where one is installed (dev, with a FAULT_TOKEN). */
  private readonly faults: FaultSwitch | undefined;
  /** Heartbeat on demand: an old newest certificate makes a reader ask the nodes for a beat. */
  private readonly beats: BeatDemand;
  /** What the replica core asks of the certified side: is this op in the certified order already? */
  private readonly isCertified = (op: SignedOp): boolean => this.certified.isCertified(op);

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new ReplicaStore(ctx.storage.sql);
    this.beats = new BeatDemand(env, ctx);
    const installed = devFaults.replica(plainReplicaBoundary(env), { sql: ctx.storage.sql, env });
    this.boundary = installed.boundary;
    this.faults = installed.faults;
    this.delivery = new Delivery(
      ctx,
      env,
      this.store,
      this.boundary,
      {
        head: () => this.certified.latestCertificate()?.body.seq ?? 0,
        canApply: () => this.certified.certification() !== "diverged",
        receive: (name, msg) => this.receiveCertified(name, msg),
      },
      {
        head: () => this.certified.headSeq(),
        diverged: () => this.certified.certification() === "diverged",
        local: () => this.certified.transferLocal(),
        cluster: async () => (await clusterOf(this.env)).config,
        adopt: (certificate, staged, fresh) =>
          this.certified.adoptTransfer(this.store.getMeta("name") ?? "", certificate, staged, fresh, {
            uncertifiedOps: () => this.store.ops.uncertified(),
            // tentative = certified + the ops not certified yet, for every key the adoption may change
            rebuild: (keys, all, certified) =>
              this.rebase(all ? new Set([...keys, ...this.store.records.keys()]) : keys, certified),
          }),
      },
    );
    this.certified = new CertifiedReplica(ctx, {
      markCertified: (ops, certified) => {
        const me = this.store.getMeta("name") ?? "";
        const keys = new Set<string>();
        const ids: { opId: string; client: string }[] = [];
        for (const op of ops) {
          if (typeof op?.client !== "string" || !Number.isSafeInteger(op.seq)) continue;
          ids.push({ opId: opIdOf(op), client: op.client });
          if (typeof op.key === "string") keys.add(op.key);
        }
        for (const held of this.store.ops.markCertifiedMany(ids, me)) keys.add(held);
        this.rebase(keys, certified);
      },
    });
  }

  /**
   * Tentative = certified + the ops not certified yet (docs/architecture.md, "Tentative state"):
   * `keys` rebuilt from their certified records and their pending effects, in a few statements.
   */
  private rebase(keys: Iterable<string>, certified: (key: string) => KeyRecord | undefined): void {
    const all = [...keys];
    const pending = this.store.ops.pendingEffectsOf(all);
    this.store.records.putMany(all.map((key) => [key, rebaseRecord(certified(key), pending.get(key) ?? [])]));
  }

  /** POST /v1/ops: accept a client's op at once (the critical path). */
  async submit(name: string, op: SignedOp, nonce?: string): Promise<RpcResult<OpReply>> {
    return this.guard({ opId: opIdOf(op), nonce }, async () => {
      const key = await this.identity(name);
      if (!(await verifyOp(op))) throw new AspecError("bad_signature", "the op's signature does not verify");
      // the certified order's own open-namespace list (the cluster configuration): both decide alike
      const policy = policyOf((await clusterOf(this.env)).config);
      const now = Date.now();
      const r = this.ctx.storage.transactionSync(() =>
        submitOp(this.store, {
          op,
          me: name,
          nowMs: now,
          hlc: this.hlc(),
          isCertified: this.isCertified,
          policy,
        }),
      );
      if (r.kind === "refused") throw r.error;
      this.clock = r.hlc;
      // persist (above), then schedule the send, then reply
      await this.delivery.scheduleDrain();
      await this.delivery.ensureTimers();
      return this.boundary.sign<OpReply>(key.secret, this.opReply(name, op, r.outcome, now, nonce));
    });
  }

  /**
   * POST /v1/ops/batch: every op verified, then all decided in order by the same `submitOp` in one
   * transaction (a refused op writes nothing and stops none of the others), then one drain scheduled
   * for all (they leave in the op log's next drain, as any ops do), then each answered as `submit`
   * would have: a signed reply or a signed refusal naming the op.
   */
  async submitMany(
    name: string,
    ops: readonly SignedOp[],
    nonce?: string,
  ): Promise<RpcResult<RpcResult<OpReply>[]>> {
    return this.guard({ nonce }, async () => {
      const key = await this.identity(name);
      if (ops.length > BATCH_OPS_MAX)
        throw new AspecError("payload_too_large", `a batch holds at most ${BATCH_OPS_MAX} ops`);
      const verified = await Promise.all(ops.map((op) => verifyOp(op)));
      const policy = policyOf((await clusterOf(this.env)).config);
      const now = Date.now();
      const steps = this.ctx.storage.transactionSync(() => {
        let hlc = this.hlc();
        const out = ops.map((op, i): SubmitResult => {
          if (!verified[i])
            return {
              kind: "refused",
              error: new AspecError("bad_signature", "the op's signature does not verify"),
            };
          const r = submitOp(this.store, {
            op,
            me: name,
            nowMs: now,
            hlc,
            isCertified: this.isCertified,
            policy,
          });
          if (r.kind === "accepted") hlc = r.hlc;
          return r;
        });
        return { out, hlc };
      });
      this.clock = steps.hlc;
      if (steps.out.some((r) => r.kind === "accepted")) {
        await this.delivery.scheduleDrain();
        await this.delivery.ensureTimers();
      }
      return Promise.all(
        steps.out.map(async (r, i): Promise<RpcResult<OpReply>> => {
          const op = ops[i]!;
          if (r.kind === "refused") return this.refusal(r.error, { opId: opIdOf(op) }, nonce);
          const reply = this.opReply(name, op, r.outcome, now, nonce);
          return { ok: true, value: await this.boundary.sign<OpReply>(key.secret, reply) };
        }),
      );
    });
  }

  /** The reply to an accepted op, unsigned. */
  private opReply(
    name: string,
    op: SignedOp,
    outcome: SubmitOutcome,
    now: number,
    nonce: string | undefined,
  ): Omit<OpReply, "sig"> {
    return {
      kind: "op",
      opId: opIdOf(op),
      key: op.key,
      type: op.type,
      tentative: {
        status: outcome.status,
        ...(outcome.reason ? { reason: outcome.reason } : {}),
        value: outcome.value,
        ...(outcome.superseded ? { superseded: true as const } : {}),
      },
      replica: name,
      certificate: this.certified.latestCertificate(),
      certification: this.certified.certification(),
      uncertified: outcome.pending,
      duplicate: outcome.duplicate,
      time: now,
      ...nonceMember(nonce),
    };
  }

  /**
   * GET /v1/kv?prefix=&cursor=&limit=: one page of the tentative records in byte order of key, each
   * with its certified value as of the newest certificate (none while not `ok`), signed as one reply.
   */
  async list(name: string, query: ListQuery, nonce?: string): Promise<RpcResult<ListReply>> {
    return this.guard({ nonce }, async () => {
      const id = await this.identity(name);
      await this.delivery.ensureTimers();
      await this.freshen();
      const certificate = this.certified.latestCertificate();
      const certification = this.certified.certification();
      const seq = certification === "ok" && certificate ? certificate.body.seq : null;
      // deleted keys are skipped, so a page reads up to LIST_SCAN_FACTOR × limit rows, then stops short
      const scanMax = LIST_SCAN_FACTOR * query.limit;
      const page = listPage(
        this.store.records.from(query.prefix, query.after, scanMax + 1),
        query,
        (key) => (seq === null ? null : { seq, record: this.certified.record(key) }),
        undefined,
        scanMax,
      );
      return this.boundary.sign<ListReply>(id.secret, {
        kind: "list",
        prefix: query.prefix,
        ...(query.after === null ? {} : { after: encodeCursor(query.after) }),
        entries: page.entries,
        cursor: page.cursor,
        replica: name,
        certificate,
        certification,
        time: Date.now(),
        ...nonceMember(nonce),
      });
    });
  }

  /** GET /v1/clients/:client/evidence: what this replica holds against a client (up to 20 pairs). */
  async evidence(name: string, client: string, nonce?: string): Promise<RpcResult<EvidenceReply>> {
    return this.guard({ nonce }, async () => {
      const id = await this.identity(name);
      const rows = this.store.evidenceOf(client, 20);
      return this.boundary.sign<EvidenceReply>(id.secret, {
        kind: "evidence",
        client,
        refused: rows.some((r) => r.refused),
        evidence: rows.map((r) => ({ opId: r.opId, kept: r.kept, other: r.other })),
        replica: name,
        time: Date.now(),
        ...nonceMember(nonce),
      });
    });
  }

  /** GET /v1/namespaces: a page of the namespace records held here (the dashboard's panel). */
  async namespaces(name: string, after: string, nonce?: string): Promise<RpcResult<NamespacesReply>> {
    return this.guard({ nonce }, async () => {
      const id = await this.identity(name);
      const rows = this.store.records.namespaces(after, NAMESPACES_LIST_MAX + 1);
      const page = rows.slice(0, NAMESPACES_LIST_MAX);
      return this.boundary.sign<NamespacesReply>(id.secret, {
        kind: "namespaces",
        namespaces: page.map(([key, rec]) => ({
          name: key.slice(NS_KEY_PREFIX.length),
          members: valueOf(rec) as { [member: string]: string },
        })),
        next:
          rows.length > NAMESPACES_LIST_MAX ? page[page.length - 1]![0].slice(NS_KEY_PREFIX.length) : null,
        replica: name,
        time: Date.now(),
        ...nonceMember(nonce),
      });
    });
  }

  /** GET /v1/kv/:key: the tentative value, and the certified one with its proof. */
  async read(name: string, key: string, nonce?: string): Promise<RpcResult<ReadReply>> {
    return this.guard({ key, nonce }, async () => {
      const id = await this.identity(name);
      await this.delivery.ensureTimers();
      await this.freshen();
      // a deleted key (a tombstone or a deleted mark kept tentatively) reads as a never-written one
      const rec = liveRecord(this.store.getRecord(key));
      return this.boundary.sign<ReadReply>(id.secret, {
        kind: "read",
        key,
        type: rec?.type ?? null,
        value: valueOf(rec),
        replica: name,
        certificate: this.certified.latestCertificate(),
        certification: this.certified.certification(),
        certified: this.certified.certifiedRead(key),
        time: Date.now(),
        ...nonceMember(nonce),
      });
    });
  }

  /** A certified batch's wire text (shared/wire/certified-batch.ts), from the queue, a node or catch-up. */
  async receiveCertified(name: string, text: string): Promise<CertReport> {
    await this.identity(name);
    const admitted = this.boundary.admit("certified");
    const { config } = await clusterOf(this.env);
    if (admitted === "drop")
      return { outcome: "duplicate", seq: null, applied: 0, head: this.certified.headSeq() };
    const report = await this.certified.receive(name, text, config);
    if (report.outcome === "buffered" && report.seq !== null) await this.delivery.gapSeen(report.seq);
    return report;
  }

  async certificationStats(): Promise<CertificationStats> {
    return this.certified.stats();
  }

  /** The newest certified seq applied here, and whether its certified values can be served. */
  async certifiedHead(name: string): Promise<CertifiedHead> {
    await this.identity(name);
    const latest = this.certified.latestCertificate();
    return this.boundary.certifiedHead({
      seq: latest?.body.seq ?? 0,
      time: latest?.body.time ?? null,
      certification: this.certified.certification(),
    });
  }

  /** GET /v1/kv/:key?view=certified: the certified value and proof alone (cacheable per seq). */
  async certifiedRead(name: string, key: string, nonce?: string): Promise<RpcResult<CertifiedReadReply>> {
    return this.guard({ key, nonce }, async () => {
      const id = await this.identity(name);
      await this.freshen();
      const certificate = this.certified.latestCertificate();
      const certified = this.certified.certifiedRead(key);
      if (!certificate || !certified)
        throw new AspecError(
          "not_certified",
          `replica '${name}' has no certified state to prove '${key}' against (${this.certified.certification()})`,
          { certification: this.certified.certification() },
        );
      return this.boundary.sign<CertifiedReadReply>(id.secret, {
        kind: "certified-read",
        key,
        replica: name,
        certificate,
        certified,
        time: Date.now(),
        ...nonceMember(nonce),
      });
    });
  }

  /** GET /v1/ops/:id: this replica's outcome of an op, tentative and certified (with its proof). */
  async opStatus(name: string, opId: string, nonce?: string): Promise<RpcResult<OpStatusReply>> {
    return this.guard({ opId, nonce }, async () => {
      const id = await this.identity(name);
      const stored = this.store.getOp(opId);
      const certified = this.certified.certifiedResult(opId);
      if (!stored && !certified)
        throw new AspecError("unknown_op_id", `replica '${name}' holds no op '${opId}'`);
      const tentative: TentativeResult | null = stored
        ? { status: stored.status, value: stored.value, ...(stored.reason ? { reason: stored.reason } : {}) }
        : null;
      return this.boundary.sign<OpStatusReply>(id.secret, {
        kind: "op-status",
        opId,
        tentative,
        certified,
        pending: certified === null,
        replica: name,
        certificate: this.certified.latestCertificate(),
        certification: this.certified.certification(),
        time: Date.now(),
        ...nonceMember(nonce),
      });
    });
  }

  async certificate(name: string, seq: number | null, nonce?: string): Promise<RpcResult<CertificateReply>> {
    return this.guard({ nonce }, async () => {
      const id = await this.identity(name);
      const cert = seq === null ? this.certified.latestCertificate() : this.certified.certificateAt(seq);
      if (cert === undefined)
        throw new AspecError("unknown_certificate", `replica '${name}' holds no certificate of seq ${seq}`, {
          latest: this.certified.latestCertificate()?.body.seq ?? null,
        });
      return this.boundary.sign<CertificateReply>(id.secret, {
        kind: "certificate",
        replica: name,
        certificate: cert,
        certification: this.certified.certification(),
        time: Date.now(),
        ...nonceMember(nonce),
      });
    });
  }

  /**
   * Ops from another replica, via the replicate queue. Idempotent by op id: a duplicated or
   * redelivered batch changes nothing. Client signatures are checked again: a faulty origin can't
   * inject ops nobody signed.
   */
  async applyRemote(name: string, text: string): Promise<string> {
    await this.identity(name);
    await this.delivery.ensureTimers();
    this.boundary.admit("remote"); // "drop" is for certified batches only
    const msg = parseReplicateText(text);
    if (!msg.ok) {
      // nothing in it can be trusted, not even its origin: no cursor moves
      console.log({ event: "remote_message_malformed", replica: name, reason: msg.reason });
      return peerText({ ...NO_COUNTS, malformed: 1, cursor: 0 } satisfies ApplyReport);
    }
    const report = await this.applyEntries(name, msg.value.origin, msg.value.entries);
    if (report.applied > 0) await this.delivery.wake(); // an op received: not idle any more
    return peerText(report);
  }

  /**
   * The apply path of queue messages and anti-entropy pages alike (the decisions:
   * shared/replica/apply.ts): screen, verify the fresh entries' signatures, then apply them and move
   * the origin's cursor in one transaction, then share any equivocation learnt.
   */
  private async applyEntries(name: string, origin: string, raw: readonly unknown[]): Promise<ApplyReport> {
    const now = Date.now();
    const screened = screenEntries(this.store, origin, raw, this.delivery.seenIn(origin));
    this.log(name, screened.events);
    const verified = await Promise.all(screened.fresh.map((e) => verifyOp(e.op)));
    const policy = policyOf((await clusterOf(this.env)).config);
    const r = this.ctx.storage.transactionSync(() => {
      const step = applyEntries(this.store, {
        origin,
        screened,
        verified,
        nowMs: now,
        hlc: this.hlc(),
        isCertified: this.isCertified,
        certifiedRecord: this.certified.record,
        // a snapshot of the cursor taken again: it may have moved during verification
        seen: this.delivery.seenIn(origin),
        policy,
      });
      return { ...step, cursor: this.delivery.handled(name, origin, step.handled) };
    });
    this.clock = r.hlc;
    this.log(name, r.events);
    if (r.evidence.length > 0) await this.delivery.shareEvidence(name, r.evidence);
    return { ...r.counts, cursor: r.cursor };
  }

  /** The core's events, printed with who this replica is. */
  private log(name: string, events: readonly ReplicaEvent[]): void {
    for (const e of events) console.log({ event: e.event, replica: name, ...e.fields });
  }

  /** The one alarm: outbox drain, re-send, anti-entropy, log collection (durable-objects/delivery.ts). */
  override async alarm(): Promise<void> {
    const name = this.store.getMeta("name");
    if (!name) return;
    await this.identity(name);
    await this.delivery.alarm(name, (origin, entries) => this.applyEntries(name, origin, entries));
  }

  async opsSince(name: string, requester: string, after: number, limit: number): Promise<string> {
    await this.identity(name);
    await this.delivery.ensureTimers();
    return this.delivery.logPage(name, requester, after, limit);
  }

  async confirm(name: string, text: string): Promise<void> {
    await this.identity(name);
    this.delivery.confirm(name, parseAcks(text));
  }

  async noteDeadLetter(name: string, count: number): Promise<void> {
    await this.identity(name);
    const n = Number(this.store.getMeta("dead_lettered") ?? "0");
    this.store.setMeta("dead_lettered", String(n + Math.max(0, Math.trunc(count))));
  }

  async setFaults(name: string, token: string, faults: FaultSettings): Promise<FaultSettings> {
    await this.identity(name);
    if (!faultInjectionAllowed(this.env, token) || !this.faults) throw new Error(FAULT_INJECTION_OFF);
    return this.faults.set(faults);
  }

  async stats(): Promise<ReplicaStats> {
    const count = (t: string) =>
      this.ctx.storage.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${t}`).one().n;
    const name = this.store.getMeta("name");
    const head = this.store.logs.ownHead();
    const cursors: Record<string, number> = {};
    for (const p of name ? this.delivery.peers(name) : [])
      cursors[p.name] = this.delivery.book.cursor(p.name).cursor;
    return {
      outbox: head - Number(this.store.getMeta("sent_pos") ?? "0"),
      ops: this.store.ops.count(),
      keys: count("kv"),
      head,
      acks: this.delivery.book.acks(),
      cursors,
      deadLettered: Number(this.store.getMeta("dead_lettered") ?? "0"),
      certification: this.certified.stats(),
      certifiedSync: { ...this.delivery.certifiedSync.stats },
      certifiedTransfer: { ...this.delivery.certifiedTransfer.stats },
      certify: this.delivery.certifyStatus(name),
      alarms: this.delivery.alarmStatus(),
      beats: { ...this.beats.stats },
    };
  }

  /** Before a read: a newest certificate past half the stale bound asks the nodes for a beat. */
  private freshen(): Promise<void> {
    return this.beats.freshen(() => this.certified.latestCertificate()?.body.time ?? null);
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

  /**
   * This replica's hybrid logical clock (meta `hlc`: survives restarts), cached in memory; the core
   * persists each advance inside its step's transaction and the cache takes it once that committed.
   */
  private hlc(): Hlc {
    return (this.clock ??= parseHlc(this.store.getMeta("hlc")));
  }

  /**
   * Run an RPC; a refusal (`AspecError`) becomes data, signed with this replica's key and naming what
   * was refused (`about`) and the request's nonce. Unsigned only when the replica has no key (e.g.
   * `not_configured`). A nonce that is not one (the edge checks it; this is the replica's own check
   * of what a peer sent) is refused before anything runs, and never signed back.
   */
  private async guard<T>(
    about: { opId?: string; key?: string; nonce?: string | undefined },
    fn: () => Promise<T>,
  ): Promise<RpcResult<T>> {
    const { nonce, ...subject } = about;
    const bad = nonce !== undefined && !isNonce(nonce);
    try {
      if (bad) throw new AspecError("invalid_nonce", "the request's nonce is not base64url of 16-32 bytes");
      return { ok: true, value: await fn() };
    } catch (e) {
      if (!isAspecError(e)) throw e;
      return this.refusal(e as AspecError, subject, bad ? undefined : nonce);
    }
  }

  /** A refusal as data, signed naming what was refused (`subject`); unsigned only without a key. */
  private async refusal(
    e: AspecError,
    subject: { opId?: string; key?: string },
    nonce: string | undefined,
  ): Promise<{ ok: false } & (ErrorReply | ErrorBody)> {
    const error = e.toBody().error;
    const key = this.name === undefined ? undefined : await this.key?.catch(() => undefined);
    if (!key) return { ok: false, error };
    const signed = await signErrorReply(key.secret, {
      error,
      kind: "error",
      replica: this.name!,
      ...subject,
      time: Date.now(),
      ...nonceMember(nonce),
    });
    return { ok: false, ...signed };
  }
}
