/** The HTTP edge (Hono): validates once, routes to the home replica, renders every error one way. */
import { jsonDataOf } from "../shared/wire/peer-text.js";
import { Hono, type Context } from "hono";
import { AspecError, ERROR_STATUS, isAspecError, type ErrorBody } from "../shared/errors.js";
import { isNamespaceName } from "../shared/namespaces/names.js";
import { parseOpenNamespaces } from "../shared/namespaces/policy.js";
import { keyFromPath } from "../shared/kv-key.js";
import { ARGS_DEPTH_MAX, OP_BYTES_MAX, parseOp } from "../shared/ops.js";
import type { ReplicaRpc, RpcResult } from "../shared/rpc/replica.js";
import { NONCE_HEADER, isNonce, type ErrorReply } from "../shared/replies.js";
import type { Env } from "../platform/env.js";
import { replicaInfos } from "../platform/keys.js";
import { replicaStub } from "../platform/replica-stub.js";
import { REPLICA_HEADER, chooseReplica, replicasOf } from "../platform/routing.js";
import { corsFromEnv } from "./cors.js";
import { ROUTES, allowHeader, routeLabel, type Route } from "./routes.js";

const BATCH_ROUTE = ROUTES.find((r) => r.path === "/v1/ops/batch")!;
import { unexpectedError } from "./unexpected-error.js";
import { openApiDocument } from "./openapi.js";
import { clusterOf } from "../shared/cluster-config.js";
import { clusterStatus, replicaFreshness, staleAfterMs } from "./cluster-status.js";
import { DASHBOARD_HTML, mountFavicon, prefersHtml } from "./dashboard.js";
import { devFaults } from "#dev-faults";
import { mountEvidenceRoutes } from "./evidence-routes.js";
import { loadQuarantines, quarantined, refreshQuarantines } from "./quarantine.js";
import { mountDevSubmit } from "./dev-submit.js";
import { readJsonBody, type BodyLimits } from "./json-body.js";
import { batchBodyLimits, batchOps, batchReply, parseBatch } from "./batch.js";
import { parseListQuery } from "../shared/kv-list.js";
import { strictQuery } from "./query.js";

/** A request body larger than this is refused before it is parsed. */
export const BODY_BYTES_MAX = 2 * OP_BYTES_MAX;
/** The op object around its `args`: deeper nesting can only be inside args, so it is their error. */
export const BODY_DEPTH_MAX = ARGS_DEPTH_MAX + 1;

const KV_PREFIX = "/v1/kv/";
/** `GET /v1/kv?prefix=&cursor=&limit=`: the listing (the bare path; `/v1/kv/:key` reads one key). */
const KV_LIST = "/v1/kv";

type AppContext = Context<{ Bindings: Env }>;

/** `GET /v1/ops/:id?wait=certified`: how long the edge holds the request at most, by default, and how often it asks. */
const OP_WAIT_MAX_MS = 30_000;
const OP_WAIT_DEFAULT_MS = 10_000;
const OP_WAIT_POLL_MS = 100;
const OP_ID_RE = /^[A-Za-z0-9_-]{43}:[1-9][0-9]{0,15}$/;

/**
 * The request's `x-aspec-nonce`, checked once here (absent: undefined, for plain curl users; the
 * reply then carries none). Anything else than base64url of 16–32 bytes is `400 invalid_nonce`
 * before any replica sees the request.
 */
function nonceOf(c: AppContext): string | undefined {
  const raw = c.req.header(NONCE_HEADER);
  if (raw === undefined) return undefined;
  if (!isNonce(raw))
    throw new AspecError(
      "invalid_nonce",
      `${NONCE_HEADER} is base64url (no padding) of 16 to 32 random bytes`,
    );
  return raw;
}

/**
 * `GET /v1/kv/:key?view=certified` through the Cache API: the replica's signed certified-read
 * reply, cached under (replica, certified seq, key). The seq is asked of the replica first (one
 * small RPC), so a newer certificate makes the next read miss; an entry is stored under the seq
 * of the reply it holds, so it can never claim a newer seq than it was stored with. A hit is the
 * same signed bytes as the miss that stored it, and verifies the same way.
 *
 * A reply that is cached answers no one request, so it is asked for without the request's nonce
 * (the client takes it on its proof and its certificate's age); only a read that bypasses the
 * cache (no cache, or a replica whose head says `noStore`) carries the nonce.
 */
async function certifiedRead(
  c: AppContext,
  name: string,
  stub: ReplicaRpc,
  key: string,
  nonce: string | undefined,
): Promise<Response> {
  const head = await stub.certifiedHead(name);
  const cacheKey = (seq: number) =>
    new Request(
      `https://certified-reads.aspec-edge.invalid/${encodeURIComponent(name)}/${seq}/${encodeURIComponent(key)}`,
    );
  const cache = head.noStore ? undefined : (globalThis as { caches?: { default: Cache } }).caches?.default;
  const reply = (body: string, state: "hit" | "miss" | "bypass", seq: number) =>
    new Response(body, {
      headers: {
        "content-type": "application/json",
        "x-aspec-cache": state,
        "x-aspec-certified-seq": String(seq),
      },
    });
  if (cache && head.certification === "ok" && head.seq > 0) {
    const hit = await cache.match(cacheKey(head.seq));
    if (hit) return reply(await hit.text(), "hit", head.seq);
  }
  const signed = unwrap(await stub.certifiedRead(name, key, cache ? undefined : nonce));
  const body = JSON.stringify(signed);
  const seq = signed.certified.seq;
  if (!cache) return reply(body, "bypass", seq);
  const entry = new Response(body, {
    headers: { "cache-control": `public, max-age=${CERTIFIED_READ_TTL_S}` },
  });
  c.executionCtx.waitUntil(cache.put(cacheKey(seq), entry));
  return reply(body, "miss", seq);
}

/** How long a certified read stays cached (its seq is in the key: it is never stale, only older). */
const CERTIFIED_READ_TTL_S = 3600;

function homeReplica(c: AppContext) {
  const replicas = replicasOf(c.env.REPLICAS);
  const explicit = c.req.query("replica") ?? c.req.header(REPLICA_HEADER);
  // request.cf is materialised on first access: read it only when it decides something
  const continent = explicit ? undefined : (c.req.raw.cf as { continent?: string } | undefined)?.continent;
  const r = chooseReplica(replicas, explicit, continent, quarantined());
  return { replica: r, stub: replicaStub(c.env, r) };
}

/** A replica's refusal on its way to `onError`, which answers with the body as the replica signed it. */
class ReplicaRefusal extends Error {
  constructor(readonly body: ErrorReply | ErrorBody) {
    super(body.error.message);
    this.name = "ReplicaRefusal";
  }
}

function unwrap<T>(r: RpcResult<T>): T {
  if (r.ok) return r.value;
  const { ok: _ok, ...body } = r;
  throw new ReplicaRefusal(body);
}

/** An op's body (`POST /v1/ops`): a signed op, nested only inside its args. */
const OP_BODY: BodyLimits = { bytes: BODY_BYTES_MAX, depth: BODY_DEPTH_MAX, tooDeep: "invalid_args" };

/** A batch's body: up to BATCH_OPS_MAX ops' bodies. */
const BATCH_BODY: BodyLimits = batchBodyLimits(OP_BODY);

/** A kv path the router matched only once decoded (`/v1/%6Bv/…`) is no kv path: 404, as for GET. */
function isRawKvPath(c: AppContext): boolean {
  return new URL(c.req.url).pathname.startsWith(KV_PREFIX);
}
/** The same for the listing's bare path (`/v1/%6Bv` is none). */
function isRawKvList(c: AppContext): boolean {
  return new URL(c.req.url).pathname === KV_LIST;
}

/** `405` for a known path asked with a method it does not answer, in the one error shape. */
function methodNotAllowed(c: AppContext, route: Route): Response {
  if ((route.path === `${KV_PREFIX}*` && !isRawKvPath(c)) || (route.path === KV_LIST && !isRawKvList(c)))
    throw new AspecError("not_found", `no route for ${c.req.method} ${c.req.path}`);
  const allow = allowHeader(route);
  const err = new AspecError("method_not_allowed", `${c.req.method} is not allowed here: use ${allow}`, {
    allow: allow.split(", "),
  });
  return c.json(err.toBody(), 405, { Allow: allow });
}

/** A replica's `certifiedHead` answer, if well-typed (else null: shown as not answering). */
function headSeenOf(h: unknown): { seq: number; time: number | null } | null {
  const x = h as { seq?: unknown; time?: unknown } | null;
  const count = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
  if (!count(x?.seq) || !(x.time === null || count(x.time))) return null;
  return { seq: x.seq, time: x.time };
}

export function createApp() {
  const app = new Hono<{ Bindings: Env }>();

  // First, so that preflights are answered and every reply, errors included, carries the headers.
  app.use("*", corsFromEnv);
  // Routing skips quarantined replicas: keep the isolate's copy of the Directory's list fresh (~1 s).
  app.use("/v1/*", refreshQuarantines);

  // Browsers (Accept preferring text/html) get the dashboard; API clients the JSON index.
  app.get("/", (c) => {
    c.header("Vary", "Accept", { append: true });
    if (prefersHtml(c.req.header("accept"))) return c.html(DASHBOARD_HTML);
    return c.json({
      name: "aspec-edge",
      docs: "see docs/api.md",
      openapi: "/openapi.json",
      // From the one route table, so the index cannot lack a route (it once lacked GET /v1/ops/:id).
      endpoints: ROUTES.flatMap((r) => r.methods.map((m) => `${m} ${routeLabel(r.path)}`)),
    });
  });

  mountFavicon(app); // the dashboard's icon (not an API route)

  // No Durable Object call: the Worker runs, and every replica's key resolves (cached per isolate).
  app.get("/health", async (c) => {
    const infos = await replicaInfos(c.env);
    parseOpenNamespaces(c.env.OPEN_NAMESPACES); // a malformed list: 503 not_configured naming it
    return c.json({ status: "ok", environment: c.env.ENVIRONMENT, replicas: infos.map((r) => r.name) });
  });

  app.get("/openapi.json", (c) => c.json(openApiDocument()));

  // Each replica's certified state beside the directory (null for one that does not answer now),
  // and its quarantine (null: routed to), read from the Directory now.
  // Freshness: each replica's newest certificate's seq and age, `stale` past STALE_CERTIFICATE_MS.
  app.get("/v1/replicas", async (c) => {
    const replicas = await replicaInfos(c.env);
    const each = <T>(ask: (stub: ReplicaRpc, name: string) => Promise<T>) =>
      Promise.all(
        replicasOf(c.env.REPLICAS).map((r) => ask(replicaStub(c.env, r), r.name).catch(() => null)),
      );
    const [stats, heads, q] = await Promise.all([
      // a replica's answers are a peer's: shown only as JSON data (null when they are not)
      each(async (stub) => jsonDataOf(await stub.certificationStats())),
      each(async (stub, name) => headSeenOf(await stub.certifiedHead(name))),
      loadQuarantines(c.env),
    ]);
    const staleMs = staleAfterMs(c.env.STALE_CERTIFICATE_MS);
    const fresh = replicaFreshness(heads, Date.now(), staleMs);
    const certification = Object.fromEntries(replicas.map((r, i) => [r.name, stats[i] ?? null]));
    const freshness = Object.fromEntries(replicas.map((r, i) => [r.name, fresh[i] ?? null]));
    const quarantinedNow = Object.fromEntries(replicas.map((r) => [r.name, q.get(r.name) ?? null]));
    return c.json({ replicas, certification, freshness, staleAfterMs: staleMs, quarantined: quarantinedNow });
  });

  // The PBFT cluster every certificate is checked against: nodes, keys, f, and the config's digest.
  app.get("/v1/cluster", async (c) => c.json((await clusterOf(c.env)).info));

  // Each PBFT node's view and progress (null for one that does not answer within 2 s), and the primary.
  app.get("/v1/cluster/status", async (c) => c.json(await clusterStatus(c.env)));

  app.get("/v1/certificates/latest", async (c) => {
    const nonce = nonceOf(c);
    const { replica, stub } = homeReplica(c);
    return c.json(unwrap(await stub.certificate(replica.name, null, nonce)));
  });

  app.get("/v1/certificates/:seq", async (c) => {
    const raw = c.req.param("seq");
    const seq = /^[1-9][0-9]{0,15}$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(seq))
      throw new AspecError("invalid_request", "a certificate's seq is a positive integer (or `latest`)");
    const nonce = nonceOf(c);
    const { replica, stub } = homeReplica(c);
    return c.json(unwrap(await stub.certificate(replica.name, seq, nonce)));
  });

  // An op's outcome: tentative, and certified with its proof. `?wait=certified&timeoutMs=N`
  // (N ≤ 30,000, default 10,000) holds the request until certified here or N ms passed; either
  // way the reply is the replica's signed one (`pending: true` on timeout).
  // `batch` is no op id: GET of the batch route is a 405 like any other method it does not answer.
  app.get("/v1/ops/batch", (c) => methodNotAllowed(c, BATCH_ROUTE));

  app.get("/v1/ops/:id", async (c) => {
    const opId = c.req.param("id");
    if (!OP_ID_RE.test(opId))
      throw new AspecError(
        "invalid_request",
        "an op id is `<client>:<seq>` (43 base64url characters, a seq)",
      );
    const wait = c.req.query("wait");
    if (wait !== undefined && wait !== "certified")
      throw new AspecError("invalid_request", "`wait` takes only `certified`");
    const rawTimeout = c.req.query("timeoutMs");
    const timeoutMs = rawTimeout === undefined ? OP_WAIT_DEFAULT_MS : Number(rawTimeout);
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > OP_WAIT_MAX_MS)
      throw new AspecError("invalid_request", `timeoutMs is an integer from 0 to ${OP_WAIT_MAX_MS}`);
    const nonce = nonceOf(c);
    const { replica, stub } = homeReplica(c);
    const deadline = Date.now() + (wait === "certified" ? timeoutMs : 0);
    for (;;) {
      const r = await stub.opStatus(replica.name, opId, nonce);
      if (!r.ok || !r.value.pending || Date.now() >= deadline) return c.json(unwrap(r));
      await new Promise((done) => setTimeout(done, Math.min(OP_WAIT_POLL_MS, deadline - Date.now())));
    }
  });

  app.post("/v1/ops", async (c) => {
    const op = parseOp(await readJsonBody(c, OP_BODY));
    const nonce = nonceOf(c);
    await replicaInfos(c.env); // refuse writes early when keys are not configured
    parseOpenNamespaces(c.env.OPEN_NAMESPACES); // or the open-namespace list
    const { replica, stub } = homeReplica(c);
    return c.json(unwrap(await stub.submit(replica.name, op, nonce)));
  });

  // Many signed ops in one request, each answered as if sent alone (workers/batch.ts); one RPC.
  app.post("/v1/ops/batch", async (c) => {
    const parsed = parseBatch(await readJsonBody(c, BATCH_BODY));
    const nonce = nonceOf(c);
    await replicaInfos(c.env);
    const ops = batchOps(parsed);
    const { replica, stub } = homeReplica(c);
    const answers = ops.length === 0 ? [] : unwrap(await stub.submitMany(replica.name, ops, nonce));
    return c.json(batchReply(parsed, answers));
  });

  // Keys by prefix, a page at a time (shared/kv-list.ts). Before `/v1/kv/*`, which would take it.
  app.get(KV_LIST, async (c) => {
    if (!isRawKvList(c)) throw new AspecError("not_found", `no route for GET ${c.req.path}`);
    const query = parseListQuery(strictQuery(c.req.url, ["prefix", "cursor", "limit"]));
    const nonce = nonceOf(c);
    const { replica, stub } = homeReplica(c);
    return c.json(unwrap(await stub.list(replica.name, query, nonce)));
  });

  // Everything after the prefix, raw, percent-decoded once (not Hono's param, whose pattern misses
  // keys with a newline and whose decoding is not this API's): one key grammar with the writes.
  app.get(`${KV_PREFIX}*`, async (c) => {
    const path = new URL(c.req.url).pathname;
    // the router matched a decoded path; a prefix that was itself percent-encoded is no kv path
    if (!isRawKvPath(c)) throw new AspecError("not_found", `no route for GET ${path}`);
    const key = keyFromPath(path.slice(KV_PREFIX.length));
    const nonce = nonceOf(c);
    const { replica, stub } = homeReplica(c);
    const view = c.req.query("view");
    if (view === undefined) return c.json(unwrap(await stub.read(replica.name, key, nonce)));
    if (view !== "certified") throw new AspecError("invalid_request", "`view` takes only `certified`");
    return certifiedRead(c, replica.name, stub, key, nonce);
  });

  app.get("/v1/namespaces", async (c) => {
    const after = c.req.query("after") ?? "";
    if (after !== "" && !isNamespaceName(after))
      throw new AspecError("invalid_request", "after must be a namespace name (the previous page's next)");
    const nonce = nonceOf(c);
    const { replica, stub } = homeReplica(c);
    return c.json(unwrap(await stub.namespaces(replica.name, after, nonce)));
  });

  app.get("/v1/clients/:client/evidence", async (c) => {
    const nonce = nonceOf(c);
    const { replica, stub } = homeReplica(c);
    return c.json(unwrap(await stub.evidence(replica.name, c.req.param("client"), nonce)));
  });

  // dev only, behind FAULT_TOKEN: otherwise (and in production, which mounts none) an unknown route
  devFaults.mountRoutes(app, readJsonBody);
  mountEvidenceRoutes(app);
  mountDevSubmit(app); // dev only, behind FAULT_TOKEN (workers/dev-submit.ts)

  // After every handler: reached only by a method no handler of the path answers.
  for (const route of ROUTES) app.all(route.path, (c) => methodNotAllowed(c, route));

  app.notFound((c) =>
    c.json(new AspecError("not_found", `no route for ${c.req.method} ${c.req.path}`).toBody(), 404),
  );

  app.onError((err, c) => {
    if (err instanceof ReplicaRefusal)
      return c.json(err.body, (ERROR_STATUS[err.body.error.code] ?? 500) as 400);
    const e = isAspecError(err) ? err : unexpectedError(err);
    return c.json(e.toBody(), e.status as 400);
  });

  return app;
}
