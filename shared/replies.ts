/**
 * What an edge replica says over HTTP. Every reply is signed by the replica's own Ed25519 key over
 * `canonicalBytes(DOMAIN.replicaReply, reply without sig)`, so a lie is attributable to its replica.
 */
import { fromB64u } from "./bytes.js";
import type { Json } from "./canonical.js";
import { DOMAIN } from "./canonical.js";
import type { ResultProof, StateProof, StateValue } from "./certified/proofs.js";
import type { Certificate, Digest, OpResult } from "./certified/types.js";
import { signCanonical, verifyCanonical } from "./crypto/keys.js";
import type { OpStatus, TypeName } from "./datatypes/index.js";
import type { ErrorBody } from "./errors.js";
import type { ListEntry } from "./kv-list.js";
import type { SignedOp } from "./ops.js";

/**
 * The request header a client sends a fresh random nonce in (16–32 bytes, base64url without
 * padding). The replica signs it back inside its reply (`nonce`), so a reply is bound to the one
 * request it answers: an old signed reply, replayed or backdated, cannot pass for a new one.
 */
export const NONCE_HEADER = "x-aspec-nonce";
export const NONCE_BYTES_MIN = 16;
export const NONCE_BYTES_MAX = 32;

/** Is `v` a nonce this API takes: canonical base64url of 16–32 bytes? */
export function isNonce(v: unknown): v is string {
  if (typeof v !== "string" || v.length > 43) return false;
  try {
    const n = fromB64u(v).length;
    return n >= NONCE_BYTES_MIN && n <= NONCE_BYTES_MAX;
  } catch {
    return false;
  }
}

/** The `nonce` member of a reply: present exactly when the request carried one. */
export const nonceMember = (nonce: string | undefined): { nonce?: string } =>
  nonce === undefined ? {} : { nonce };

/** Public description of one edge replica (`GET /v1/replicas`). */
export interface ReplicaInfo {
  name: string;
  /** The Durable Object locationHint it is created with. */
  region: string;
  publicKey: string;
}

export interface TentativeResult {
  status: OpStatus;
  reason?: string;
  /**
   * The key's value at this replica right after the op; a key that holds nothing reads as the op
   * type's initial value (a rejected withdraw on a fresh account: 0), as its certified result says
   * (`opValue`, shared/materialize.ts: origin and receivers alike).
   */
  value: Json;
  /**
   * A register write that lost: when it was applied here the register already held a write with a
   * later stamp, so `value` is that write's. (At its origin a write is stamped after everything the
   * origin had seen and so wins there; it can lose only to a concurrent write at another replica.)
   */
  superseded?: true;
}

/**
 * Where this replica's certified state stands: `none` (no certificate applied yet), `ok` (its state
 * matches `certificate`), `diverged` (it computed other roots than a certificate: it claims no
 * certified value any more, and `certificate` is the last one it applied cleanly).
 */
export type Certification = "none" | "ok" | "diverged";

/** A key's certified value (or absence: `value` null) with its proof against `stateRoot` of `seq`. */
export interface CertifiedValue {
  seq: number;
  stateRoot: Digest;
  value: StateValue | null;
  proof: StateProof;
}

/** Reply to `POST /v1/ops`. */
export interface OpReply {
  kind: "op";
  opId: string;
  key: string;
  type: TypeName;
  tentative: TentativeResult;
  replica: string;
  /** The newest certificate this replica holds (null before the first). */
  certificate: Certificate | null;
  certification: Certification;
  /** This client's ops accepted at this replica and not yet certified. */
  uncertified: number;
  /** True when this op id had been accepted before: the stored outcome, nothing applied again. */
  duplicate: boolean;
  /** The replica's clock (ms) when it replied. */
  time: number;
  /** The request's nonce (`x-aspec-nonce`), signed back; absent when the request had none. */
  nonce?: string;
  sig: string;
}

/** Reply to `GET /v1/kv/:key`. */
export interface ReadReply {
  kind: "read";
  key: string;
  /** null when the key has never been written at this replica. */
  type: TypeName | null;
  /** The tentative value: every op this replica has applied. */
  value: Json;
  replica: string;
  certificate: Certificate | null;
  certification: Certification;
  /** The certified value with its proof against `certificate`'s stateRoot; null unless `ok`. */
  certified: CertifiedValue | null;
  time: number;
  /** The request's nonce (`x-aspec-nonce`), signed back; absent when the request had none. */
  nonce?: string;
  sig: string;
}

/**
 * Reply to `GET /v1/kv?prefix=&cursor=&limit=`: one page of keys in byte order, each with its
 * tentative value and its certified value (no proofs: `GET /v1/kv/:key?view=certified` proves one).
 */
export interface ListReply {
  kind: "list";
  prefix: string;
  /** The cursor this page continues (absent: the first page). */
  after?: string;
  entries: ListEntry[];
  /** Pass it back as `?cursor=` for the next page; null: the listing is complete. */
  cursor: string | null;
  replica: string;
  certificate: Certificate | null;
  certification: Certification;
  time: number;
  /** The request's nonce (`x-aspec-nonce`), signed back; absent when the request had none. */
  nonce?: string;
  sig: string;
}

/**
 * Reply to `POST /v1/ops/batch`: one element per op, in order, each exactly the body a single
 * `POST /v1/ops` of that op would have answered (a signed `OpReply`, a replica's signed refusal, or
 * the edge's unsigned error for an op it could not parse). Not signed as a whole: each element is.
 */
export interface BatchReply {
  results: (OpReply | ErrorReply | ErrorBody)[];
}

/** An op's certified result against the resultsRoot of `certificate` (its batch's). */
export interface CertifiedResult {
  seq: number;
  result: OpResult;
  proof: ResultProof;
  certificate: Certificate;
}

/** Reply to `GET /v1/ops/:id`: the op's outcome here, tentative and (once certified) certified. */
export interface OpStatusReply {
  kind: "op-status";
  opId: string;
  /** This replica's outcome of the op (null: it has no row of it, e.g. collected after certification). */
  tentative: TentativeResult | null;
  /** The certified result with its proof (null: not certified here yet). */
  certified: CertifiedResult | null;
  /** Not certified here yet (`?wait=certified` timed out, or no wait). */
  pending: boolean;
  replica: string;
  certificate: Certificate | null;
  certification: Certification;
  time: number;
  /** The request's nonce (`x-aspec-nonce`), signed back; absent when the request had none. */
  nonce?: string;
  sig: string;
}

/**
 * Reply to `GET /v1/kv/:key?view=certified`: the key's certified value and proof only, as of one
 * certificate. The same for every reader until the next certificate, so the edge caches it (keyed
 * by replica, certified seq and key); a cached copy is the replica's signed reply, byte for byte,
 * and so carries no `nonce` (it answers no one request): the client takes it on its proof and its
 * certificate's age alone (docs/architecture.md, "Freshness").
 */
export interface CertifiedReadReply {
  kind: "certified-read";
  key: string;
  replica: string;
  certificate: Certificate;
  certified: CertifiedValue;
  time: number;
  /** The request's nonce (`x-aspec-nonce`), signed back; absent when the request had none. */
  nonce?: string;
  sig: string;
}

/** Reply to `GET /v1/certificates/latest` and `GET /v1/certificates/:seq`. */
export interface CertificateReply {
  kind: "certificate";
  replica: string;
  /** null only for `latest` before the first certificate. */
  certificate: Certificate | null;
  certification: Certification;
  time: number;
  /** The request's nonce (`x-aspec-nonce`), signed back; absent when the request had none. */
  nonce?: string;
  sig: string;
}

/** Namespaces a listing shows at most (each record holds up to 256 members): the reply stays bounded. */
export const NAMESPACES_LIST_MAX = 50;

/**
 * Reply to `GET /v1/namespaces`: the namespace records this replica holds (tentative), by name, at
 * most `NAMESPACES_LIST_MAX` from `after` (exclusive); `next` is the name to continue after, null
 * at the end. Each entry's `members` is the record's value: member → role (revoked ones left out).
 */
export interface NamespacesReply {
  kind: "namespaces";
  namespaces: { name: string; members: { [member: string]: string } }[];
  next: string | null;
  replica: string;
  time: number;
  nonce?: string;
  sig: string;
}

/** Reply to `GET /v1/clients/:client/evidence`: what this replica holds against a client. */
export interface EvidenceReply {
  kind: "evidence";
  client: string;
  /** This replica refuses the client's new ops (403 `client_equivocated`). */
  refused: boolean;
  /** Pairs of ops the client signed under one op id; each pair proves itself (both signatures verify). */
  evidence: { opId: string; kept: SignedOp; other: SignedOp }[];
  replica: string;
  time: number;
  /** The request's nonce (`x-aspec-nonce`), signed back; absent when the request had none. */
  nonce?: string;
  sig: string;
}

export type ReplicaReply =
  | OpReply
  | ReadReply
  | EvidenceReply
  | CertificateReply
  | OpStatusReply
  | CertifiedReadReply
  | NamespacesReply
  | ListReply;

/**
 * A replica's refusal: the API's one error shape, `{ error: { code, message, details? } }`, with
 * signed fields beside it, signed by the replica over `canonicalBytes(DOMAIN.replicaError, reply
 * without sig)`, so a refusal (e.g. a false `seq_replayed`) is as attributable as an answer. Errors
 * the edge Worker gives before any replica saw the request (malformed JSON, bad shape) are unsigned.
 */
export interface ErrorReply {
  error: ErrorBody["error"];
  kind: "error";
  replica: string;
  /** The refused op (`POST /v1/ops`). */
  opId?: string;
  /** The key read (`GET /v1/kv/:key`). */
  key?: string;
  time: number;
  /** The request's nonce (`x-aspec-nonce`), signed back; absent when the request had none. */
  nonce?: string;
  sig: string;
}

export async function signErrorReply(secret: string, body: Unsigned<ErrorReply>): Promise<ErrorReply> {
  return { ...body, sig: await signCanonical(secret, DOMAIN.replicaError, body) };
}

export function verifyErrorReply(publicKey: string, reply: ErrorReply): Promise<boolean> {
  const { sig, ...body } = reply;
  return verifyCanonical(publicKey, DOMAIN.replicaError, body, sig);
}
export type Unsigned<T extends { sig: string }> = Omit<T, "sig">;

export async function signReply<T extends ReplicaReply>(secret: string, body: Unsigned<T>): Promise<T> {
  return { ...body, sig: await signCanonical(secret, DOMAIN.replicaReply, body) } as T;
}

export function verifyReply(publicKey: string, reply: ReplicaReply): Promise<boolean> {
  const { sig, ...body } = reply;
  return verifyCanonical(publicKey, DOMAIN.replicaReply, body, sig);
}
