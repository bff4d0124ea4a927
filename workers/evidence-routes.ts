/**
 * Evidence and quarantine over HTTP (docs/architecture.md, "Evidence and quarantine"):
 *
 * - `POST /v1/evidence`: rate limited per client address; verify (shared/evidence.ts) → `422
 *   invalid_evidence` with the reason, and nothing changes; or `200` with the verdict, and the
 *   Directory keeps the outcome and the evidence's normal form (a replica kind quarantines that
 *   replica; a replay of the same digest — one per lie — changes nothing).
 * - `GET /v1/evidence`: the quarantines and the cluster equivocations recorded.
 * - `GET /v1/evidence/:digest`: one accepted evidence in its normal form (canonical JSON), to re-verify.
 * - `POST /v1/admin/quarantine/:replica/lift`: the operator's lift, `Authorization: Bearer <ADMIN_TOKEN>`.
 */
import type { Context, Hono } from "hono";
import { bytesEqual, utf8 } from "../shared/bytes.js";
import { canonicalJson } from "../shared/canonical.js";
import { clusterOf } from "../shared/cluster-config.js";
import { AspecError } from "../shared/errors.js";
import { verifyEvidence, type EvidenceVerdict } from "../shared/evidence.js";
import { sha256 } from "../shared/hash.js";
import { TokenBuckets, ratePerMinute } from "../shared/rate-limit.js";
import { EVIDENCE_BYTES_MAX, EVIDENCE_DEPTH_MAX } from "../shared/reply-limits.js";
import { recordInputOf } from "../shared/quarantine.js";
import type { Env } from "../platform/env.js";
import { replicaInfos } from "../platform/keys.js";
import { directoryStub, loadQuarantines, quarantined } from "./quarantine.js";
import { replicasOf } from "../platform/routing.js";
import { readJsonBody } from "./json-body.js";

type AppContext = Context<{ Bindings: Env }>;

/** `POST /v1/evidence` per client address and minute when `EVIDENCE_RATE_PER_MIN` is not set. */
export const EVIDENCE_RATE_PER_MIN_DEFAULT = 30;
/**
 * Per isolate: each isolate counts the addresses it serves (bounded at 10,000; the least recently
 * seen dropped first), so an address spread over n isolates gets up to n times the rate. Worst case
 * per admitted request: EVIDENCE_BYTES_MAX bytes read and parsed, 1 + 2n signature checks (the
 * reply's and two certificates' of a cluster of n nodes).
 */
const evidenceBuckets = new TokenBuckets(10_000);
/** Cluster equivocations `GET /v1/evidence` lists (newest first). */
const CLUSTER_EVIDENCE_LISTED = 100;
const DIGEST_RE = /^[0-9a-f]{64}$/;

/** The verdict as the reply shows it (`ok` dropped: a reply is only ever an accepted one; the evidence is served by digest). */
function shown(v: Extract<EvidenceVerdict, { ok: true }>) {
  const { ok: _ok, evidence: _evidence, ...rest } = v;
  return rest;
}

/** Refuse a client address past its rate (`429 rate_limited`, `Retry-After`), before its body is read. */
function admitEvidence(c: AppContext): void {
  const address = c.req.header("cf-connecting-ip") ?? "unknown";
  const rate = { perMinute: ratePerMinute(c.env.EVIDENCE_RATE_PER_MIN, EVIDENCE_RATE_PER_MIN_DEFAULT) };
  const taken = evidenceBuckets.take(address, Date.now(), rate);
  if (taken.ok) return;
  c.header("retry-after", String(taken.retryAfterSeconds));
  throw new AspecError(
    "rate_limited",
    `too much evidence from this address: retry in ${taken.retryAfterSeconds} s`,
    {
      retryAfterSeconds: taken.retryAfterSeconds,
    },
  );
}

/** `Authorization: Bearer <ADMIN_TOKEN>`, compared by digest (no early exit on a prefix). */
function requireAdmin(c: AppContext): void {
  const header = c.req.header("authorization");
  const m = header === undefined ? null : /^Bearer (\S+)$/.exec(header);
  if (!m) throw new AspecError("unauthorized", "operator actions need `Authorization: Bearer <ADMIN_TOKEN>`");
  const token = c.env.ADMIN_TOKEN;
  if (!token) throw new AspecError("forbidden", "operator actions are off: no ADMIN_TOKEN is configured");
  if (!bytesEqual(sha256(utf8(m[1]!)), sha256(utf8(token))))
    throw new AspecError("forbidden", "the bearer token is not the ADMIN_TOKEN");
}

/** Mount the routes on the edge app (before its 405 fallbacks). `readJson` is the edge's one body reader. */
export function mountEvidenceRoutes(app: Hono<{ Bindings: Env }>): void {
  app.post("/v1/evidence", async (c) => {
    admitEvidence(c);
    const body = await readJsonBody(c, { bytes: EVIDENCE_BYTES_MAX, depth: EVIDENCE_DEPTH_MAX });
    const [{ config }, infos] = await Promise.all([clusterOf(c.env), replicaInfos(c.env)]);
    const replicaKeys = new Map(infos.map((r) => [r.name, r.publicKey]));
    const verdict = await verifyEvidence(body, { cluster: config, replicaKeys });
    if (!verdict.ok)
      throw new AspecError("invalid_evidence", `the evidence proves nothing: ${verdict.reason}`, {
        reason: verdict.reason,
        ...(verdict.detail === undefined ? {} : { detail: verdict.detail }),
      });
    const evidence = canonicalJson(verdict.evidence); // the signed content only, not what rode along
    const outcome = await directoryStub(c.env).record(recordInputOf(verdict, evidence));
    if (outcome.outcome === "quarantined") await loadQuarantines(c.env); // route around it here at once
    return c.json({ verdict: shown(verdict), ...outcome });
  });

  app.get("/v1/evidence", async (c) => {
    const dir = directoryStub(c.env);
    const [quarantines, cluster] = await Promise.all([
      dir.quarantines(),
      dir.clusterEvidence(CLUSTER_EVIDENCE_LISTED),
    ]);
    return c.json({ quarantines, cluster });
  });

  app.get("/v1/evidence/:digest", async (c) => {
    const digest = c.req.param("digest");
    if (!DIGEST_RE.test(digest))
      throw new AspecError("invalid_request", "an evidence digest is 64 lowercase hex characters");
    const text = await directoryStub(c.env).evidence(digest);
    if (text === null) throw new AspecError("unknown_evidence", `no accepted evidence ${digest}`);
    return c.body(text, 200, { "content-type": "application/json" });
  });

  app.post("/v1/admin/quarantine/:replica/lift", async (c) => {
    requireAdmin(c);
    const name = c.req.param("replica");
    const replicas = replicasOf(c.env.REPLICAS);
    if (!replicas.some((r) => r.name === name))
      throw new AspecError("unknown_replica", `no replica named '${name}'`, {
        replicas: replicas.map((r) => r.name),
      });
    const lifted = await directoryStub(c.env).lift(name);
    await loadQuarantines(c.env);
    if (!lifted)
      throw new AspecError("not_quarantined", `replica '${name}' is not quarantined`, {
        quarantined: [...quarantined().keys()],
      });
    return c.json({ lifted });
  });
}
