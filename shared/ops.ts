/**
 * The signed operation (docs/architecture.md, "The path of an op") and its validation, applied once at the edge.
 *
 *   { client, seq, key, type, op, args, ts, sig }
 *
 * `client` is the base64url Ed25519 public key, `seq` a per-client counter (op id = `client:seq`),
 * `ts` the client's clock in ms, `sig` the signature over `canonicalBytes(DOMAIN.op, body)` where the
 * body is every field but `sig`.
 */
import * as z from "./zod.js";
import { utf8 } from "./bytes.js";
import { DOMAIN, canonicalJson, type Json } from "./canonical.js";
import { signCanonical, verifyCanonical } from "./crypto/keys.js";
import { DATA_TYPES, isTypeName, type TypeName } from "./datatypes/index.js";
import { AspecError } from "./errors.js";
import { jsonProblem } from "./json-value.js";
import { checkKey, keyProblem } from "./kv-key.js";
import { namespaceKeyProblem } from "./namespaces/names.js";
import {
  ARGS_DEPTH_MAX,
  B64U_RE,
  CLIENT_CHARS,
  OP_BYTES_MAX,
  PUBLIC_KEY_BYTES,
  SEQ_MAX,
  SEQ_MIN,
  SIG_CHARS,
  SIGNATURE_BYTES,
  TS_MAX,
  b64uLength,
} from "./op-limits.js";

export { ARGS_DEPTH_MAX, KEY_BYTES_MAX, OP_BYTES_MAX, SEQ_MAX } from "./op-limits.js";

export type OpId = string & { readonly __brand: "OpId" };

export interface OpBody {
  client: string;
  seq: number;
  key: string;
  type: TypeName;
  op: string;
  args: { [k: string]: Json };
  ts: number;
}
export interface SignedOp extends OpBody {
  sig: string;
}

const b64u = (bytes: number) =>
  z.string().check(z.length(b64uLength(bytes)), z.regex(B64U_RE, "not base64url"));

export const publicKeySchema = b64u(PUBLIC_KEY_BYTES);
export const signatureSchema = b64u(SIGNATURE_BYTES);

const isObjectRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The envelope's fields but `type`, `op` and `args` (also what the OpenAPI document describes). */
export const opFieldSchemas = {
  client: publicKeySchema,
  seq: z.int().check(z.minimum(SEQ_MIN), z.maximum(SEQ_MAX)),
  key: z.string(), // its grammar is checked apart, for its own error code (kv-key.ts)
  ts: z.int().check(z.minimum(0), z.maximum(TS_MAX)),
  sig: signatureSchema,
};

/** The envelope, before the per-type argument check. */
const envelopeSchema = z.strictObject({
  client: opFieldSchemas.client,
  seq: opFieldSchemas.seq,
  key: opFieldSchemas.key,
  type: z.string(),
  op: z.string(),
  // not z.record: it would drop a `__proto__` member the signature may cover (json-value.ts checks)
  args: z.custom<Record<string, unknown>>(isObjectRecord, { message: "expected an object" }),
  ts: opFieldSchemas.ts,
  sig: opFieldSchemas.sig,
});

export const opIdOf = (o: { client: string; seq: number }): OpId => `${o.client}:${o.seq}` as OpId;

export const opBody = ({ sig: _sig, ...body }: SignedOp): OpBody => body;

function zodMessage(e: z.core.$ZodError): string {
  return e.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message)).join("; ");
}

/**
 * Parse and check the shape of an operation (not its signature: `verifyOp`).
 * Throws `AspecError` with the code a client can act on.
 *
 * Every node runs this on every op, so the common case takes a fast path (plain checks, no
 * envelope schema, no canonical encoding for the size limit) that accepts only what the schema
 * path accepts and returns the same op; anything it is unsure of, including every invalid op, goes
 * the schema path, which alone produces errors. `parseOpReference` is that path (tests compare them).
 */
export function parseOp(input: unknown): SignedOp {
  return parseOpFast(input) ?? parseOpReference(input);
}

/**
 * Would `parseOp` accept `input`? Exactly its verdict, without building an error: the fast path, and
 * the schema path only for what the fast path is unsure of. The PBFT wire check uses this
 * (`isSignedOpShape`), so an op is well-formed on the wire exactly when it is at the edge.
 */
export function isWellFormedOp(input: unknown): input is SignedOp {
  if (parseOpFast(input) !== null) return true;
  try {
    parseOpReference(input);
    return true;
  } catch {
    return false;
  }
}

/** The schema path of `parseOp`: the reference behaviour, errors included. */
export function parseOpReference(input: unknown): SignedOp {
  try {
    return checkOp(input);
  } catch (e) {
    if (e instanceof AspecError) throw e;
    // not JSON data (e.g. a getter that throws): refused like any other bad op, never a crash
    throw new AspecError("invalid_request", "the op cannot be read as JSON data");
  }
}

function checkOp(input: unknown): SignedOp {
  if (typeof input === "object" && input !== null && Object.hasOwn(input, "__proto__"))
    throw new AspecError("reserved_name", "the op has a member named '__proto__'");
  const env = envelopeSchema.safeParse(input);
  if (!env.success) throw new AspecError("invalid_request", zodMessage(env.error));
  const o = env.data;
  checkKey(o.key);
  const problem = jsonProblem(o.args, ARGS_DEPTH_MAX);
  if (problem)
    throw new AspecError(
      problem.kind === "reserved_name" ? "reserved_name" : "invalid_args",
      `args: ${problem.message}`,
    );
  if (!isTypeName(o.type)) throw new AspecError("unknown_type", `unknown type '${o.type}'`);
  const nsProblem = namespaceKeyProblem(o.type, o.key);
  if (nsProblem) throw new AspecError("invalid_namespace", nsProblem);
  const schemas = DATA_TYPES[o.type].args as Record<string, z.ZodMiniType>;
  const argSchema = Object.hasOwn(schemas, o.op) ? schemas[o.op] : undefined;
  if (!argSchema) throw new AspecError("unknown_op", `type '${o.type}' has no op '${o.op}'`);
  const args = argSchema.safeParse(o.args);
  if (!args.success) throw new AspecError("invalid_args", zodMessage(args.error));
  const op = { ...o, type: o.type, args: args.data as { [k: string]: Json } };
  if (utf8(canonicalJson(op)).length > OP_BYTES_MAX)
    throw new AspecError("payload_too_large", `operation larger than ${OP_BYTES_MAX} bytes`);
  return op;
}

const OP_FIELDS = ["client", "seq", "key", "type", "op", "args", "ts", "sig"] as const;
/** `{"args":,"client":,"key":,"op":,"seq":,"sig":,"ts":,"type":}`: the canonical op minus its values. */
const OP_FRAME_BYTES = 8 * 3 + 2 + 7 + OP_FIELDS.join("").length;
/** Digits of a safe integer, at most. */
const SAFE_INT_DIGITS_MAX = 16;

const isPlainRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" &&
  v !== null &&
  Object.getPrototypeOf(v) === Object.prototype &&
  !Object.hasOwn(v, "__proto__") &&
  !Object.hasOwn(v, "constructor") &&
  Object.getOwnPropertySymbols(v).length === 0 &&
  Object.getOwnPropertyNames(v).length === Object.keys(v).length; // no hidden (non-enumerable) fields

const OP_FIELD_SET: ReadonlySet<string> = new Set(OP_FIELDS);

/** A plain object whose own properties are exactly the eight op fields (distinct names: all there). */
function hasExactlyOpFields(v: unknown): v is Record<(typeof OP_FIELDS)[number], unknown> {
  if (typeof v !== "object" || v === null || Object.getPrototypeOf(v) !== Object.prototype) return false;
  const names = Object.getOwnPropertyNames(v);
  if (names.length !== OP_FIELDS.length) return false;
  for (let i = 0; i < names.length; i++) if (!OP_FIELD_SET.has(names[i]!)) return false;
  return Object.getOwnPropertySymbols(v).length === 0;
}

/**
 * The fast path of `parseOp`: the op it would return, or null to take the schema path. Accepts a
 * subset of what the schema accepts (a plain object with exactly the eight fields, each clearly
 * valid, small enough that the size limit can be shown without encoding it). Exported for the tests
 * that hold it to the reference (test/unit/wire/op-limits-agree.test.ts); callers use `parseOp`.
 */
export function parseOpFast(input: unknown): SignedOp | null {
  try {
    if (!hasExactlyOpFields(input)) return null;
    const { client, seq, key, type, op, args, ts, sig } = input;
    if (typeof client !== "string" || client.length !== CLIENT_CHARS || !B64U_RE.test(client)) return null;
    if (typeof sig !== "string" || sig.length !== SIG_CHARS || !B64U_RE.test(sig)) return null;
    if (!Number.isSafeInteger(seq) || (seq as number) < SEQ_MIN || (seq as number) > SEQ_MAX) return null;
    if (!Number.isSafeInteger(ts) || (ts as number) < 0 || (ts as number) > TS_MAX) return null;
    if (typeof key !== "string" || keyProblem(key) !== null) return null;
    if (typeof type !== "string" || !Object.hasOwn(DATA_TYPES, type) || !isTypeName(type)) return null;
    if (namespaceKeyProblem(type, key) !== null) return null;
    if (typeof op !== "string" || !isPlainRecord(args) || jsonProblem(args, ARGS_DEPTH_MAX) !== null)
      return null;
    const schemas = DATA_TYPES[type].args as Record<string, z.ZodMiniType>;
    if (!Object.hasOwn(schemas, op)) return null;
    const parsed = schemas[op]!.safeParse(args);
    if (!parsed.success) return null;
    const argsOut = parsed.data as { [k: string]: Json };
    // An upper bound on the canonical size: a string's JSON is at most 6 bytes per UTF-16 unit
    // (\u001f) plus quotes, the arguments' UTF-8 at most 3 bytes per unit of their JSON.
    const sizeMax =
      OP_FRAME_BYTES +
      6 * (client.length + key.length + type.length + op.length + sig.length) +
      2 * 5 +
      2 * SAFE_INT_DIGITS_MAX +
      3 * canonicalJson(argsOut).length;
    if (sizeMax > OP_BYTES_MAX) return null;
    return { client, seq: seq as number, key, type, op, args: argsOut, ts: ts as number, sig };
  } catch {
    return null; // e.g. a getter that throws: the schema path decides
  }
}

/**
 * Do two ops have the same content, every field and argument? (Both assumed parsed or
 * shape-checked.) Arguments are compared shallowly when their values are scalars, as JSON text
 * otherwise; arguments in another key order compare unequal (callers treat that as "not known",
 * never as a match).
 */
export function sameOp(a: SignedOp, b: SignedOp): boolean {
  return (
    a.sig === b.sig &&
    a.client === b.client &&
    a.seq === b.seq &&
    a.key === b.key &&
    a.type === b.type &&
    a.op === b.op &&
    a.ts === b.ts &&
    sameArgs(a.args, b.args)
  );
}

function sameArgs(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  if (a === b) return true;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    const k = ka[i]!;
    if (k !== kb[i]) return false;
    const x = a[k];
    const y = b[k];
    if (typeof x === "object" && x !== null) return JSON.stringify(a) === JSON.stringify(b);
    if (x !== y) return false; // scalars and null: equal values (NaN never occurs)
  }
  return true;
}

export const verifyOp = (op: SignedOp): Promise<boolean> =>
  verifyCanonical(op.client, DOMAIN.op, opBody(op), op.sig);

/** Sign an operation body with the client's secret seed. */
export async function signOp(secret: string, body: OpBody): Promise<SignedOp> {
  return { ...body, sig: await signCanonical(secret, DOMAIN.op, body) };
}
