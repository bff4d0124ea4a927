/**
 * `AspecClient`: signs operations with the client's Ed25519 key, sends them to one home replica,
 * and verifies every reply against the replica keys pinned at connect time.
 *
 * Room is left for what verifying clients add later (certificate checks, `maxUncertified`, rollback events,
 * failover): every reply already passes through `#send` / `get`, which is where those hook in.
 */
import type { Json } from "../shared/canonical.js";
import { fromB64u } from "../shared/bytes.js";
import { generateKeyPair, keyPairFromSeed, type KeyPair } from "../shared/crypto/keys.js";
import type { TypeName } from "../shared/datatypes/index.js";
import { isAspecError } from "../shared/errors.js";
import { kvPath } from "../shared/kv-key.js";
import { opIdOf, type SignedOp } from "../shared/ops.js";
import type { OpReply, ReadReply, ReplicaInfo } from "../shared/replies.js";
import { retryPolicy, type RetryPolicy } from "./backoff.js";
import { checkIntent, signIntent, type OpIntent } from "./build-op.js";
import { AspecClientError } from "./errors.js";
import {
  accountHandle,
  counterHandle,
  registerHandle,
  setHandle,
  type AccountHandle,
  type CounterHandle,
  type OpSink,
  type RegisterHandle,
  type SetHandle,
} from "./handles.js";
import { checkReplicas, fetchReplicas } from "./replicas.js";
import { SeqCounter } from "./seq.js";
import { requestJson, type FetchFn, type HttpOptions } from "./transport.js";
import { checkErrorReply, verifyOpReply, verifyReadReply } from "./verify.js";

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
  /** A `fetch` to use instead of the global one. */
  fetch?: FetchFn;
  /** Retries of network failures and 5xx. Default: 4 attempts, 100 ms base, 2 s cap, full jitter. */
  retry?: Partial<RetryPolicy>;
  /** Per-attempt timeout, ms (default 10 000). */
  timeoutMs?: number;
  /** Clock for op timestamps, ms (default `Date.now`). */
  now?: () => number;
}

function seqReplayedLastSeq(e: unknown): number | undefined {
  if (!isAspecError(e) || e.code !== "seq_replayed") return undefined;
  const last = (e.details as { lastSeq?: unknown } | null | undefined)?.lastSeq;
  return typeof last === "number" && Number.isSafeInteger(last) && last >= 0 ? last : undefined;
}

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

/**
 * A client of one Aspec Edge deployment.
 *
 * @example
 * ```ts
 * const c = await AspecClient.connect({ endpoint: "http://127.0.0.1:8787", replica: "weur" });
 * const r = await c.counter("hits").add(1);   // r.tentative → { status: "ok", value: 1 }
 * await c.register("title").set("hi");
 * await c.set("tags").add("x");
 * await c.account("alice").deposit(5);
 * const read = await c.get("hits");           // read.value → 1
 * ```
 *
 * Server refusals throw `AspecError` (with the API's `code`); an unverifiable reply throws
 * `ReplyVerificationError`, and so does a replica's refusal that is unsigned or mis-signed (replicas
 * sign their errors; only the edge's own errors, e.g. malformed JSON, come unsigned); an unreachable
 * endpoint `NetworkError`.
 */
export class AspecClient implements OpSink {
  readonly #pinned: Map<string, string>;
  readonly #seq: SeqCounter;
  readonly #http: HttpOptions;
  readonly #now: () => number;
  #home: string | undefined;

  private constructor(
    /** Base URL, without a trailing slash. */
    readonly endpoint: string,
    /** This client's identity; `key.secret` is secret. */
    readonly key: KeyPair,
    /** The replica directory pinned at connect time. */
    readonly replicas: readonly ReplicaInfo[],
    home: string | undefined,
    seq: SeqCounter,
    http: HttpOptions,
    now: () => number,
  ) {
    this.#pinned = new Map(replicas.map((r) => [r.name, r.publicKey]));
    this.#home = home;
    this.#seq = seq;
    this.#http = http;
    this.#now = now;
  }

  /**
   * Fetch and pin the replica directory, check the home replica exists, and make a client.
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
    const replicas = opts.replicas ? checkReplicas(opts.replicas) : await fetchReplicas(endpoint, http);
    if (opts.replica !== undefined && !replicas.some((r) => r.name === opts.replica))
      throw new AspecClientError(
        "unknown_replica",
        `no replica '${opts.replica}' (known: ${replicas.map((r) => r.name).join(", ")})`,
      );
    const key = opts.key ? await checkKey(opts.key) : await generateKeyPair();
    const seq = new SeqCounter(opts.seq ?? 1);
    return new AspecClient(endpoint, key, replicas, opts.replica, seq, http, opts.now ?? Date.now);
  }

  /** This client's id: its base64url Ed25519 public key. */
  get publicKey(): string {
    return this.key.publicKey;
  }

  /** The home replica: the one asked, or the one that first answered when none was given. */
  get replica(): string | undefined {
    return this.#home;
  }

  /** The seq the next new op will use. Save it with the key to resume without a resync. */
  get nextSeq(): number {
    return this.#seq.next;
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
  /** @example `const r = await c.account("alice").withdraw(3); if (r.tentative.status === "rejected") …` */
  account(key: string): AccountHandle {
    return accountHandle(this, key);
  }

  /**
   * Sign and send one new op. If the replica has seen this seq already (`seq_replayed` with
   * `lastSeq`, e.g. a key restored without its seq), the seq is moved past `lastSeq` and the op
   * re-signed and sent once more.
   *
   * @example `await c.submit("hits", "counter", "add", { n: 2 })`
   */
  async submit(key: string, type: TypeName, op: string, args: { [k: string]: Json }): Promise<OpReply> {
    const intent: OpIntent = { key, type, op, args };
    checkIntent(intent, this.publicKey, this.#now());
    try {
      return await this.#send(await this.#sign(intent));
    } catch (e) {
      const lastSeq = seqReplayedLastSeq(e);
      if (lastSeq === undefined) throw e;
      this.#seq.advancePast(lastSeq);
      return await this.#send(await this.#sign(intent));
    }
  }

  /**
   * Read a key's tentative value at the home replica.
   *
   * @example `const { type, value } = await c.get("hits")`  // type null: never written there
   */
  async get(key: string): Promise<ReadReply> {
    const asked = this.#home;
    const body = await requestJson(
      // kvPath: the server's key grammar first (`.`/`..` cannot travel in a URL), then one segment
      { method: "GET", url: this.#url(kvPath(key), asked) },
      this.#http,
      (b, e) => checkErrorReply(b, e, { replica: asked, key }, this.#pinned),
    );
    const reply = await verifyReadReply(body, { replica: asked, key }, this.#pinned);
    this.#home ??= reply.replica;
    return reply;
  }

  #sign(intent: OpIntent): Promise<SignedOp> {
    return signIntent(this.key, intent, this.#seq.take(), Math.floor(this.#now()));
  }

  /** One signed op to the home replica; retries (inside requestJson) re-send the same op id. */
  async #send(op: SignedOp): Promise<OpReply> {
    const asked = this.#home;
    const body = await requestJson(
      { method: "POST", url: this.#url("/v1/ops", asked), body: JSON.stringify(op) },
      this.#http,
      (b, e) => checkErrorReply(b, e, { replica: asked, opId: opIdOf(op) }, this.#pinned),
    );
    const reply = await verifyOpReply(
      body,
      { replica: asked, opId: opIdOf(op), key: op.key, type: op.type },
      this.#pinned,
    );
    this.#home ??= reply.replica;
    return reply;
  }

  #url(path: string, replica: string | undefined): string {
    return this.endpoint + path + (replica === undefined ? "" : `?replica=${encodeURIComponent(replica)}`);
  }
}
