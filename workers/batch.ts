/**
 * `POST /v1/ops/batch` at the edge: the body's shape and bounds, each op parsed as `POST /v1/ops`
 * parses one, and the replica's answers put back in the ops' order beside the edge's own refusals.
 */
import { AspecError, isAspecError, type ErrorBody } from "../shared/errors.js";
import { BATCH_OPS_MAX, OP_BYTES_MAX } from "../shared/op-limits.js";
import { parseOp, type SignedOp } from "../shared/ops.js";
import type { BatchReply, ErrorReply, OpReply } from "../shared/replies.js";
import type { RpcResult } from "../shared/rpc/replica.js";
import type { BodyLimits } from "./json-body.js";

/**
 * A batch's body: what `BATCH_OPS_MAX` single op bodies may hold (each up to twice an op's
 * canonical bound), nested two levels more (`{ops: [op]}`); deeper is an op's args' fault.
 */
export const batchBodyLimits = (single: BodyLimits): BodyLimits => ({
  bytes: BATCH_OPS_MAX * 2 * OP_BYTES_MAX,
  depth: single.depth + 2,
  tooDeep: "invalid_args",
});

/** Each op of a batch: parsed, or the error a single `POST /v1/ops` of it would have answered. */
export type ParsedBatch = ({ op: SignedOp } | { error: ErrorBody })[];

/**
 * `{ "ops": [op, …] }` with 1 to BATCH_OPS_MAX ops, each parsed alone. The whole batch is refused
 * (nothing sent to a replica) for a body of another shape (`400 invalid_request`) or more ops than
 * the bound (`413 payload_too_large`); a bad op is refused alone.
 */
export function parseBatch(body: unknown): ParsedBatch {
  const ops = (body as { ops?: unknown } | null)?.ops;
  if (typeof body !== "object" || body === null || Array.isArray(body) || !Array.isArray(ops))
    throw new AspecError("invalid_request", 'a batch is `{ "ops": [signed op, …] }`');
  const extra = Object.keys(body).filter((k) => k !== "ops");
  if (extra.length > 0) throw new AspecError("invalid_request", `a batch has no member '${extra[0]}'`);
  if (ops.length === 0) throw new AspecError("invalid_request", "a batch holds at least one op");
  if (ops.length > BATCH_OPS_MAX)
    throw new AspecError("payload_too_large", `a batch holds at most ${BATCH_OPS_MAX} ops`, {
      opsMax: BATCH_OPS_MAX,
      ops: ops.length,
    });
  return ops.map((raw) => {
    try {
      return { op: parseOp(raw) };
    } catch (e) {
      if (!isAspecError(e)) throw e;
      return { error: (e as AspecError).toBody() };
    }
  });
}

/** The parsed ops, in order, for the replica. */
export const batchOps = (parsed: ParsedBatch): SignedOp[] => parsed.flatMap((p) => ("op" in p ? [p.op] : []));

/** The reply: the replica's answers (one per parsed op, in order) merged with the edge's refusals. */
export function batchReply(parsed: ParsedBatch, answers: readonly RpcResult<OpReply>[]): BatchReply {
  let next = 0;
  const results = parsed.map((p): OpReply | ErrorReply | ErrorBody => {
    if ("error" in p) return p.error;
    const a = answers[next++];
    if (a === undefined) throw new Error("the replica answered fewer results than it was sent ops");
    if (a.ok) return a.value;
    const { ok: _ok, ...refusal } = a;
    return refusal;
  });
  if (next !== answers.length) throw new Error("the replica answered more results than it was sent ops");
  return { results };
}
