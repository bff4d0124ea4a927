/**
 * An EdgeReplica's answers about one key, op or certificate: the tentative value, the certified one
 * with its proof, an op's outcome, a certificate by seq. Each carries the newest certificate and is
 * signed by the replica, so a client holds it to what it said (a lie a certificate contradicts
 * becomes evidence). Pages of many keys: replica-reads-pages.ts.
 */
import { AspecError } from "../shared/errors.js";
import { liveRecord, valueOf } from "../shared/materialize.js";
import {
  nonceMember,
  type CertificateReply,
  type CertifiedReadReply,
  type OpStatusReply,
  type ReadReply,
  type TentativeResult,
} from "../shared/replies.js";
import type { ReplicaParts } from "./replica-parts.js";

/** GET /v1/kv/:key: the tentative value, and the certified one with its proof. */
export async function read(p: ReplicaParts, name: string, key: string, nonce?: string): Promise<ReadReply> {
  const id = await p.identity(name);
  await p.delivery.ensureTimers(name);
  await p.freshen();
  // a deleted key (a tombstone or a deleted mark kept tentatively) reads as a never-written one
  const rec = liveRecord(p.store.getRecord(key));
  return p.boundary.sign<ReadReply>(id.secret, {
    kind: "read",
    key,
    type: rec?.type ?? null,
    value: valueOf(rec),
    replica: name,
    certificate: p.certified.latestCertificate(),
    certification: p.certified.certification(),
    certified: p.certified.certifiedRead(key),
    time: Date.now(),
    ...nonceMember(nonce),
  });
}

/** GET /v1/kv/:key?view=certified: the certified value and proof alone (cacheable per seq). */
export async function certifiedRead(
  p: ReplicaParts,
  name: string,
  key: string,
  nonce?: string,
): Promise<CertifiedReadReply> {
  const id = await p.identity(name);
  await p.freshen();
  const certificate = p.certified.latestCertificate();
  const certified = p.certified.certifiedRead(key);
  if (!certificate || !certified)
    throw new AspecError(
      "not_certified",
      `replica '${name}' has no certified state to prove '${key}' against (${p.certified.certification()})`,
      { certification: p.certified.certification() },
    );
  return p.boundary.sign<CertifiedReadReply>(id.secret, {
    kind: "certified-read",
    key,
    replica: name,
    certificate,
    certified,
    time: Date.now(),
    ...nonceMember(nonce),
  });
}

/** GET /v1/ops/:id: this replica's outcome of an op, tentative and certified (with its proof). */
export async function opStatus(
  p: ReplicaParts,
  name: string,
  opId: string,
  nonce?: string,
): Promise<OpStatusReply> {
  const id = await p.identity(name);
  const stored = p.store.getOp(opId);
  const certified = p.certified.certifiedResult(opId);
  if (!stored && !certified) throw new AspecError("unknown_op_id", `replica '${name}' holds no op '${opId}'`);
  const tentative: TentativeResult | null = stored
    ? { status: stored.status, value: stored.value, ...(stored.reason ? { reason: stored.reason } : {}) }
    : null;
  return p.boundary.sign<OpStatusReply>(id.secret, {
    kind: "op-status",
    opId,
    tentative,
    certified,
    pending: certified === null,
    replica: name,
    certificate: p.certified.latestCertificate(),
    certification: p.certified.certification(),
    time: Date.now(),
    ...nonceMember(nonce),
  });
}

/** GET /v1/certificates/latest and /:seq: the newest certificate, or the one of `seq` if still kept here. */
export async function certificate(
  p: ReplicaParts,
  name: string,
  seq: number | null,
  nonce?: string,
): Promise<CertificateReply> {
  const id = await p.identity(name);
  const cert = seq === null ? p.certified.latestCertificate() : p.certified.certificateAt(seq);
  if (cert === undefined)
    throw new AspecError("unknown_certificate", `replica '${name}' holds no certificate of seq ${seq}`, {
      latest: p.certified.latestCertificate()?.body.seq ?? null,
    });
  return p.boundary.sign<CertificateReply>(id.secret, {
    kind: "certificate",
    replica: name,
    certificate: cert,
    certification: p.certified.certification(),
    time: Date.now(),
    ...nonceMember(nonce),
  });
}
