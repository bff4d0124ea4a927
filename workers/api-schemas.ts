/**
 * The API's bodies as zod schemas: requests are the very schemas the edge validates with
 * (shared/ops.ts, the data types' argument schemas); replies mirror shared/replies.ts (a test keeps
 * the two in step). workers/openapi.ts turns these into the OpenAPI document, and the tests check
 * real replies with them.
 */
import { DATA_TYPES, TYPE_NAMES } from "../shared/datatypes/index.js";
import { ERROR_STATUS, type ErrorCode } from "../shared/errors.js";
import { jsonValue } from "../shared/json-value.js";
import { BATCH_OPS_MAX } from "../shared/op-limits.js";
import { opFieldSchemas, publicKeySchema, signatureSchema } from "../shared/ops.js";
import * as z from "../shared/zod.js";

export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

const json = jsonValue;
/** The request's nonce signed back (shared/replies.ts `isNonce`); absent when the request had none. */
const nonce = z.optional(z.string().check(z.regex(/^[A-Za-z0-9_-]{22,43}$/)));
const time = z.int().check(z.minimum(0));
const typeName = z.enum(TYPE_NAMES);

/** `POST /v1/ops`: one signed op, one alternative per type and op, each with its own arguments. */
export const signedOpRequest = z.union(
  TYPE_NAMES.flatMap((t) =>
    Object.entries(DATA_TYPES[t].args as Record<string, z.ZodMiniType>).map(([op, args]) =>
      z.strictObject({
        client: opFieldSchemas.client,
        seq: opFieldSchemas.seq,
        key: opFieldSchemas.key,
        type: z.literal(t),
        op: z.literal(op),
        args,
        ts: opFieldSchemas.ts,
        sig: opFieldSchemas.sig,
      }),
    ),
  ),
);

/** A signed op as replicas hand it back (in evidence): any type's arguments. */
const signedOp = z.strictObject({
  ...opFieldSchemas,
  type: typeName,
  op: z.string(),
  args: z.record(z.string(), json),
});

/** A certificate (shared/certified/types.ts); null before the replica applied its first. */
const certificateObject = z.strictObject({
  body: z.strictObject({
    cluster: z.string(),
    view: z.int(),
    seq: z.int(),
    logRoot: z.string(),
    stateRoot: z.string(),
    resultsRoot: z.string(),
    opCount: z.int(),
    time,
  }),
  sigs: z.array(z.strictObject({ node: z.int(), sig: z.string() })),
});
const certificate = z.nullable(certificateObject);

const digest = z.string().check(z.regex(/^[0-9a-f]{64}$/));
/** Where the replica's certified state stands (shared/replies.ts `Certification`). */
const certification = z.enum(["none", "ok", "diverged"]);
/** A key's certified value (or absence) with its Merkle proof against the certificate's stateRoot. */
const certifiedValue = z.strictObject({
  seq: z.int(),
  stateRoot: digest,
  value: z.nullable(z.strictObject({ type: z.string(), value: json, stateHash: digest })),
  proof: z.strictObject({
    siblings: z.array(z.nullable(digest)),
    leaf: z.optional(z.strictObject({ keyHash: digest, valueHash: digest })),
  }),
});

export const replicaInfo = z.strictObject({
  name: z.string(),
  region: z.string(),
  publicKey: publicKeySchema,
});
const count = z.int().check(z.minimum(0));
/** A replica's certified state as `GET /v1/replicas` shows it (durable-objects/certified-replica.ts). */
export const certificationStats = z.strictObject({
  certification,
  seq: count,
  opCount: count,
  buffered: count,
  dropped: z.strictObject({
    duplicate: count,
    invalid: count,
    opsMismatch: count,
    tooFarAhead: count,
    bufferFull: count,
    halted: count,
  }),
  rootMismatches: count,
  diverged: z.nullable(
    z.strictObject({
      seq: count,
      certified: z.strictObject({ stateRoot: digest, resultsRoot: digest, opCount: count }),
      computed: z.strictObject({ stateRoot: digest, resultsRoot: digest, executed: count }),
    }),
  ),
});
/** A replica's quarantine (durable-objects/directory.ts): the evidence's kind, when, its digest. */
const quarantine = z.strictObject({ kind: z.string(), at: time, digest });
const quarantineRow = z.strictObject({ replica: z.string(), kind: z.string(), at: time, digest });

/** How fresh a replica's newest certificate is (workers/cluster-status.ts `replicaFreshness`). */
export const replicaFreshnessEntry = z.strictObject({
  seq: count,
  certificateTime: z.nullable(time),
  ageMs: z.nullable(z.int()),
  behind: count,
  stale: z.boolean(),
});

export const replicasReply = z.strictObject({
  replicas: z.array(replicaInfo),
  /** Per replica, its certified state (null: the replica did not answer). */
  certification: z.record(z.string(), z.nullable(certificationStats)),
  /** Per replica, its newest certificate's seq and age (null: the replica did not answer). */
  freshness: z.record(z.string(), z.nullable(replicaFreshnessEntry)),
  /** The bound `stale` is judged by (ms). */
  staleAfterMs: count,
  /** Per replica, its quarantine (null: the edge routes to it). */
  quarantined: z.record(z.string(), z.nullable(quarantine)),
});

export const clusterReply = z.strictObject({
  cluster: z.string(),
  n: count,
  f: count,
  nodes: z.array(z.strictObject({ id: z.string(), region: z.string(), publicKey: publicKeySchema })),
  /** `OPEN_NAMESPACES`: the unclaimed namespaces anyone may write, `["*"]` every one, `[]` none. */
  openNamespaces: z.array(z.string()),
  configDigest: digest,
});

/** `GET /v1/cluster/status` (workers/cluster-status.ts). */
export const clusterStatusReply = z.strictObject({
  n: count,
  view: z.nullable(count),
  primary: z.nullable(z.string()),
  nodes: z.record(
    z.string(),
    z.nullable(
      z.strictObject({
        id: z.string(),
        region: z.string(),
        view: count,
        normal: z.boolean(),
        lastExecuted: count,
        stableSeq: count,
        primary: z.boolean(),
      }),
    ),
  ),
});

export const certificateReply = z.strictObject({
  kind: z.literal("certificate"),
  replica: z.string(),
  certificate,
  certification,
  time,
  nonce,
  sig: signatureSchema,
});

export const opReply = z.strictObject({
  kind: z.literal("op"),
  opId: z.string(),
  key: z.string(),
  type: typeName,
  tentative: z.strictObject({
    status: z.enum(["ok", "rejected"]),
    reason: z.optional(z.string()),
    value: json,
    superseded: z.optional(z.literal(true)),
  }),
  replica: z.string(),
  certificate,
  certification,
  uncertified: z.int().check(z.minimum(0)),
  duplicate: z.boolean(),
  time,
  nonce,
  sig: signatureSchema,
});

export const readReply = z.strictObject({
  kind: z.literal("read"),
  key: z.string(),
  type: z.nullable(typeName),
  value: json,
  replica: z.string(),
  certificate,
  certification,
  certified: z.nullable(certifiedValue),
  time,
  nonce,
  sig: signatureSchema,
});

/** `POST /v1/ops/batch`: 1 to BATCH_OPS_MAX signed ops, each as `POST /v1/ops` takes one. */
export const batchRequest = z.strictObject({
  ops: z.array(signedOpRequest).check(z.minLength(1), z.maxLength(BATCH_OPS_MAX)),
});

/** One listed key (shared/kv-list.ts `ListEntry`). */
const listEntry = z.strictObject({
  key: z.string(),
  type: typeName,
  value: json,
  certified: z.nullable(z.strictObject({ seq: z.int(), value: json })),
  elided: z.optional(z.literal(true)),
});

export const listReply = z.strictObject({
  kind: z.literal("list"),
  prefix: z.string(),
  after: z.optional(z.string()),
  entries: z.array(listEntry),
  cursor: z.nullable(z.string()),
  replica: z.string(),
  certificate,
  certification,
  time,
  nonce,
  sig: signatureSchema,
});

const tentativeResult = z.strictObject({
  status: z.enum(["ok", "rejected"]),
  reason: z.optional(z.string()),
  value: json,
  superseded: z.optional(z.literal(true)),
});

/** An op's certified result with its proof and its batch's certificate (shared/replies.ts `CertifiedResult`). */
const certifiedResult = z.strictObject({
  seq: z.int(),
  result: z.strictObject({
    opId: z.string(),
    status: z.enum(["ok", "rejected"]),
    reason: z.optional(z.string()),
    value: json,
  }),
  proof: z.strictObject({ index: count, count, path: z.array(digest) }),
  certificate: certificateObject,
});

export const opStatusReply = z.strictObject({
  kind: z.literal("op-status"),
  opId: z.string(),
  tentative: z.nullable(tentativeResult),
  certified: z.nullable(certifiedResult),
  pending: z.boolean(),
  replica: z.string(),
  certificate,
  certification,
  time,
  nonce,
  sig: signatureSchema,
});

export const certifiedReadReply = z.strictObject({
  kind: z.literal("certified-read"),
  key: z.string(),
  replica: z.string(),
  certificate: certificateObject,
  certified: certifiedValue,
  time,
  nonce,
  sig: signatureSchema,
});

/** `GET /v1/namespaces`: a page of the namespace records a replica holds. */
export const namespacesReply = z.strictObject({
  kind: z.literal("namespaces"),
  namespaces: z.array(z.strictObject({ name: z.string(), members: z.record(z.string(), z.string()) })),
  next: z.nullable(z.string()),
  replica: z.string(),
  time,
  nonce,
  sig: signatureSchema,
});

export const evidenceReply = z.strictObject({
  kind: z.literal("evidence"),
  client: z.string(),
  refused: z.boolean(),
  evidence: z.array(z.strictObject({ opId: z.string(), kept: signedOp, other: signedOp })),
  replica: z.string(),
  time,
  nonce,
  sig: signatureSchema,
});

/**
 * `POST /v1/evidence` (shared/evidence.ts): one kind, the replica-signed reply exactly as received.
 * Evidence against a lying replica may be anything that replica signed: the verifier, not this
 * schema, is what decides (a reply off this shape is still checked).
 */
export const evidenceRequest = z.union([
  z.looseObject({
    kind: z.literal("bad_certificate"),
    reply: z.union([opReply, readReply, opStatusReply, certifiedReadReply, certificateReply]),
  }),
  z.looseObject({ kind: z.literal("bad_certified_read"), reply: z.union([readReply, certifiedReadReply]) }),
  z.looseObject({ kind: z.literal("bad_certified_result"), reply: opStatusReply }),
  z.looseObject({ kind: z.literal("contradicted_result"), reply: opStatusReply, truth: certifiedResult }),
  z.looseObject({
    kind: z.literal("cluster_equivocation"),
    certificates: z.tuple([certificateObject, certificateObject]),
  }),
]);

export const evidenceVerdictReply = z.strictObject({
  verdict: z.strictObject({
    kind: z.enum([
      "bad_certificate",
      "bad_certified_read",
      "bad_certified_result",
      "contradicted_result",
      "cluster_equivocation",
    ]),
    /** The replica at fault (replica kinds). */
    replica: z.optional(z.string()),
    /** The nodes that signed both certificates (`cluster_equivocation`). */
    nodes: z.optional(z.array(z.string())),
    seq: z.optional(count),
    digest,
    detail: z.string(),
  }),
  outcome: z.enum(["quarantined", "already_quarantined", "recorded", "not_recorded", "replay"]),
  quarantine: z.optional(quarantineRow),
  /** `replay`: when this evidence was first accepted. */
  at: z.optional(time),
});

export const evidenceListReply = z.strictObject({
  quarantines: z.array(quarantineRow),
  cluster: z.array(z.strictObject({ digest, seq: count, nodes: z.array(z.string()), at: time })),
});

export const liftReply = z.strictObject({ lifted: quarantineRow });

export const healthReply = z.strictObject({
  status: z.literal("ok"),
  environment: z.string(),
  replicas: z.array(z.string()),
});

export const indexReply = z.strictObject({
  name: z.literal("aspec-edge"),
  docs: z.string(),
  openapi: z.literal("/openapi.json"),
  endpoints: z.array(z.string()),
});

/** The one error shape, `code` limited to `codes`. */
export const errorObject = (codes: readonly ErrorCode[]) =>
  z.strictObject({
    code: z.enum(codes as [ErrorCode, ...ErrorCode[]]),
    message: z.string(),
    details: z.optional(z.unknown()),
  });

/** An error: the edge's, unsigned (`{ error }`), or a replica's, signed beside it (`ErrorReply`). */
export const errorReply = (codes: readonly ErrorCode[]) =>
  z.union([
    z.strictObject({ error: errorObject(codes) }),
    z.strictObject({
      error: errorObject(codes),
      kind: z.literal("error"),
      replica: z.string(),
      opId: z.optional(z.string()),
      key: z.optional(z.string()),
      time,
      nonce,
      sig: signatureSchema,
    }),
  ]);

/**
 * The reply to a batch: each op's reply or error, in order (shared/replies.ts `BatchReply`); an
 * error element is any code (its HTTP status is the code's, from the error table).
 */
export const batchReply = z.strictObject({
  results: z.array(z.union([opReply, errorReply(ERROR_CODES)])),
});
