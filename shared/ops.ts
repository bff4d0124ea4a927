/**
 * The signed operation (DESIGN §3) and its validation, applied once at the edge.
 *
 *   { client, seq, key, type, op, args, ts, sig }
 *
 * `client` is the base64url Ed25519 public key, `seq` a per-client counter (op id = `client:seq`),
 * `ts` the client's clock in ms, `sig` the signature over `canonicalBytes(DOMAIN.op, body)` where the
 * body is every field but `sig`.
 */
import { z } from "zod";
import { utf8 } from "./bytes.js";
import { DOMAIN, canonicalJson, type Json } from "./canonical.js";
import { signCanonical, verifyCanonical } from "./crypto/keys.js";
import { DATA_TYPES, isTypeName, type TypeName } from "./datatypes/index.js";
import { AspecError } from "./errors.js";

export const KEY_BYTES_MAX = 256;
export const OP_BYTES_MAX = 8 * 1024;
export const SEQ_MAX = Number.MAX_SAFE_INTEGER;

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
  z
    .string()
    .length(Math.ceil((bytes * 4) / 3))
    .regex(/^[A-Za-z0-9_-]+$/, "not base64url");

export const publicKeySchema = b64u(32);
export const signatureSchema = b64u(64);

export const keySchema = z
  .string()
  .min(1, "key is empty")
  .refine((k) => utf8(k).length <= KEY_BYTES_MAX, { message: `key longer than ${KEY_BYTES_MAX} bytes` })
  .refine((k) => !/[\u0000-\u001f]/.test(k), { message: "key contains control characters" });

/** The envelope, before the per-type argument check. */
const envelopeSchema = z.strictObject({
  client: publicKeySchema,
  seq: z.int().min(1).max(SEQ_MAX),
  key: keySchema,
  type: z.string(),
  op: z.string(),
  args: z.record(z.string(), z.unknown()),
  ts: z.int().min(0).max(SEQ_MAX),
  sig: signatureSchema,
});

export const opIdOf = (o: { client: string; seq: number }): OpId => `${o.client}:${o.seq}` as OpId;

export const opBody = ({ sig: _sig, ...body }: SignedOp): OpBody => body;

function zodMessage(e: z.ZodError): string {
  return e.issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message)).join("; ");
}

/**
 * Parse and check the shape of an operation (not its signature: `verifyOp`).
 * Throws `AspecError` with the code a client can act on.
 */
export function parseOp(input: unknown): SignedOp {
  if (typeof input === "object" && input !== null && "key" in input) {
    const k = (input as { key: unknown }).key;
    if (typeof k === "string" && utf8(k).length > KEY_BYTES_MAX)
      throw new AspecError("payload_too_large", `key longer than ${KEY_BYTES_MAX} bytes`);
  }
  const env = envelopeSchema.safeParse(input);
  if (!env.success) throw new AspecError("invalid_request", zodMessage(env.error));
  const o = env.data;
  if (!isTypeName(o.type)) throw new AspecError("unknown_type", `unknown type '${o.type}'`);
  const schemas = DATA_TYPES[o.type].args as Record<string, z.ZodType>;
  const argSchema = Object.hasOwn(schemas, o.op) ? schemas[o.op] : undefined;
  if (!argSchema) throw new AspecError("unknown_op", `type '${o.type}' has no op '${o.op}'`);
  const args = argSchema.safeParse(o.args);
  if (!args.success) throw new AspecError("invalid_args", zodMessage(args.error));
  const op = { ...o, type: o.type, args: args.data as { [k: string]: Json } };
  if (utf8(canonicalJson(op)).length > OP_BYTES_MAX)
    throw new AspecError("payload_too_large", `operation larger than ${OP_BYTES_MAX} bytes`);
  return op;
}

export const verifyOp = (op: SignedOp): Promise<boolean> =>
  verifyCanonical(op.client, DOMAIN.op, opBody(op), op.sig);

/** Sign an operation body with the client's secret seed. */
export async function signOp(secret: string, body: OpBody): Promise<SignedOp> {
  return { ...body, sig: await signCanonical(secret, DOMAIN.op, body) };
}
