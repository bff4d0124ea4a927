/**
 * Reply verification. Every replica reply is signed by the replica it names; the SDK checks the
 * signature against the key pinned at connect time, that the replica is the one asked, and that the
 * reply is about the op / key that was sent. A replica cannot then pass off one op's outcome as
 * another's, nor speak for another replica. With a `nonce` in the expectation (what `AspecClient`
 * always sends), the reply must carry it (`reply_replayed` otherwise): it answers this request, not
 * an earlier one. A certified read may instead carry none (the edge's cached copy, made for every
 * reader): taken on its proof and its certificate's age, and a certificate older than its replica
 * showed before is then `reply_replayed`.
 *
 * With a `CertificateGuard` (what `AspecClient` always passes) every certificate in the reply is
 * checked too, and every certified value / result against its certificate's root, with the shared
 * verifiers (`verifyCertificate`, `verifyStateProof`, `verifyResultProof`). Nothing is recorded
 * (the guard's seqs) until the whole reply has passed.
 */
import type { Certificate } from "../shared/certified/types.js";
import { verifyResultProof, verifyStateProof } from "../shared/certified/proofs.js";
import type { TypeName } from "../shared/datatypes/index.js";
import { REPLICA_ERROR_CODES, type AspecError } from "../shared/errors.js";
import { compareKeys, decodeCursor, type ListEntry } from "../shared/kv-list.js";
import {
  verifyErrorReply,
  verifyReply,
  type CertificateReply,
  type CertifiedReadReply,
  type CertifiedValue,
  type ErrorReply,
  type OpReply,
  type OpStatusReply,
  type ReadReply,
  type ListReply,
  type ReplicaReply,
} from "../shared/replies.js";
import type { CertificateGuard } from "./certificates.js";
import { ReplyVerificationError, type VerificationReason } from "./errors.js";

/** Replica name → pinned base64url public key. */
export type PinnedKeys = ReadonlyMap<string, string>;

/** What binds a reply to its request (both optional for a caller that sent no nonce). */
export interface Bound {
  /** The nonce the request was sent with: the reply must carry exactly it. */
  nonce?: string | undefined;
  /** `CertificateGuard.mark()` when the request was sent (undefined: after every recorded reply). */
  sent?: number | undefined;
}

export interface OpExpectation extends Bound {
  /** The replica asked; undefined when the server chose (the reply must then name a known replica). */
  replica: string | undefined;
  opId: string;
  key: string;
  type: TypeName;
}

export interface ReadExpectation extends Bound {
  replica: string | undefined;
  key: string;
}

export interface OpStatusExpectation extends Bound {
  replica: string | undefined;
  opId: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;

type Fail = (reason: VerificationReason, why: string) => never;

function failerFor(body: unknown): Fail {
  const replica = isObject(body) && typeof body.replica === "string" ? body.replica : "";
  return (reason, why) => {
    throw new ReplyVerificationError(reason, replica, body, why);
  };
}

async function checkSigned(
  body: unknown,
  kind: ReplicaReply["kind"],
  pinned: PinnedKeys,
  asked: string | undefined,
  nonce: string | undefined,
  cacheable = false,
) {
  const fail = failerFor(body);
  if (
    !isObject(body) ||
    body.kind !== kind ||
    typeof body.sig !== "string" ||
    typeof body.replica !== "string"
  )
    fail("malformed", `not a signed ${kind} reply`);
  const reply = body as unknown as ReplicaReply;
  const publicKey = pinned.get(reply.replica);
  if (publicKey === undefined)
    fail("unknown_replica", `reply names replica '${reply.replica}', which is not pinned`);
  if (!(await verifyReply(publicKey!, reply)))
    fail("bad_signature", `bad signature on a reply from replica '${reply.replica}'`);
  if (asked !== undefined && reply.replica !== asked)
    fail("wrong_replica", `asked replica '${asked}' but the reply is from '${reply.replica}'`);
  // Unbound: a cached certified read, which answers no one request (it carries no nonce at all).
  const unbound = nonce !== undefined && cacheable && reply.nonce === undefined;
  if (nonce !== undefined && reply.nonce !== nonce && !unbound)
    fail(
      "reply_replayed",
      `a reply from '${reply.replica}' that is not this request's: nonce ${reply.nonce === undefined ? "missing" : `'${String(reply.nonce)}'`}, sent '${nonce}'`,
    );
  return { reply, fail, bound: !unbound };
}

/**
 * The reply's newest certificate: valid, not behind what this replica showed in a reply received
 * before the request was sent, fresh enough.
 */
async function checkNewest(
  cert: unknown,
  replica: string,
  certs: CertificateGuard | undefined,
  fail: Fail,
  expect: Bound,
  bound = true,
): Promise<void> {
  if (!certs) return;
  const problem = await certs.check(cert, replica, expect.sent, bound);
  if (problem) fail(problem.reason, problem.message);
}

/** A certified value (or absence) against the certificate it claims: seq, root and proof. */
function checkCertifiedValue(
  key: string,
  cv: CertifiedValue | null,
  cert: Certificate | null,
  fail: Fail,
): void {
  if (cv === null || cv === undefined) return;
  if (!isObject(cv)) fail("bad_read_proof", "the certified value is not an object");
  if (cert === null) fail("bad_read_proof", "a certified value without a certificate");
  if (cv.seq !== cert!.body.seq || cv.stateRoot !== cert!.body.stateRoot)
    fail(
      "bad_read_proof",
      `the certified value claims seq ${String(cv.seq)} / root ${String(cv.stateRoot)}, the certificate seq ${cert!.body.seq}`,
    );
  if (!verifyStateProof(cert!.body.stateRoot, key, cv.value, cv.proof))
    fail("bad_read_proof", `the proof of '${key}' does not fold to the certificate's stateRoot`);
}

/** Check an `OpReply`; returns it typed, or throws `ReplyVerificationError`. */
export async function verifyOpReply(
  body: unknown,
  expect: OpExpectation,
  pinned: PinnedKeys,
  certs?: CertificateGuard,
): Promise<OpReply> {
  const { reply, fail } = await checkSigned(body, "op", pinned, expect.replica, expect.nonce);
  const r = reply as OpReply;
  if (r.opId !== expect.opId) fail("wrong_subject", `reply is for op '${r.opId}', not '${expect.opId}'`);
  if (r.key !== expect.key) fail("wrong_subject", `reply is for key '${r.key}', not '${expect.key}'`);
  if (r.type !== expect.type) fail("wrong_subject", `reply is for type '${r.type}', not '${expect.type}'`);
  const t = r.tentative as unknown;
  if (!isObject(t) || (t.status !== "ok" && t.status !== "rejected"))
    fail("malformed", "reply has no tentative status");
  await checkNewest(r.certificate, r.replica, certs, fail, expect);
  certs?.observe(r.certificate, r.replica);
  return r;
}

/** Check a `ReadReply` (and its certified value's proof); returns it typed, or throws `ReplyVerificationError`. */
export async function verifyReadReply(
  body: unknown,
  expect: ReadExpectation,
  pinned: PinnedKeys,
  certs?: CertificateGuard,
): Promise<ReadReply> {
  const { reply, fail } = await checkSigned(body, "read", pinned, expect.replica, expect.nonce);
  const r = reply as ReadReply;
  if (r.key !== expect.key) fail("wrong_subject", `reply is for key '${r.key}', not '${expect.key}'`);
  if (certs) {
    await checkNewest(r.certificate, r.replica, certs, fail, expect);
    checkCertifiedValue(r.key, r.certified, r.certificate, fail);
    certs.observe(r.certificate, r.replica);
  }
  return r;
}

/** Check a `CertifiedReadReply` (`?view=certified`): its certificate and the value's proof. */
export async function verifyCertifiedReadReply(
  body: unknown,
  expect: ReadExpectation,
  pinned: PinnedKeys,
  certs: CertificateGuard,
): Promise<CertifiedReadReply> {
  const signed = await checkSigned(body, "certified-read", pinned, expect.replica, expect.nonce, true);
  const { reply, fail } = signed;
  const r = reply as CertifiedReadReply;
  if (r.key !== expect.key) fail("wrong_subject", `reply is for key '${r.key}', not '${expect.key}'`);
  if (!isObject(r.certified)) fail("bad_read_proof", "no certified value");
  await checkNewest(r.certificate ?? null, r.replica, certs, fail, expect, signed.bound);
  checkCertifiedValue(r.key, r.certified, r.certificate ?? null, fail);
  certs.observe(r.certificate, r.replica);
  return r;
}

/**
 * Check an `OpStatusReply` (`GET /v1/ops/:id`): the newest certificate, and when the op is
 * certified, its batch's certificate, that the result is this op's, and the result's proof against
 * that certificate's `resultsRoot`.
 */
export async function verifyOpStatusReply(
  body: unknown,
  expect: OpStatusExpectation,
  pinned: PinnedKeys,
  certs: CertificateGuard,
): Promise<OpStatusReply> {
  const { reply, fail } = await checkSigned(body, "op-status", pinned, expect.replica, expect.nonce);
  const r = reply as OpStatusReply;
  if (r.opId !== expect.opId) fail("wrong_subject", `reply is for op '${r.opId}', not '${expect.opId}'`);
  await checkNewest(r.certificate, r.replica, certs, fail, expect);
  const c = r.certified as unknown;
  if (c !== null) {
    if (!isObject(c) || !isObject(c.result))
      fail("bad_result_proof", "the certified result is not an object");
    const cr = r.certified!;
    const problem = await certs.verify(cr.certificate);
    if (problem) fail(problem.reason, `the op's batch ${problem.message}`);
    if (cr.seq !== cr.certificate.body.seq)
      fail(
        "bad_result_proof",
        `the result claims seq ${String(cr.seq)}, its certificate ${cr.certificate.body.seq}`,
      );
    if (cr.result.opId !== expect.opId)
      fail("bad_result_proof", `the certified result is of op '${String(cr.result.opId)}'`);
    if (cr.result.status !== "ok" && cr.result.status !== "rejected")
      fail("bad_result_proof", "the certified result has no status");
    if (!verifyResultProof(cr.certificate.body.resultsRoot, cr.result, cr.proof))
      fail("bad_result_proof", "the result's proof does not fold to its certificate's resultsRoot");
  } else if (r.pending !== true) fail("malformed", "neither certified nor pending");
  certs.observe(r.certificate, r.replica);
  return r;
}

export interface ListExpectation extends Bound {
  replica: string | undefined;
  prefix: string;
  /** The cursor sent (undefined: the first page). */
  cursor: string | undefined;
  limit: number;
}

/**
 * Check a `ListReply` (`GET /v1/kv?prefix=`): signed, about this prefix and cursor, its entries
 * within the prefix, after the cursor, strictly ascending in byte order, at most `limit`, each
 * certified value as of the reply's certificate. Certified values carry no proofs here:
 * `getCertified(key)` proves one.
 */
export async function verifyListReply(
  body: unknown,
  expect: ListExpectation,
  pinned: PinnedKeys,
  certs?: CertificateGuard,
): Promise<ListReply> {
  const { reply, fail } = await checkSigned(body, "list", pinned, expect.replica, expect.nonce);
  const r = reply as ListReply;
  if (r.prefix !== expect.prefix)
    fail("wrong_subject", `reply lists prefix '${String(r.prefix)}', not '${expect.prefix}'`);
  if (r.after !== expect.cursor)
    fail("wrong_subject", `reply continues cursor '${String(r.after)}', not '${String(expect.cursor)}'`);
  if (!Array.isArray(r.entries) || r.entries.length > expect.limit)
    fail("malformed", `a list reply holds an array of at most ${expect.limit} entries`);
  if (r.cursor !== null && typeof r.cursor !== "string") fail("malformed", "the cursor is not a string");
  let prev = expect.cursor === undefined ? null : decodeCursor(expect.cursor);
  const seq = r.certificate?.body?.seq;
  for (const e of r.entries as unknown[]) {
    if (!isObject(e) || typeof e.key !== "string") fail("malformed", "an entry without a key");
    const entry = e as unknown as ListEntry;
    if (!entry.key.startsWith(expect.prefix))
      fail("wrong_subject", `entry '${entry.key}' is outside prefix '${expect.prefix}'`);
    if (prev !== null && compareKeys(prev, entry.key) >= 0)
      fail("malformed", `entry '${entry.key}' is not after '${prev}' in byte order`);
    if (entry.certified !== null && (!isObject(entry.certified) || entry.certified.seq !== seq))
      fail("malformed", `entry '${entry.key}' claims a certified value not of the reply's certificate`);
    prev = entry.key;
  }
  if (certs) {
    await checkNewest(r.certificate, r.replica, certs, fail, expect);
    certs.observe(r.certificate, r.replica);
  }
  return r;
}

/** Check a `CertificateReply` (`GET /v1/certificates/…`). */
export async function verifyCertificateReply(
  body: unknown,
  replica: string | undefined,
  pinned: PinnedKeys,
  certs: CertificateGuard,
  latest: boolean,
  bound: Bound = {},
): Promise<CertificateReply> {
  const { reply, fail } = await checkSigned(body, "certificate", pinned, replica, bound.nonce);
  const r = reply as CertificateReply;
  if (latest) await checkNewest(r.certificate, r.replica, certs, fail, bound);
  else {
    const problem = await certs.verify(r.certificate);
    if (problem) fail(problem.reason, problem.message);
  }
  if (latest) certs.observe(r.certificate, r.replica);
  return r;
}

export interface ErrorExpectation {
  /** The nonce the request was sent with: a signed error must carry exactly it. */
  nonce?: string | undefined;
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
  const fail = failerFor(body);
  if (!isObject(body) || !("sig" in body)) {
    if (REPLICA_ERROR_CODES.has(error.code))
      fail("malformed", `an unsigned '${error.code}' error: replicas sign refusals`);
    return error;
  }
  if (body.kind !== "error" || typeof body.sig !== "string" || typeof body.replica !== "string")
    fail("malformed", "not a signed error reply");
  const reply = body as unknown as ErrorReply;
  const publicKey = pinned.get(reply.replica);
  if (publicKey === undefined)
    fail("unknown_replica", `error names replica '${reply.replica}', which is not pinned`);
  if (!(await verifyErrorReply(publicKey!, reply)))
    fail("bad_signature", `bad signature on an error from replica '${reply.replica}'`);
  if (expect.replica !== undefined && reply.replica !== expect.replica)
    fail("wrong_replica", `asked replica '${expect.replica}' but the error is from '${reply.replica}'`);
  if (expect.opId !== undefined && reply.opId !== expect.opId)
    fail("wrong_subject", `error is for op '${String(reply.opId)}', not '${expect.opId}'`);
  if (expect.key !== undefined && reply.key !== expect.key)
    fail("wrong_subject", `error is for key '${String(reply.key)}', not '${expect.key}'`);
  if (expect.nonce !== undefined && reply.nonce !== expect.nonce)
    fail("reply_replayed", `an error from '${reply.replica}' that is not this request's (nonce)`);
  return error;
}
