/**
 * `AspecClient`: signs operations with the client's Ed25519 key, sends them to one home replica,
 * and verifies every reply: the replica's signature against the keys pinned at connect time, every
 * certificate against the PBFT cluster pinned at connect time, every certified value and result
 * against its certificate's roots (client/verify.ts, client/certificates.ts). It follows each op to
 * its certified outcome (client/certify.ts), issues new ops only within the tolerance k
 * (client/tolerance.ts), and fails over to the next replica of the directory when one refuses,
 * lies or does not get an op certified in time.
 */
import type { Json } from "../shared/canonical.js";
import { fromB64u } from "../shared/bytes.js";
import type { ClusterInfo } from "../shared/cluster-config.js";
import { generateKeyPair, keyPairFromSeed, type KeyPair } from "../shared/crypto/keys.js";
import type { TypeName } from "../shared/datatypes/index.js";
import { isAspecError } from "../shared/errors.js";
import { kvPath } from "../shared/kv-key.js";
import { LIST_LIMIT_DEFAULT } from "../shared/kv-list.js";
import { BATCH_OPS_MAX } from "../shared/op-limits.js";
import { opIdOf, type SignedOp } from "../shared/ops.js";
import { BATCH_REPLY_BYTES_MAX } from "../shared/reply-limits.js";
import { verifyBatchReply, type BatchResult } from "./batch.js";
import type {
  CertificateReply,
  CertifiedReadReply,
  ListReply,
  OpReply,
  OpStatusReply,
  ReadReply,
  ReplicaInfo,
} from "../shared/replies.js";
import { retryPolicy, type RetryPolicy } from "./backoff.js";
import { checkIntent, signIntent, type OpIntent } from "./build-op.js";
import { CertificateGuard, DEFAULT_CLOCK_SKEW_MS, DEFAULT_MAX_CERTIFICATE_AGE_MS } from "./certificates.js";
import {
  CertificationTracker,
  differs,
  OP_WAIT_MAX_MS,
  type CertifiedOutcome,
  type FailoverEvent,
  type RollbackEvent,
} from "./certify.js";
import { checkCluster, fetchCluster, type PinnedCluster } from "./cluster.js";
import {
  AspecClientError,
  NetworkError,
  BadResponseError,
  ReplyVerificationError,
  UNPROVEN_REASONS,
} from "./errors.js";
import {
  evidenceFrom,
  evidencePins,
  submitEvidence,
  type Evidence,
  type EvidencePins,
  type EvidenceSubmission,
} from "./evidence.js";
import { Emitter, type Listener } from "./events.js";
import {
  accountHandle,
  counterHandle,
  namespaceHandle,
  registerHandle,
  setHandle,
  type AccountHandle,
  type CounterHandle,
  type NamespaceHandle,
  type OpSink,
  type RegisterHandle,
  type SetHandle,
  type SubmittedOp,
} from "./handles.js";
import { freshNonce, NONCE_HEADER, type RequestBinding } from "./nonce.js";
import { checkReplicas, fetchReplicas } from "./replicas.js";
import { RestingReplicas } from "./resting.js";
import { SeqCounter } from "./seq.js";
import { Tolerance } from "./tolerance.js";
import { requestJson, type FetchFn, type HttpOptions, type JsonRequest } from "./transport.js";
import {
  checkErrorReply,
  verifyCertificateReply,
  verifyListReply,
  verifyCertifiedReadReply,
  verifyOpReply,
  verifyOpStatusReply,
  verifyReadReply,
} from "./verify.js";

export interface ConnectOptions {
  /** Base URL of the edge Worker, e.g. `http://127.0.0.1:8787`. */
  endpoint: string;
  /** Home replica (`weur`, `enam`, `apac`, …). Omitted: the server picks, and the client sticks to it. */
  replica?: string;
  /** The client's identity. Omitted: a fresh key is generated (see `client.key` to keep it). */
  key?: KeyPair;
  /** The next seq to use (default 1). Persist `client.nextSeq` with the key. */
  seq?: number;
  /** Pin these replica keys instead of fetching `GET /v1/replicas`. */
  replicas?: ReplicaInfo[];
  /** Pin this PBFT cluster instead of fetching `GET /v1/cluster`. */
  cluster?: ClusterInfo;
  /** Refuse to connect unless the cluster's config digest is this one. */
  configDigest?: string;
  /**
   * Tolerance k: issue a new op only while fewer than k of this client's ops are uncertified
   * (default 4). 0: each op resolves only once certified. Infinity: plain EC, nothing waits.
   */
  maxUncertified?: number;
  /** An op not certified this long after it was sent is re-sent through the next replica (default 10 000). */
  certifyDeadlineMs?: number;
  /**
   * Refuse a reply whose newest certificate is older than this (ms) by the certificate's `time` and
   * this client's clock, with 1 s of slack for the clocks (default 10 000; the cluster certifies at
   * least every ~2 s, idle or not). `Infinity`: no bound. A stale reply is no lie: the client fails
   * over and tries that replica again later.
   */
  maxCertificateAgeMs?: number;
  /** Re-send through the next replica on a refusal, a lie or a missed deadline (default true). */
  failover?: boolean;
  /**
   * Submit evidence (`POST /v1/evidence`) when a refused reply proves its replica lied (default
   * true): the edge then quarantines that replica for every client. Reported as `evidence` events.
   */
  reportEvidence?: boolean;
  /** A `fetch` to use instead of the global one. */
  fetch?: FetchFn;
  /** Retries of network failures and 5xx. Default: 4 attempts, 100 ms base, 2 s cap, full jitter. */
  retry?: Partial<RetryPolicy>;
  /** Per-attempt timeout, ms (default 10 000). */
  timeoutMs?: number;
  /** Clock for op timestamps and certificate age, ms (default `Date.now`). */
  now?: () => number;
}

/** What `client.on(…)` delivers. */
export interface ClientEvents {
  [name: string]: unknown;
  /** An op's certified result differs from what the replica said at once (status or value). */
  rollback: RollbackEvent;
  /** An op's certified outcome was verified. */
  certified: CertifiedOutcome;
  /** An op is re-sent through another replica (which becomes the home replica). */
  failover: FailoverEvent;
  /** A new op waits: k ops are uncertified. */
  blocked: { uncertified: number; maxUncertified: number };
  /** A waiting op goes out. */
  unblocked: { uncertified: number; maxUncertified: number };
  /** A reply failed verification (the error holds the reply: evidence). */
  unverified: ReplyVerificationError;
  /** A refused reply proved a lie and was submitted as evidence (or its submission failed). */
  evidence: EvidenceReport;
}

export interface EvidenceReport {
  /** The refusal the evidence comes from. */
  error: ReplyVerificationError;
  evidence: Evidence;
  /** What `POST /v1/evidence` answered (e.g. `outcome: "quarantined"`) … */
  submission?: EvidenceSubmission;
  /** … or why it could not be submitted. */
  failure?: unknown;
}

export type { CertifiedOutcome, FailoverEvent, RollbackEvent };

/** One op's outcome in `client.batch`: its submitted reply, or the refusal `submit` would have thrown. */
export type BatchOutcome = { ok: true; reply: SubmittedOp } | { ok: false; error: Error };

const DEFAULT_MAX_UNCERTIFIED = 4;

const nonceHeader = (b: RequestBinding): Record<string, string> => ({ [NONCE_HEADER]: b.nonce });
const DEFAULT_CERTIFY_DEADLINE_MS = 10_000;

function seqReplayedLastSeq(e: unknown): number | undefined {
  if (!isAspecError(e) || e.code !== "seq_replayed") return undefined;
  const last = (e.details as { lastSeq?: unknown } | null | undefined)?.lastSeq;
  return typeof last === "number" && Number.isSafeInteger(last) && last >= 0 ? last : undefined;
}

/** A replica that could not help: it lied, could not be reached, or failed (5xx, quarantined). */
const isReplicaFault = (e: unknown): e is Error =>
  e instanceof ReplyVerificationError ||
  e instanceof NetworkError ||
  e instanceof BadResponseError ||
  (isAspecError(e) && e.status >= 500 && e.code !== "not_configured");

async function checkKey(key: KeyPair): Promise<KeyPair> {
  let derived: KeyPair;
  try {
    derived = await keyPairFromSeed(fromB64u(key.secret));
  } catch (e) {
    throw new AspecClientError("invalid_key", "key.secret is not a base64url 32-byte seed", { cause: e });
  }
  if (derived.publicKey !== key.publicKey)
    throw new AspecClientError("invalid_key", "key.publicKey does not belong to key.secret");
  return derived;
}

interface Settings {
  tolerance: Tolerance;
  certifyDeadlineMs: number;
  failover: boolean;
  reportEvidence: boolean;
}

/**
 * A client of one Aspec Edge deployment.
 *
 * @example
 * ```ts
 * const c = await AspecClient.connect({ endpoint: "http://127.0.0.1:8787", replica: "weur" });
 * const w = await c.account("alice").withdraw(7); // w.tentative: the replica's answer, at once
 * const final = await w.certified;                 // final.result: the certified one, proven
 * c.on("rollback", (r) => console.log("undo", r.opId, r.tentative, "→", r.certified));
 * const read = await c.get("hits");                // read.value; read.certified proven if present
 * ```
 *
 * Server refusals throw `AspecError` (with the API's `code`); an unverifiable reply throws
 * `ReplyVerificationError` (with a stable `reason`, the `replica` and the `reply`); an unreachable
 * endpoint `NetworkError`.
 */
export class AspecClient implements OpSink {
  readonly #pinned: Map<string, string>;
  readonly #seq: SeqCounter;
  readonly #http: HttpOptions;
  readonly #now: () => number;
  readonly #certs: CertificateGuard;
  readonly #events = new Emitter<ClientEvents>();
  readonly #tolerance: Tolerance;
  readonly #tracker: CertificationTracker;
  readonly #failover: boolean;
  readonly #reportEvidence: boolean;
  /** Evidence submissions under way (`reported()` waits for them). */
  readonly #reports = new Set<Promise<void>>();
  /** Replicas that lied to this client: never chosen again. */
  readonly #left = new Set<string>();
  /** Replicas that were stale or served a reply not bound to the request: skipped for a while. */
  readonly #resting: RestingReplicas;
  #home: string | undefined;

  private constructor(
    /** Base URL, without a trailing slash. */
    readonly endpoint: string,
    /** This client's identity; `key.secret` is secret. */
    readonly key: KeyPair,
    /** The replica directory pinned at connect time. */
    readonly replicas: readonly ReplicaInfo[],
    /** The PBFT cluster pinned at connect time (every certificate is checked against it). */
    readonly cluster: ClusterInfo,
    pinnedCluster: PinnedCluster,
    home: string | undefined,
    seq: SeqCounter,
    http: HttpOptions,
    now: () => number,
    maxCertificateAgeMs: number,
    settings: Settings,
  ) {
    this.#pinned = new Map(replicas.map((r) => [r.name, r.publicKey]));
    this.#home = home;
    this.#seq = seq;
    this.#http = http;
    this.#now = now;
    this.#certs = new CertificateGuard(pinnedCluster, {
      maxAgeMs: maxCertificateAgeMs,
      clockSkewMs: DEFAULT_CLOCK_SKEW_MS,
      now,
    });
    this.#resting = new RestingReplicas(now);
    this.#tolerance = settings.tolerance;
    this.#failover = settings.failover;
    this.#reportEvidence = settings.reportEvidence;
    this.#tracker = new CertificationTracker({
      certifyDeadlineMs: settings.certifyDeadlineMs,
      now,
      pollStatus: (opId, replica, waitMs, signal) => this.#pollStatus(opId, replica, waitMs, signal),
      resend: async (op, replica, signal) => {
        const r = await this.#send(op, replica, signal);
        this.#home = replica;
        return r;
      },
      failover: (from, tried, reason, opId) => this.#nextReplica(from, tried, reason, opId),
      onCertified: (o) => {
        this.#events.emit("certified", o);
        if (o.rolledBack)
          this.#events.emit("rollback", {
            opId: o.opId,
            key: o.key,
            type: o.type,
            tentative: o.tentative,
            certified: o.result,
            seq: o.seq,
            replica: o.replica,
          });
      },
    });
  }

  /**
   * Fetch and pin the replica directory and the PBFT cluster, check the home replica exists and the
   * cluster's config digest, and make a client.
   *
   * @example
   * ```ts
   * const c = await AspecClient.connect({ endpoint, replica: "weur", key: saved.key, seq: saved.nextSeq });
   * ```
   */
  static async connect(opts: ConnectOptions): Promise<AspecClient> {
    const endpoint = opts.endpoint.replace(/\/+$/, "");
    const http: HttpOptions = {
      fetch: opts.fetch ?? ((input, init) => globalThis.fetch(input, init)),
      retry: retryPolicy(opts.retry),
      timeoutMs: opts.timeoutMs ?? 10_000,
    };
    const settings: Settings = {
      tolerance: new Tolerance(opts.maxUncertified ?? DEFAULT_MAX_UNCERTIFIED),
      certifyDeadlineMs: opts.certifyDeadlineMs ?? DEFAULT_CERTIFY_DEADLINE_MS,
      failover: opts.failover ?? true,
      reportEvidence: opts.reportEvidence ?? true,
    };
    if (!(settings.certifyDeadlineMs > 0)) throw new RangeError("certifyDeadlineMs must be > 0");
    const maxCertificateAgeMs = opts.maxCertificateAgeMs ?? DEFAULT_MAX_CERTIFICATE_AGE_MS;
    if (!(maxCertificateAgeMs > 0))
      throw new RangeError("maxCertificateAgeMs must be > 0 (Infinity: no bound)");
    // One after the other: the first failure is always the directory's (stable errors).
    const replicas = opts.replicas ? checkReplicas(opts.replicas) : await fetchReplicas(endpoint, http);
    const cluster = opts.cluster
      ? checkCluster(opts.cluster, opts.configDigest)
      : await fetchCluster(endpoint, http, opts.configDigest);
    if (opts.replica !== undefined && !replicas.some((r) => r.name === opts.replica))
      throw new AspecClientError(
        "unknown_replica",
        `no replica '${opts.replica}' (known: ${replicas.map((r) => r.name).join(", ")})`,
      );
    const key = opts.key ? await checkKey(opts.key) : await generateKeyPair();
    const seq = new SeqCounter(opts.seq ?? 1);
    return new AspecClient(
      endpoint,
      key,
      replicas,
      cluster.info,
      cluster,
      opts.replica,
      seq,
      http,
      opts.now ?? Date.now,
      maxCertificateAgeMs,
      settings,
    );
  }

  /** This client's id: its base64url Ed25519 public key. */
  get publicKey(): string {
    return this.key.publicKey;
  }

  /** The home replica: the one asked, the one that first answered, or the one failed over to. */
  get replica(): string | undefined {
    return this.#home;
  }

  /** The seq the next new op will use. Save it with the key to resume without a resync. */
  get nextSeq(): number {
    return this.#seq.next;
  }

  /** Tolerance k (`maxUncertified`). */
  get maxUncertified(): number {
    return this.#tolerance.k;
  }

  /** This client's ops issued and not yet certified (its own count; replies' `uncertified` is the replica's). */
  get uncertified(): number {
    return this.#tolerance.uncertified;
  }

  /** The newest certified seq this client has verified from any replica (0: none). */
  get certifiedSeq(): number {
    return this.#certs.highestSeq;
  }

  /** What evidence is checked against: the pinned cluster and replica keys (`client/evidence.ts`). */
  get pins(): EvidencePins {
    return evidencePins(this.replicas, this.cluster);
  }

  /** Replicas this client no longer uses because they lied to it. */
  get leftReplicas(): readonly string[] {
    return [...this.#left];
  }

  /** Replicas skipped for now (stale, or a reply not bound to its request) and tried again later. */
  get restingReplicas(): readonly string[] {
    return this.#resting.names();
  }

  /** Subscribe to an event; returns the unsubscribe function. */
  on<K extends keyof ClientEvents & string>(name: K, fn: Listener<ClientEvents[K]>): () => void {
    return this.#events.on(name, fn);
  }
  off<K extends keyof ClientEvents & string>(name: K, fn: Listener<ClientEvents[K]>): void {
    this.#events.off(name, fn);
  }

  /** Resolves once none of this client's ops is uncertified. */
  settled(): Promise<void> {
    return this.#tolerance.idle();
  }

  /**
   * Resolves once every evidence submission this client has started is over (it never rejects: each
   * ends as an `evidence` event). In a Worker, `ctx.waitUntil(client.reported())` keeps one alive
   * after the response is sent.
   */
  async reported(): Promise<void> {
    await Promise.all(this.#reports);
  }

  /** Stop following ops: polls are aborted, pending `certified` promises and waiting ops reject with `closed`. */
  close(): void {
    this.#tracker.close();
    this.#tolerance.close();
  }

  /** @example `await c.counter("hits").add(1)` */
  counter(key: string): CounterHandle {
    return counterHandle(this, key);
  }
  /** @example `await c.register("title").set({ text: "hi" })` */
  register(key: string): RegisterHandle {
    return registerHandle(this, key);
  }
  /** @example `await c.set("tags").add("x")` */
  set(key: string): SetHandle {
    return setHandle(this, key);
  }
  /** @example `const w = await c.account("alice").withdraw(3); const final = await w.certified;` */
  account(key: string): AccountHandle {
    return accountHandle(this, key);
  }
  /** @example `await c.namespace("wallet").claim(); await c.namespace("wallet").grant(bobKey, "account.deposit")` */
  namespace(name: string): NamespaceHandle {
    return namespaceHandle(this, name);
  }

  /**
   * Sign and send one new op, once fewer than k of this client's ops are uncertified. Resolves to
   * the replica's signed reply (its tentative result), with `certified`: a promise of the op's
   * verified certified outcome (a non-enumerable property: the reply's JSON stays as signed).
   * With k = 0 it resolves only once certified.
   *
   * If the replica has seen this seq already (`seq_replayed` with `lastSeq`, e.g. a key restored
   * without its seq), the seq is moved past `lastSeq` and the op re-signed and sent once more.
   *
   * @example `const r = await c.submit("hits", "counter", "add", { n: 2 }); await r.certified;`
   */
  async submit(key: string, type: TypeName, op: string, args: { [k: string]: Json }): Promise<SubmittedOp> {
    const intent: OpIntent = { key, type, op, args };
    checkIntent(intent, this.publicKey, this.#now());
    const tol = this.#tolerance;
    const eager = await this.#admit(1);
    let sent: { op: SignedOp; reply: OpReply };
    try {
      sent = await this.#issue(intent);
    } catch (e) {
      if (eager) tol.release();
      throw e;
    }
    const out = this.#submitted(sent.op, sent.reply, eager);
    if (tol.k === 0) await out.certified;
    return out;
  }

  /**
   * Wait for room for `n` more uncertified ops (tolerance k), with `blocked`/`unblocked` events, when
   * anything follows certification; whether it does. Plain EC with nobody listening: nothing to
   * count, and `certified` is followed only if asked for.
   */
  async #admit(n: number): Promise<boolean> {
    const tol = this.#tolerance;
    if (tol.k === Infinity && !this.#events.has("rollback") && !this.#events.has("certified")) return false;
    const blocked = tol.full;
    const info = () => ({ uncertified: tol.uncertified, maxUncertified: tol.k });
    if (blocked) this.#events.emit("blocked", info());
    await (n === 1 ? tol.acquire() : tol.acquireMany(n));
    if (blocked) this.#events.emit("unblocked", info());
    return true;
  }

  /**
   * Sign and send many new ops in one request (`POST /v1/ops/batch`, at most 100), decided in order
   * by one replica; one outcome per op, in order: `{ok: true, reply}` (a `SubmittedOp`, followed to
   * its certified outcome, with `rollback` events, as `submit`'s) or `{ok: false, error}` (the
   * refusal `submit` of that op would have thrown). Every op is checked first: one the server would
   * refuse throws before anything is signed. The batch goes out when a single op would (tolerance
   * k) and then counts as its ops' number of uncertified ops. A `seq_replayed` refusal is returned
   * as is (not re-signed, unlike `submit`).
   *
   * @example
   * ```ts
   * const out = await c.batch([
   *   { key: "hits", type: "counter", op: "add", args: { n: 1 } },
   *   { key: "tags", type: "set", op: "add", args: { x: "new" } },
   * ]);
   * for (const r of out) console.log(r.ok ? r.reply.tentative.value : r.error.code);
   * ```
   */
  async batch(intents: readonly OpIntent[]): Promise<BatchOutcome[]> {
    if (intents.length === 0 || intents.length > BATCH_OPS_MAX)
      throw new RangeError(`a batch holds 1 to ${BATCH_OPS_MAX} ops, got ${intents.length}`);
    for (const intent of intents) checkIntent(intent, this.publicKey, this.#now());
    const tol = this.#tolerance;
    const eager = await this.#admit(intents.length);
    let results: BatchResult[];
    const ops: SignedOp[] = [];
    try {
      for (const intent of intents) ops.push(await this.#sign(intent));
      results = (await this.#withFailover((replica) => this.#sendBatch(ops, replica))).results;
    } catch (e) {
      if (eager) for (let i = 0; i < intents.length; i++) tol.release();
      throw e;
    }
    const out = results.map((r, i): BatchOutcome => {
      if (!r.ok) {
        if (eager) tol.release();
        return r;
      }
      return { ok: true, reply: this.#submitted(ops[i]!, r.reply, eager) };
    });
    if (tol.k === 0) await Promise.allSettled(out.map((o) => (o.ok ? o.reply.certified : null)));
    return out;
  }

  /** A reply as a `SubmittedOp`: its `certified` outcome followed (at once when `eager`, which holds a slot). */
  #submitted(signed: SignedOp, reply: OpReply, eager: boolean): SubmittedOp {
    const tol = this.#tolerance;
    let certified: Promise<CertifiedOutcome> | undefined;
    const follow = (): Promise<CertifiedOutcome> => {
      if (!certified) {
        certified = this.#tracker.track(signed, reply.replica, reply.tentative);
        if (eager)
          certified.then(
            () => tol.release(),
            () => tol.release(),
          );
        certified.catch(() => {}); // the caller may never look: not an unhandled rejection
      }
      return certified;
    };
    if (eager) follow();
    return Object.defineProperty(reply, "certified", { get: follow, enumerable: false }) as SubmittedOp;
  }

  /**
   * One page of keys by prefix at the home replica (`GET /v1/kv`), in byte order, each with its
   * tentative value and its certified value as of the reply's certificate (checked; the values
   * carry no proofs: `getCertified(key)` proves one). `cursor`: the previous page's; `limit` 1 to
   * 1,000 (default 100). `reply.cursor` is null on the last page.
   *
   * @example `const { entries, cursor } = await c.list("wallet/", { limit: 50 })`
   */
  async list(prefix: string, opts: { cursor?: string | undefined; limit?: number } = {}): Promise<ListReply> {
    const limit = opts.limit ?? LIST_LIMIT_DEFAULT;
    const query: Record<string, string> = { prefix, limit: String(limit) };
    if (opts.cursor !== undefined) query.cursor = opts.cursor;
    return this.#withFailover(async (asked) => {
      const bound = this.#bind();
      const body = await requestJson(
        { method: "GET", url: this.#url("/v1/kv", asked, query), headers: nonceHeader(bound) },
        this.#http,
        (b, e) => this.#verified(() => checkErrorReply(b, e, { replica: asked, ...bound }, this.#pinned)),
      );
      const expect = { replica: asked, prefix, cursor: opts.cursor, limit, ...bound };
      return this.#verified(() => verifyListReply(body, expect, this.#pinned, this.#certs));
    });
  }

  /**
   * Every page of keys by prefix, one `list` after another (a cursor is a key, so a page after a
   * failover continues at the next replica where the last ended).
   *
   * @example `for await (const page of c.listPages("wallet/")) for (const e of page.entries) console.log(e.key)`
   */
  async *listPages(prefix: string, opts: { limit?: number } = {}): AsyncGenerator<ListReply> {
    let cursor: string | undefined;
    do {
      const page = await this.list(prefix, { cursor, limit: opts.limit });
      yield page;
      cursor = page.cursor ?? undefined;
    } while (cursor !== undefined);
  }

  /**
   * Read a key at the home replica: its tentative value, and (`certified`) its certified value,
   * whose proof has been checked against the reply's certificate.
   *
   * @example `const { type, value, certified } = await c.get("hits")`  // type null: never written there
   */
  async get(key: string): Promise<ReadReply> {
    return this.#withFailover(async (asked) => {
      const bound = this.#bind();
      const body = await requestJson(
        // kvPath: the server's key grammar first (`.`/`..` cannot travel in a URL), then one segment
        { method: "GET", url: this.#url(kvPath(key), asked), headers: nonceHeader(bound) },
        this.#http,
        (b, e) =>
          this.#verified(() => checkErrorReply(b, e, { replica: asked, key, ...bound }, this.#pinned)),
      );
      return this.#verified(() =>
        verifyReadReply(body, { replica: asked, key, ...bound }, this.#pinned, this.#certs),
      );
    });
  }

  /**
   * A key's certified value alone (`GET /v1/kv/:key?view=certified`, edge-cached), proven against
   * the reply's certificate; `certified.value` null is a proven absence (never written, or deleted).
   * Refused (`not_certified`) while the replica has no certified state.
   */
  async getCertified(key: string): Promise<CertifiedReadReply> {
    return this.#withFailover(async (asked) => {
      const bound = this.#bind();
      const body = await requestJson(
        {
          method: "GET",
          url: this.#url(kvPath(key), asked, { view: "certified" }),
          headers: nonceHeader(bound),
        },
        this.#http,
        (b, e) =>
          this.#verified(() => checkErrorReply(b, e, { replica: asked, key, ...bound }, this.#pinned)),
      );
      return this.#verified(() =>
        verifyCertifiedReadReply(body, { replica: asked, key, ...bound }, this.#pinned, this.#certs),
      );
    });
  }

  /**
   * An op's status at the home replica (`GET /v1/ops/:id`), verified: with its certified result and
   * proof once certified. `waitMs` > 0 long-polls for certification (≤ 30 000).
   */
  async opStatus(opId: string, waitMs = 0): Promise<OpStatusReply> {
    return this.#pollStatus(opId, this.#home, Math.min(Math.max(0, Math.floor(waitMs)), OP_WAIT_MAX_MS));
  }

  /** The home replica's newest certificate (`GET /v1/certificates/latest`), verified. */
  async latestCertificate(): Promise<CertificateReply> {
    const asked = this.#home;
    const bound = this.#bind();
    const body = await requestJson(
      { method: "GET", url: this.#url("/v1/certificates/latest", asked), headers: nonceHeader(bound) },
      this.#http,
      (b, e) => this.#verified(() => checkErrorReply(b, e, { replica: asked, ...bound }, this.#pinned)),
    );
    return this.#verified(() => verifyCertificateReply(body, asked, this.#pinned, this.#certs, true, bound));
  }

  /** Did the certified result of an op differ from its tentative one? (What `rollback` reports.) */
  static rolledBack = differs;

  async #verified<T>(check: () => Promise<T>): Promise<T> {
    try {
      return await check();
    } catch (e) {
      if (e instanceof ReplyVerificationError) {
        this.#events.emit("unverified", e);
        if (this.#reportEvidence) {
          const report = this.#report(e).finally(() => this.#reports.delete(report));
          this.#reports.add(report);
        }
      }
      throw e;
    }
  }

  /** Submit what a refused reply proves, if it proves anything (never throws: an `evidence` event). */
  async #report(error: ReplyVerificationError): Promise<void> {
    const evidence = await evidenceFrom(error, this.pins).catch(() => null);
    if (!evidence) return;
    try {
      const submission = await submitEvidence(this.endpoint, evidence, this.#http.fetch, {
        timeoutMs: this.#http.timeoutMs,
      });
      this.#events.emit("evidence", { error, evidence, submission });
    } catch (failure) {
      this.#events.emit("evidence", { error, evidence, failure });
    }
  }

  #sign(intent: OpIntent): Promise<SignedOp> {
    return signIntent(this.key, intent, this.#seq.take(), Math.floor(this.#now()));
  }

  async #issue(intent: OpIntent): Promise<{ op: SignedOp; reply: OpReply }> {
    let op = await this.#sign(intent);
    try {
      return { op, reply: await this.#sendWithFailover(op) };
    } catch (e) {
      const lastSeq = seqReplayedLastSeq(e);
      if (lastSeq === undefined) throw e;
      this.#seq.advancePast(lastSeq);
      op = await this.#sign(intent);
      return { op, reply: await this.#sendWithFailover(op) };
    }
  }

  /** Send to the home replica; on a replica fault, the same signed op through the next one. */
  #sendWithFailover(op: SignedOp): Promise<OpReply> {
    return this.#withFailover((replica) => this.#send(op, replica), opIdOf(op));
  }

  /**
   * Ask the home replica; on a replica fault (down, 5xx, quarantined, a reply that does not verify)
   * ask the next one of the directory, which becomes the home replica once it answers.
   */
  async #withFailover<T extends { replica: string }>(
    ask: (replica: string | undefined) => Promise<T>,
    opId?: string,
  ): Promise<T> {
    const tried = new Set<string>();
    let target = this.#home;
    let first: unknown;
    for (;;) {
      try {
        const reply = await ask(target);
        this.#resting.clear(reply.replica);
        // "": a batch whose results no replica signed names none (workers/batch.ts)
        if (first !== undefined && reply.replica !== "") this.#home = reply.replica; // failed over: the new home
        if (reply.replica !== "") this.#home ??= reply.replica;
        return reply;
      } catch (e) {
        if (!this.#failover || !isReplicaFault(e)) throw e;
        first ??= e;
        if (target !== undefined) tried.add(target);
        const next = this.#nextReplica(target, tried, e, opId);
        if (next === undefined) throw first;
        target = next;
      }
    }
  }

  /** One signed op to `replica` (the server's choice when undefined); retries re-send the same op id. */
  async #send(op: SignedOp, replica: string | undefined, signal?: AbortSignal): Promise<OpReply> {
    const opId = opIdOf(op);
    const bound = this.#bind();
    const req: JsonRequest = {
      method: "POST",
      url: this.#url("/v1/ops", replica),
      body: JSON.stringify(op),
      headers: nonceHeader(bound),
    };
    if (signal) req.signal = signal;
    const body = await requestJson(req, this.#http, (b, e) =>
      this.#verified(() => checkErrorReply(b, e, { replica, opId, ...bound }, this.#pinned)),
    );
    return this.#verified(() =>
      verifyOpReply(body, { replica, opId, key: op.key, type: op.type, ...bound }, this.#pinned, this.#certs),
    );
  }

  /** One batch of signed ops to `replica`; each result verified as that op's reply alone. */
  async #sendBatch(
    ops: readonly SignedOp[],
    replica: string | undefined,
  ): Promise<{ replica: string; results: BatchResult[] }> {
    const bound = this.#bind();
    const req: JsonRequest = {
      method: "POST",
      url: this.#url("/v1/ops/batch", replica),
      body: JSON.stringify({ ops }),
      headers: nonceHeader(bound),
      bytesMax: BATCH_REPLY_BYTES_MAX,
    };
    const body = await requestJson(req, this.#http, (b, e) =>
      this.#verified(() => checkErrorReply(b, e, { replica, ...bound }, this.#pinned)),
    );
    const results = await this.#verified(() =>
      verifyBatchReply(body, ops, replica, bound, this.#pinned, this.#certs),
    );
    // the replica that answered, as its accepted ops' replies name it ("": none did, home unchanged)
    const named = results.find((r): r is { ok: true; reply: OpReply } => r.ok)?.reply.replica;
    return { replica: named ?? replica ?? "", results };
  }

  async #pollStatus(
    opId: string,
    replica: string | undefined,
    waitMs: number,
    signal?: AbortSignal,
  ): Promise<OpStatusReply> {
    const wait: Record<string, string> =
      waitMs > 0 ? { wait: "certified", timeoutMs: String(Math.floor(waitMs)) } : {};
    const bound = this.#bind();
    const req: JsonRequest = {
      method: "GET",
      url: this.#url(`/v1/ops/${encodeURIComponent(opId)}`, replica, wait),
      timeoutMs: waitMs + this.#http.timeoutMs,
      headers: nonceHeader(bound),
    };
    if (signal) req.signal = signal;
    const body = await requestJson(req, this.#http, (b, e) =>
      this.#verified(() => checkErrorReply(b, e, { replica, opId, ...bound }, this.#pinned)),
    );
    return this.#verified(() =>
      verifyOpStatusReply(body, { replica, opId, ...bound }, this.#pinned, this.#certs),
    );
  }

  /** A fresh nonce for one request, and the receive mark its reply's certificate is judged from. */
  #bind(): RequestBinding {
    return { nonce: freshNonce(), sent: this.#certs.mark() };
  }

  /**
   * The replica to fail over to from `from`: the next in directory order not yet tried for this op,
   * not left and not resting (it becomes the home replica once it answers). A replica whose reply
   * did not verify is left for good, unless the refusal proves nothing against it (stale, or not
   * this request's reply): then it rests and is tried again later.
   */
  #nextReplica(
    from: string | undefined,
    tried: ReadonlySet<string>,
    reason: "deadline" | Error,
    opId: string | undefined,
  ): string | undefined {
    if (!this.#failover) return undefined;
    // Left: the replica asked, whose answer did not verify (whoever signed it) and proves a lie.
    if (reason instanceof ReplyVerificationError && from !== undefined) {
      if (UNPROVEN_REASONS.has(reason.reason)) this.#resting.rest(from);
      else this.#left.add(from);
    }
    const names = this.replicas.map((r) => r.name);
    const start = from === undefined ? 0 : names.indexOf(from) + 1;
    for (let i = 0; i < names.length; i++) {
      const name = names[(start + i) % names.length]!;
      if (name === from || tried.has(name) || this.#left.has(name) || this.#resting.resting(name)) continue;
      this.#events.emit("failover", { opId, from, to: name, reason });
      return name;
    }
    return undefined;
  }

  #url(path: string, replica: string | undefined, query: Record<string, string> = {}): string {
    const q = new URLSearchParams(query);
    if (replica !== undefined) q.set("replica", replica);
    const s = q.toString();
    return this.endpoint + path + (s === "" ? "" : `?${s}`);
  }
}
