/**
 * The OpenAPI 3.1 document of the API, served at `GET /openapi.json`: generated from the zod
 * schemas the edge validates with and replies are checked against (workers/api-schemas.ts), with
 * every route of workers/routes.ts and every error code of shared/errors.ts with its status.
 * Request and reply bodies and the shared parameters are named components (`$ref`), so tools show
 * them as models; the operator's route takes the bearer `adminToken` scheme. `redocly lint` with
 * the recommended rules passes on it (test/unit/docs/openapi-lint.test.ts), and docs/api.md's
 * route list is generated from `OPERATIONS` (npm run docs:routes).
 */
import { ERROR_STATUS, type ErrorCode } from "../shared/errors.js";
import * as z from "../shared/zod.js";
import {
  certificateReply,
  clusterReply,
  clusterStatusReply,
  namespacesReply,
  errorReply,
  evidenceListReply,
  evidenceReply,
  evidenceRequest,
  evidenceVerdictReply,
  healthReply,
  liftReply,
  indexReply,
  batchReply,
  batchRequest,
  listReply,
  opReply,
  opStatusReply,
  certifiedReadReply,
  readReply,
  replicasReply,
  signedOpRequest,
} from "./api-schemas.js";
import { ROUTES, type Method } from "./routes.js";

type JsonSchema = Record<string, unknown>;

/** One schema as JSON Schema 2020-12 (the dialect of OpenAPI 3.1), without its `$schema` line. */
export function jsonSchemaOf(schema: z.ZodMiniType, io: "input" | "output" = "output"): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    target: "draft-2020-12",
    io,
    // refinements (sizes in bytes, the JSON value rules) have no JSON Schema: the text says them
    unrepresentable: "any",
  }) as JsonSchema;
  return rest;
}

/** What every route can answer: another method, a missing secret or variable, a bug. */
const EDGE_ERRORS: ErrorCode[] = ["method_not_allowed", "not_configured", "internal"];
/** Routes that reach a replica add: a replica named wrongly, a replica briefly unreachable. */
const REPLICA_ERRORS: ErrorCode[] = [
  ...EDGE_ERRORS,
  "unknown_replica",
  "replica_quarantined",
  "unavailable",
  "invalid_nonce",
];

interface Parameter {
  name: string;
  in: "path" | "query" | "header";
  description: string;
  required?: boolean;
  /** Shared by several operations: a named component, referenced by `$ref`. */
  component?: string;
}

/** Tags group operations in tools; each is described once (`TAGS`). */
export const TAGS = {
  meta: "The index, liveness and this document",
  replicas: "The edge replicas: directory, signed writes, reads and op outcomes",
  certificates: "Certificates of the PBFT cluster, as the replicas hold them",
  cluster: "The PBFT cluster's configuration and status",
  evidence: "Evidence that a replica lied, and its quarantine",
  admin: "Operator actions (bearer `ADMIN_TOKEN`)",
} as const;
type Tag = keyof typeof TAGS;

interface Operation {
  /** The route of workers/routes.ts this operation is. */
  route: (typeof ROUTES)[number]["path"];
  path: string;
  method: Lowercase<Method>;
  operationId: string;
  tag: Tag;
  summary: string;
  description?: string;
  parameters?: Parameter[];
  /** The request body and its component name. */
  request?: { name: string; schema: z.ZodMiniType };
  /** The 200 reply and its component name (one name, one schema: operations may share it). */
  reply: { name: string; schema: z.ZodMiniType };
  /** Needs the operator's bearer token (the `adminToken` security scheme). */
  admin?: true;
  /** The 200 reply is also `text/html`, described so, for a request that prefers it. */
  html?: string;
  errors: ErrorCode[];
}

const CHOOSE_REPLICA: Parameter[] = [
  {
    name: "replica",
    in: "query",
    component: "replica",
    description: "The replica to ask (e.g. `weur`); default: the nearest.",
  },
  { name: "x-aspec-replica", in: "header", component: "replicaHeader", description: "Same as `?replica=`." },
  {
    name: "x-aspec-nonce",
    component: "nonce",
    in: "header",
    description:
      "A fresh random nonce per request (base64url, no padding, of 16 to 32 bytes; otherwise `400 invalid_nonce`), signed back as the reply's `nonce` (errors included), binding the reply to this request. Absent: the reply has none. A certified read served by (or for) the edge cache never carries one.",
  },
];

export const OPERATIONS: Operation[] = [
  {
    route: "/",
    path: "/",
    method: "get",
    operationId: "index",
    tag: "meta",
    summary: "What this API is and where its endpoints are (a browser gets the dashboard)",
    description:
      "Content negotiation: a request whose `Accept` prefers `text/html` over `application/json` (a browser's) gets the live dashboard, one self-contained HTML page that reads the public API; any other (no `Accept`, `*/*`, `application/json`) gets this JSON index. The reply says `Vary: Accept`.",
    html: "The dashboard (a self-contained HTML page)",
    reply: { name: "Index", schema: indexReply },
    errors: EDGE_ERRORS,
  },
  {
    route: "/health",
    path: "/health",
    method: "get",
    operationId: "health",
    tag: "meta",
    summary: "Liveness: the Worker runs and every replica has its signing key",
    description:
      "Calls no Durable Object: it checks the configuration (replica list, keys, CORS origins, `OPEN_NAMESPACES`) in the Worker. `503 not_configured` names the missing secret.",
    reply: { name: "Health", schema: healthReply },
    errors: EDGE_ERRORS,
  },
  {
    route: "/openapi.json",
    path: "/openapi.json",
    method: "get",
    operationId: "openapi",
    tag: "meta",
    summary: "This document",
    reply: { name: "OpenApiDocument", schema: z.record(z.string(), z.unknown()) },
    errors: EDGE_ERRORS,
  },
  {
    route: "/v1/replicas",
    path: "/v1/replicas",
    method: "get",
    operationId: "listReplicas",
    tag: "replicas",
    summary:
      "The replicas and their public keys (clients pin these), each one's certified state, and each one's quarantine",
    description:
      "`quarantined[name]` is `{kind, at, digest}` for a replica that accepted evidence proved to lie (the edge no longer routes to it; `GET /v1/evidence/{digest}` serves the evidence), `null` otherwise. `freshness[name]` is its newest certified seq, that certificate's `time` and age by the edge's clock, how many seqs it is behind the newest replica, and `stale: true` when its certificate is older than `STALE_CERTIFICATE_MS` (default 10 s, the SDK's default bound) or it has none while another replica has one; `null` for a replica that did not answer.",
    reply: { name: "Replicas", schema: replicasReply },
    errors: EDGE_ERRORS,
  },
  {
    route: "/v1/ops",
    path: "/v1/ops",
    method: "post",
    operationId: "submitOp",
    tag: "replicas",
    summary: "Submit a signed operation to one replica",
    description:
      "`sig` is Ed25519 over `aspec/op/v1\\n` + JCS(op without sig). A body over 16 KiB, or an op whose canonical encoding is over 8 KiB, is `413 payload_too_large`. A write the key's namespace does not allow this client, as the replica holds it, is `403 not_authorized` (nothing written); `namespace` ops (`claim`, `grant`, `revoke`) name the key `@<namespace>`, and no other op may (`400 invalid_namespace`).",
    parameters: CHOOSE_REPLICA,
    request: { name: "SignedOp", schema: signedOpRequest },
    reply: { name: "OpReply", schema: opReply },
    errors: [
      ...REPLICA_ERRORS,
      "malformed_json",
      "invalid_request",
      "unknown_type",
      "unknown_op",
      "invalid_args",
      "invalid_key",
      "duplicate_field",
      "reserved_name",
      "bad_signature",
      "client_equivocated",
      "seq_replayed",
      "op_expired",
      "type_mismatch",
      "not_authorized",
      "invalid_namespace",
      "payload_too_large",
      "truncated_body",
      "unsupported_media_type",
      "ts_out_of_range",
      "seq_out_of_range",
    ],
  },
  {
    route: "/v1/ops/batch",
    path: "/v1/ops/batch",
    method: "post",
    operationId: "submitBatch",
    tag: "replicas",
    summary: "Submit 1 to 100 signed operations in one request, each answered as if sent alone",
    description:
      '`{"ops": [signed op, …]}`: the ops go to one replica in one call, decided there in order and written in one transaction (a refused op writes nothing and stops none of the others), and replicate as any ops do. The reply is `{"results": […]}`, one element per op in order, each exactly the body `POST /v1/ops` of that op alone would have answered: a signed `op` reply, a replica\'s signed refusal naming the op, or the edge\'s unsigned error for an op it could not parse (its HTTP status is the code\'s, see the error table). The whole request is refused, nothing written, for a body of another shape or no ops (`400 invalid_request`), more than 100 ops or a body over 1.6 MiB (`413 payload_too_large`), or a body that is not JSON.',
    parameters: CHOOSE_REPLICA,
    request: { name: "OpBatch", schema: batchRequest },
    reply: { name: "OpBatchReply", schema: batchReply },
    errors: [
      ...REPLICA_ERRORS,
      "malformed_json",
      "invalid_request",
      "invalid_args",
      "duplicate_field",
      "reserved_name",
      "payload_too_large",
      "truncated_body",
      "unsupported_media_type",
    ],
  },
  {
    route: "/v1/kv",
    path: "/v1/kv",
    method: "get",
    operationId: "listKeys",
    tag: "replicas",
    summary: "List keys by prefix at one replica, a page at a time, in byte order",
    description:
      "Keys of the replica's tentative state starting with `prefix` (any prefix of a valid key; empty or absent: every key), in byte order of their UTF-8, at most `limit` (1 to 1,000, default 100) and 512 KiB of entries per page. Each entry: the key, its type, its tentative value, and its certified value as of the reply's certificate (`{seq, value}`, null when none), without a proof: `GET /v1/kv/{key}?view=certified` proves one. An entry too large to list alone has `elided: true` and null values. `cursor` in the reply (null on the last page) is passed back as `?cursor=` with the same prefix; it names the last key listed, so a key present through the whole listing is listed exactly once, and one written meanwhile is listed only if it sorts after the cursor. Query values are form-encoded (`+` is a space), each given once. The reply is signed as one.",
    parameters: [
      { name: "prefix", in: "query", description: "The keys' prefix (percent-encoded)." },
      { name: "cursor", in: "query", description: "The previous page's `cursor`." },
      { name: "limit", in: "query", description: "Keys per page, 1 to 1,000 (default 100)." },
      ...CHOOSE_REPLICA,
    ],
    reply: { name: "KeyList", schema: listReply },
    errors: [...REPLICA_ERRORS, "invalid_request", "not_found"],
  },
  {
    route: "/v1/kv/*",
    path: "/v1/kv/{key}",
    method: "get",
    operationId: "readKey",
    tag: "replicas",
    summary: "Read a key at one replica: its tentative value and its certified value with a proof",
    description:
      "The key is everything after `/v1/kv/`, percent-decoded once (send it as one segment with encodeURIComponent; a raw `/` also works). `?view=certified`: only the certified value and its proof (a `certified-read` reply), served through the edge cache keyed by replica, certified seq and key (headers `x-aspec-cache: hit|miss|bypass`, `x-aspec-certified-seq`); `409 not_certified` before the replica holds a certificate or after it diverged.",
    parameters: [
      { name: "key", in: "path", required: true, description: "The key, percent-encoded." },
      { name: "view", in: "query", description: "`certified`: the certified value alone, edge-cached." },
      ...CHOOSE_REPLICA,
    ],
    reply: { name: "Read", schema: z.union([readReply, certifiedReadReply]) },
    errors: [...REPLICA_ERRORS, "invalid_key", "not_found", "invalid_request", "not_certified"],
  },
  {
    route: "/v1/clients/:client/evidence",
    path: "/v1/clients/{client}/evidence",
    method: "get",
    operationId: "clientEvidence",
    tag: "evidence",
    summary: "What one replica holds against a client (ops it signed twice under one id)",
    parameters: [
      { name: "client", in: "path", required: true, description: "The client's public key (base64url)." },
      ...CHOOSE_REPLICA,
    ],
    reply: { name: "ClientEvidence", schema: evidenceReply },
    errors: REPLICA_ERRORS,
  },
  {
    route: "/v1/namespaces",
    path: "/v1/namespaces",
    method: "get",
    operationId: "listNamespaces",
    tag: "replicas",
    summary: "The namespace records one replica holds (tentative): each namespace's members and roles",
    description:
      "By name, at most 50 a page (a record holds up to 256 members); `next` is the `after` of the next page, null at the end. Each entry's `members` is the value of the key `@<name>` (member → role, revoked members left out); read that key (`GET /v1/kv/%40<name>`) for its certified value and proof. Signed by the replica, as every reply.",
    parameters: [
      {
        name: "after",
        in: "query",
        description: "List the namespaces named after this one (the previous page's `next`).",
      },
      ...CHOOSE_REPLICA,
    ],
    reply: { name: "Namespaces", schema: namespacesReply },
    errors: [...REPLICA_ERRORS, "invalid_request"],
  },
  {
    route: "/v1/ops/:id",
    path: "/v1/ops/{id}",
    method: "get",
    operationId: "opStatus",
    tag: "replicas",
    summary:
      "An op's outcome at one replica: tentative, and certified with its proof against its batch's resultsRoot",
    description:
      "`?wait=certified&timeoutMs=N` (N from 0 to 30,000, default 10,000) holds the request until the op is certified at the replica or N ms passed; the reply says `pending: true` if not certified yet.",
    parameters: [
      { name: "id", in: "path", required: true, description: "The op id, `<client>:<seq>`." },
      { name: "wait", in: "query", description: "`certified`: wait for the certified result." },
      { name: "timeoutMs", in: "query", description: "How long to wait at most (0–30,000 ms)." },
      ...CHOOSE_REPLICA,
    ],
    reply: { name: "OpStatus", schema: opStatusReply },
    errors: [...REPLICA_ERRORS, "invalid_request", "unknown_op_id"],
  },
  {
    route: "/v1/cluster",
    path: "/v1/cluster",
    method: "get",
    operationId: "cluster",
    tag: "cluster",
    summary: "The PBFT cluster certificates are checked against: nodes, regions, public keys, f",
    description:
      '`configDigest` is hex SHA-256 of the canonical JSON (RFC 8785) of `{cluster, f, nodes: [{id, publicKey}]}`, plus `openNamespaces` when it is not `["*"]`. `openNamespaces` is the deployment\'s `OPEN_NAMESPACES`: the unclaimed namespaces anyone may write (`["*"]` every one, sorted names, `[]` none); it decides certified results, so the digest commits to it. `503 not_configured` names a node\'s missing `PBFT_KEY_<ID>` secret, or a malformed `OPEN_NAMESPACES`.',
    reply: { name: "Cluster", schema: clusterReply },
    errors: EDGE_ERRORS,
  },
  {
    route: "/v1/cluster/status",
    path: "/v1/cluster/status",
    method: "get",
    operationId: "clusterStatus",
    tag: "cluster",
    summary: "Each PBFT node's view, last executed seq and stable checkpoint, and the primary",
    description:
      "Asks every node (`status` RPC) at once; a node that does not answer within 2 s is `null` under its id. `view` is the view most answering nodes are in (ties: the higher), `primary` the id of node `view mod n`; both `null` when no node answers.",
    reply: { name: "ClusterStatus", schema: clusterStatusReply },
    errors: EDGE_ERRORS,
  },
  {
    route: "/v1/certificates/latest",
    path: "/v1/certificates/latest",
    method: "get",
    operationId: "latestCertificate",
    tag: "certificates",
    summary: "The newest certificate one replica holds (null before its first)",
    parameters: CHOOSE_REPLICA,
    reply: { name: "CertificateReply", schema: certificateReply },
    errors: REPLICA_ERRORS,
  },
  {
    route: "/v1/certificates/:seq",
    path: "/v1/certificates/{seq}",
    method: "get",
    operationId: "certificateBySeq",
    tag: "certificates",
    summary: "One certificate by seq, if the replica still keeps it (the newest 128)",
    parameters: [
      { name: "seq", in: "path", required: true, description: "The certified seq (a positive integer)." },
      ...CHOOSE_REPLICA,
    ],
    reply: { name: "CertificateReply", schema: certificateReply },
    errors: [...REPLICA_ERRORS, "invalid_request", "unknown_certificate"],
  },
  {
    route: "/v1/evidence",
    path: "/v1/evidence",
    method: "post",
    operationId: "submitEvidence",
    tag: "evidence",
    summary: "Submit evidence that a replica lied, or that the cluster signed two bodies for one seq",
    description:
      "Verified against the cluster (`GET /v1/cluster`) and the replicas' keys (`GET /v1/replicas`). Evidence that proves nothing is `422 invalid_evidence` with `details.reason` (a stable code: `malformed`, `unknown_kind`, `unknown_replica`, `bad_reply_signature`, `wrong_reply_kind`, `consistent`, `certificate_invalid`, `bad_truth`, `no_contradiction`, `cluster_fault`, `not_equivocation`, `other_cluster`) and changes nothing. Valid evidence against a replica quarantines it (`outcome: quarantined`); the same evidence again (same digest) is `replay` and changes nothing, also after a lift; new evidence against a replica already quarantined is `already_quarantined`. Members beside the kind's fields are ignored (after verification); the digest names the lie (the signed reply, or the two certified bodies), so every variant of one lie is a `replay`. A body over 2 MiB + 4 KiB (two replies at the SDK's 1 MiB bound, and the envelope) is `413 payload_too_large`; more than `EVIDENCE_RATE_PER_MIN` (default 30) per minute from one address is `429 rate_limited` with `Retry-After`.",
    request: { name: "EvidenceSubmission", schema: evidenceRequest },
    reply: { name: "EvidenceVerdict", schema: evidenceVerdictReply },
    errors: [
      ...EDGE_ERRORS,
      "malformed_json",
      "duplicate_field",
      "reserved_name",
      "invalid_args",
      "payload_too_large",
      "truncated_body",
      "unsupported_media_type",
      "invalid_evidence",
      "rate_limited",
    ],
  },
  {
    route: "/v1/evidence",
    path: "/v1/evidence",
    method: "get",
    operationId: "listEvidence",
    tag: "evidence",
    summary: "The quarantined replicas, and the cluster equivocations recorded (newest 100)",
    reply: { name: "EvidenceList", schema: evidenceListReply },
    errors: EDGE_ERRORS,
  },
  {
    route: "/v1/evidence/:digest",
    path: "/v1/evidence/{digest}",
    method: "get",
    operationId: "evidenceByDigest",
    tag: "evidence",
    summary: "One accepted evidence, as submitted (canonical JSON), for anyone to verify again",
    parameters: [{ name: "digest", in: "path", required: true, description: "The evidence's digest (hex)." }],
    reply: { name: "Evidence", schema: z.record(z.string(), z.unknown()) },
    errors: [...EDGE_ERRORS, "invalid_request", "unknown_evidence"],
  },
  {
    route: "/v1/admin/quarantine/:replica/lift",
    path: "/v1/admin/quarantine/{replica}/lift",
    method: "post",
    operationId: "liftQuarantine",
    tag: "admin",
    summary: "Operator: route to a quarantined replica again (`Authorization: Bearer <ADMIN_TOKEN>`)",
    admin: true,
    description:
      "No `Authorization: Bearer …` header is `401 unauthorized`; a wrong token, or no `ADMIN_TOKEN` secret configured, is `403 forbidden`. The replica's evidence stays recorded (a replay of it changes nothing); new evidence quarantines it again.",
    parameters: [{ name: "replica", in: "path", required: true, description: "The replica's name." }],
    reply: { name: "Lift", schema: liftReply },
    errors: [...EDGE_ERRORS, "unauthorized", "forbidden", "unknown_replica", "not_quarantined"],
  },
];

/** Codes by status, in `ERROR_STATUS` order. */
function byStatus(codes: readonly ErrorCode[]): Map<number, ErrorCode[]> {
  const out = new Map<number, ErrorCode[]>();
  for (const code of Object.keys(ERROR_STATUS) as ErrorCode[])
    if (codes.includes(code)) out.set(ERROR_STATUS[code], [...(out.get(ERROR_STATUS[code]) ?? []), code]);
  return new Map([...out].sort((a, b) => a[0] - b[0]));
}

const jsonContent = (schema: JsonSchema) => ({ "application/json": { schema } });
const ref = (kind: "schemas" | "parameters", name: string) => ({ $ref: `#/components/${kind}/${name}` });

function parameterObject(p: Parameter): JsonSchema {
  return {
    name: p.name,
    in: p.in,
    description: p.description,
    required: p.required ?? false,
    schema: { type: "string" },
  };
}

function operationObject(o: Operation): JsonSchema {
  const responses: Record<string, unknown> = {
    "200": {
      description: o.html ? `The reply (JSON); text/html: ${o.html}` : "The reply",
      content: {
        ...jsonContent(ref("schemas", o.reply.name)),
        ...(o.html ? { "text/html": { schema: { type: "string" } } } : {}),
      },
    },
  };
  for (const [status, codes] of byStatus(o.errors))
    responses[String(status)] = {
      description: codes.map((c) => `\`${c}\``).join(", "),
      ...(status === 405
        ? { headers: { Allow: { description: "The methods the path answers", schema: { type: "string" } } } }
        : {}),
      content: jsonContent(jsonSchemaOf(errorReply(codes))),
    };
  return {
    operationId: o.operationId,
    tags: [o.tag],
    summary: o.summary,
    ...(o.description ? { description: o.description } : {}),
    ...(o.admin ? { security: [{ adminToken: [] }] } : {}),
    ...(o.parameters
      ? {
          parameters: o.parameters.map((p) =>
            p.component ? ref("parameters", p.component) : parameterObject(p),
          ),
        }
      : {}),
    ...(o.request
      ? { requestBody: { required: true, content: jsonContent(ref("schemas", o.request.name)) } }
      : {}),
    responses,
  };
}

/** Every named body and shared parameter; a name given to two different schemas is a bug. */
function components(): JsonSchema {
  const schemas: Record<string, JsonSchema> = {};
  const parameters: Record<string, JsonSchema> = {};
  const seen = new Map<string, z.ZodMiniType>();
  const add = (name: string, schema: z.ZodMiniType, io: "input" | "output") => {
    if (seen.has(name) && seen.get(name) !== schema) throw new Error(`openapi: two schemas named ${name}`);
    seen.set(name, schema);
    schemas[name] = jsonSchemaOf(schema, io);
  };
  for (const o of OPERATIONS) {
    add(o.reply.name, o.reply.schema, "output");
    if (o.request) add(o.request.name, o.request.schema, "input");
    for (const p of o.parameters ?? []) if (p.component) parameters[p.component] = parameterObject(p);
  }
  return {
    schemas,
    parameters,
    securitySchemes: {
      adminToken: {
        type: "http",
        scheme: "bearer",
        description:
          "The `ADMIN_TOKEN` secret (`wrangler secret put ADMIN_TOKEN`). Without the header: `401 unauthorized`; a wrong token, or none configured: `403 forbidden`.",
      },
    },
  };
}

let cached: JsonSchema | undefined;

/** The document (built once per isolate: the schemas do not change while it runs). */
export function openApiDocument(): JsonSchema {
  if (cached) return cached;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const o of OPERATIONS) (paths[o.path] ??= {})[o.method] = operationObject(o);
  cached = {
    openapi: "3.1.0",
    info: {
      title: "Aspec Edge",
      version: "1",
      description:
        "Eventually consistent replicas at the edge, each reply signed by its replica. Every error has one shape, `{ error: { code, message, details? } }`; a replica's own refusals carry its signature beside it. Any path not listed here is `404 not_found`.",
      license: { name: "MIT", identifier: "MIT" },
    },
    servers: [
      { url: "http://127.0.0.1:8787", description: "`npm run dev` (wrangler dev) on this machine" },
      {
        url: "https://{worker}.{subdomain}.workers.dev",
        description: "A deployment on workers.dev (`npm run deploy`)",
        variables: {
          worker: { default: "aspec-edge", description: "The Worker's name (`name` in wrangler.jsonc)" },
          subdomain: { default: "example", description: "Your account's workers.dev subdomain" },
        },
      },
    ],
    // Every route is public but the operator's, which names its own scheme.
    security: [],
    tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
    paths,
    components: components(),
  };
  return cached;
}
