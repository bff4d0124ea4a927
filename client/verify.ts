/**
 * Reply verification. Every replica reply is signed by the replica it names; the SDK checks the
 * signature against the key pinned at connect time, that the replica is the one asked, and that the
 * reply is about the op / key that was sent. A replica cannot then pass off one op's outcome as
 * another's, nor speak for another replica.
 */
import type { TypeName } from "../shared/datatypes/index.js";
import { REPLICA_ERROR_CODES, type AspecError } from "../shared/errors.js";
import {
  verifyErrorReply,
  verifyReply,
  type ErrorReply,
  type OpReply,
  type ReadReply,
  type ReplicaReply,
} from "../shared/replies.js";
import { ReplyVerificationError } from "./errors.js";

/** Replica name → pinned base64url public key. */
export type PinnedKeys = ReadonlyMap<string, string>;

export interface OpExpectation {
  /** The replica asked; undefined when the server chose (the reply must then name a known replica). */
  replica: string | undefined;
  opId: string;
  key: string;
  type: TypeName;
}

export interface ReadExpectation {
  replica: string | undefined;
  key: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;

async function checkSigned(
  body: unknown,
  kind: ReplicaReply["kind"],
  pinned: PinnedKeys,
  asked: string | undefined,
) {
  const fail = (why: string): never => {
    throw new ReplyVerificationError(why, body);
  };
  if (
    !isObject(body) ||
    body.kind !== kind ||
    typeof body.sig !== "string" ||
    typeof body.replica !== "string"
  )
    fail(`not a signed ${kind} reply`);
  const reply = body as unknown as ReplicaReply;
  const publicKey = pinned.get(reply.replica);
  if (publicKey === undefined) fail(`reply names replica '${reply.replica}', which is not pinned`);
  if (!(await verifyReply(publicKey!, reply)))
    fail(`bad signature on a reply from replica '${reply.replica}'`);
  if (asked !== undefined && reply.replica !== asked)
    fail(`asked replica '${asked}' but the reply is from '${reply.replica}'`);
  return { reply, fail };
}

/** Check an `OpReply`; returns it typed, or throws `ReplyVerificationError`. */
export async function verifyOpReply(
  body: unknown,
  expect: OpExpectation,
  pinned: PinnedKeys,
): Promise<OpReply> {
  const { reply, fail } = await checkSigned(body, "op", pinned, expect.replica);
  const r = reply as OpReply;
  if (r.opId !== expect.opId) fail(`reply is for op '${r.opId}', not '${expect.opId}'`);
  if (r.key !== expect.key) fail(`reply is for key '${r.key}', not '${expect.key}'`);
  if (r.type !== expect.type) fail(`reply is for type '${r.type}', not '${expect.type}'`);
  const t = r.tentative as unknown;
  if (!isObject(t) || (t.status !== "ok" && t.status !== "rejected")) fail("reply has no tentative status");
  return r;
}

/** Check a `ReadReply`; returns it typed, or throws `ReplyVerificationError`. */
export async function verifyReadReply(
  body: unknown,
  expect: ReadExpectation,
  pinned: PinnedKeys,
): Promise<ReadReply> {
  const { reply, fail } = await checkSigned(body, "read", pinned, expect.replica);
  const r = reply as ReadReply;
  if (r.key !== expect.key) fail(`reply is for key '${r.key}', not '${expect.key}'`);
  return r;
}

export interface ErrorExpectation {
  /** The replica asked; undefined when the server chose. */
  replica: string | undefined;
  /** The op sent (`POST /v1/ops`) … */
  opId?: string;
  /** … or the key read (`GET /v1/kv/:key`). */
  key?: string;
}

/**
 * Check an error reply: a signed one must be signed by the pinned key of the replica it names (the one
 * asked) and be about the op / key sent; an unsigned one may only carry a code the edge Worker gives
 * before any replica sees the request (`REPLICA_ERROR_CODES` are always signed). Returns the error to
 * throw, or throws `ReplyVerificationError`.
 */
export async function checkErrorReply(
  body: unknown,
  error: AspecError,
  expect: ErrorExpectation,
  pinned: PinnedKeys,
): Promise<AspecError> {
  const fail = (why: string): never => {
    throw new ReplyVerificationError(why, body);
  };
  if (!isObject(body) || !("sig" in body)) {
    if (REPLICA_ERROR_CODES.has(error.code))
      fail(`an unsigned '${error.code}' error: replicas sign refusals`);
    return error;
  }
  if (body.kind !== "error" || typeof body.sig !== "string" || typeof body.replica !== "string")
    fail("not a signed error reply");
  const reply = body as unknown as ErrorReply;
  const publicKey = pinned.get(reply.replica);
  if (publicKey === undefined) fail(`error names replica '${reply.replica}', which is not pinned`);
  if (!(await verifyErrorReply(publicKey!, reply)))
    fail(`bad signature on an error from replica '${reply.replica}'`);
  if (expect.replica !== undefined && reply.replica !== expect.replica)
    fail(`asked replica '${expect.replica}' but the error is from '${reply.replica}'`);
  if (expect.opId !== undefined && reply.opId !== expect.opId)
    fail(`error is for op '${String(reply.opId)}', not '${expect.opId}'`);
  if (expect.key !== undefined && reply.key !== expect.key)
    fail(`error is for key '${String(reply.key)}', not '${expect.key}'`);
  return error;
}
