/**
 * Evidence (docs/architecture.md, "Evidence and quarantine"): a self-contained proof that a replica
 * signed something no honest replica signs, or that the cluster signed two bodies for one seq. Pure
 * and deterministic; the server (`POST /v1/evidence`) and the SDK run this one verifier.
 *
 * Every kind is provable from signed data alone, checked against the pinned cluster config and the
 * pinned replica keys:
 *
 * - `bad_certificate`: a replica-signed reply carrying a certificate that does not verify (a
 *   certified seq that does not exist is one: a forged seq breaks the node signatures).
 * - `bad_certified_read`: a replica-signed read whose certified value, seq or stateRoot disagrees
 *   with its own (valid) certificate, or whose proof does not verify against its stateRoot.
 * - `bad_certified_result`: a replica-signed op status whose certified result is not the asked op's,
 *   or whose seq or proof disagrees with its own (valid) certificate.
 * - `contradicted_result`: a replica-signed op status claiming result R for op X, plus a valid
 *   certificate and proof showing X's certified result R' ≠ R. The replica is at fault only if its
 *   own claim does not verify (if both verify, two valid certificates disagree: a cluster fault).
 * - `cluster_equivocation`: two valid certificates for one seq with different bodies; the nodes
 *   that signed both are named (at least f+1 by quorum intersection). No replica is at fault.
 *
 * Tentative values prove nothing: a replica's tentative state legitimately differs from the
 * certified one while ops are concurrent or undelivered, so there is no tentative kind.
 *
 * Judged on signed content only. Members no one signed (beside the reply at the top level, inside
 * `truth`, a certificate's members other than `body` and `sigs`) are ignored, never refused before
 * verification; an accepted verdict carries the evidence's normal form (`evidence`: the signed
 * content only, in one order — what the Directory stores) and one digest per lie (`evidenceDigest`).
 *
 * Hostile input throughout: a malformed evidence verifies as `{ok: false}`, never a throw.
 */
import { bytesEqual, toHex } from "./bytes.js";
import { DOMAIN, canonicalBytes } from "./canonical.js";
import { certificateDigest, sameCertificateBody, verifyCertificate } from "./certified/certificate.js";
import {
  verifyResultProof,
  verifyStateProof,
  type ResultProof,
  type StateProof,
} from "./certified/proofs.js";
import { committedResult, resultLeafHash } from "./certified/results.js";
import type { Certificate, ClusterConfig, OpResult } from "./certified/types.js";
import type { StateValue } from "./certified/hashing.js";
import { verifyCanonical } from "./crypto/keys.js";
import { sha256 } from "./hash.js";
import type {
  CertifiedReadReply,
  CertifiedResult,
  OpStatusReply,
  ReadReply,
  ReplicaReply,
} from "./replies.js";

/**
 * Domain of an evidence's digest (`evidenceDigest`). v2: the digest names the lie (the signed reply,
 * or the pair of certified bodies), not the submission (v1 hashed the whole evidence).
 */
export const EVIDENCE_DOMAIN = "aspec/evidence/v2";

export const REPLICA_EVIDENCE_KINDS = [
  "bad_certificate",
  "bad_certified_read",
  "bad_certified_result",
  "contradicted_result",
] as const;
export type ReplicaEvidenceKind = (typeof REPLICA_EVIDENCE_KINDS)[number];
export type EvidenceKind = ReplicaEvidenceKind | "cluster_equivocation";
export const EVIDENCE_KINDS: readonly EvidenceKind[] = [...REPLICA_EVIDENCE_KINDS, "cluster_equivocation"];

export type Evidence =
  | { kind: "bad_certificate"; reply: ReplicaReply }
  | { kind: "bad_certified_read"; reply: ReadReply | CertifiedReadReply }
  | { kind: "bad_certified_result"; reply: OpStatusReply }
  /** `truth`: the op's certified result with its proof and certificate, as `GET /v1/ops/:id` carries it. */
  | { kind: "contradicted_result"; reply: OpStatusReply; truth: CertifiedResult }
  | { kind: "cluster_equivocation"; certificates: [Certificate, Certificate] };

/** What evidence is checked against: the pinned cluster and the pinned replica keys (name → key). */
export interface EvidencePins {
  cluster: ClusterConfig;
  replicaKeys: ReadonlyMap<string, string>;
}

/** Why evidence was refused: stable codes (`422 invalid_evidence` carries one in `details.reason`). */
export type EvidenceRejection =
  /** Not the shape of any evidence kind (missing or extra fields, wrong types). */
  | "malformed"
  | "unknown_kind"
  /** The reply names a replica that is not pinned. */
  | "unknown_replica"
  /** The reply is not signed by the pinned key of the replica it names (tampered or re-signed). */
  | "bad_reply_signature"
  /** The reply is not of a kind this evidence is about (e.g. a read reply as a result's evidence). */
  | "wrong_reply_kind"
  /** Everything the reply claims checks out: nothing is proven. */
  | "consistent"
  /** The reply's own certificate does not verify: that is `bad_certificate` evidence instead. */
  | "certificate_invalid"
  /** `contradicted_result`: the offered truth does not verify, or is about another op. */
  | "bad_truth"
  /** `contradicted_result`: the truth and the claim are the same result. */
  | "no_contradiction"
  /** Both the claim and the truth verify: two valid certificates disagree, a cluster fault. */
  | "cluster_fault"
  /** `cluster_equivocation`: a certificate does not verify, or the two are for different seqs / the same body. */
  | "not_equivocation"
  /** The pinned cluster config is unusable (the verifier's problem, never the evidence's). */
  | "bad_config"
  /**
   * A certificate names another cluster. Not judged: a cluster whose node keys change gets a new
   * cluster id (docs/operations.md, rotating a key), so an honest replica's reply from before the change must not read
   * as a forged certificate; a client refuses such a certificate anyway.
   */
  | "other_cluster";

export type EvidenceVerdict =
  | {
      ok: true;
      kind: ReplicaEvidenceKind;
      replica: string;
      digest: string;
      detail: string;
      /** The normal form: the signed content only, in one order (what is stored and served). */
      evidence: Evidence;
    }
  | {
      ok: true;
      kind: "cluster_equivocation";
      nodes: string[];
      seq: number;
      digest: string;
      detail: string;
      evidence: Evidence;
    }
  | { ok: false; reason: EvidenceRejection; detail?: string };

type Rejected = Extract<EvidenceVerdict, { ok: false }>;
const reject = (reason: EvidenceRejection, detail?: string): Rejected =>
  detail === undefined ? { ok: false, reason } : { ok: false, reason, detail };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * At least these own fields. Others are not refused (that would judge unsigned content before the
 * signed): they are left out of the normal form, so they change neither the verdict nor the digest.
 */
const hasAll = (o: Obj, fields: readonly string[]): boolean => fields.every((f) => Object.hasOwn(o, f));

const FIELDS: Record<EvidenceKind, readonly string[]> = {
  bad_certificate: ["kind", "reply"],
  bad_certified_read: ["kind", "reply"],
  bad_certified_result: ["kind", "reply"],
  contradicted_result: ["kind", "reply", "truth"],
  cluster_equivocation: ["kind", "certificates"],
};

/** Reply kinds that carry a certificate (`certificate`, and an op status's `certified.certificate`). */
const CERTIFYING_KINDS = new Set(["op", "read", "op-status", "certified-read", "certificate", "list"]);

/**
 * The digest that names a lie, one per lie whatever else the evidence carries:
 *
 * - against a replica: the reply as the replica signed it, without its signature (a signer may make
 *   several signatures of one body; the body is the statement). Not the kind, nor the `truth`: one
 *   signed reply is one lie, whether it is shown as `bad_certified_result` or `contradicted_result`,
 *   and whichever valid quorum of signatures the truth's certificate carries;
 * - the cluster's: the two certified bodies (by `certificateDigest`, in order), not the signatures.
 *
 * So every padded, nested or re-ordered submission of one lie is a `replay` of the first.
 */
export function evidenceDigest(e: Evidence): string {
  const named =
    e.kind === "cluster_equivocation"
      ? { bodies: e.certificates.map((c) => certificateDigest(c.body)).sort() }
      : { reply: withoutSig(e.reply as unknown as Obj) };
  return toHex(sha256(canonicalBytes(EVIDENCE_DOMAIN, named)));
}

const withoutSig = (reply: Obj): Obj => {
  const { sig: _sig, ...body } = reply;
  return body;
};

/** A verified certificate's signed content: its body and its (all valid) signatures, by node. */
const certificateNormal = (c: Certificate): Certificate => ({
  body: c.body,
  sigs: [...c.sigs].sort((x, y) => x.node - y.node).map((s) => ({ node: s.node, sig: s.sig })),
});

/** The pair in one order (by body digest), so (a, b) and (b, a) are one evidence. */
function sortPair([a, b]: [Certificate, Certificate]): [Certificate, Certificate] {
  return certificateDigest(a.body) <= certificateDigest(b.body) ? [a, b] : [b, a];
}

/**
 * The normal form of verified evidence: the kind, the reply exactly as signed, and for the parts no
 * one signed as a whole only what the verifier checked — a truth's `{seq, result, proof,
 * certificate}` (the result's committed fields, the proof's `{index, count, path}`, the certificate's
 * body and signatures by node), an equivocation's certificates in one order.
 */
function normalForm(e: Obj): Evidence {
  const kind = e.kind as EvidenceKind;
  if (kind === "cluster_equivocation") {
    const [a, b] = e.certificates as [Certificate, Certificate];
    return { kind, certificates: sortPair([certificateNormal(a), certificateNormal(b)]) };
  }
  const reply = e.reply as ReplicaReply;
  if (kind !== "contradicted_result") return { kind, reply } as Evidence;
  const t = e.truth as CertifiedResult;
  const { index, count, path } = t.proof;
  return {
    kind,
    reply: reply as OpStatusReply,
    truth: {
      seq: t.seq,
      result: committedResult(t.result),
      proof: { index, count, path },
      certificate: certificateNormal(t.certificate),
    },
  };
}

/** A replica-signed reply of one of `kinds`, signed by the pinned key of the replica it names. */
async function signedReply(
  reply: unknown,
  kinds: ReadonlySet<string>,
  pins: EvidencePins,
): Promise<{ reply: Obj; replica: string } | Rejected> {
  if (!isObj(reply) || typeof reply.kind !== "string" || typeof reply.replica !== "string")
    return reject("malformed", "reply: not a replica reply");
  if (typeof reply.sig !== "string") return reject("malformed", "reply: no signature");
  const publicKey = pins.replicaKeys.get(reply.replica);
  if (publicKey === undefined) return reject("unknown_replica", reply.replica);
  const { sig, ...body } = reply;
  if (!(await verifyCanonical(publicKey, DOMAIN.replicaReply, body, sig)))
    return reject("bad_reply_signature", `not signed by replica '${reply.replica}'`);
  if (!kinds.has(reply.kind)) return reject("wrong_reply_kind", reply.kind);
  return { reply, replica: reply.replica };
}

/**
 * Does a certificate verify against the pinned cluster? `bad_config` and another cluster's
 * certificate are passed up: neither is blamed on anyone.
 */
async function certificateValid(cert: unknown, pins: EvidencePins): Promise<boolean | Rejected> {
  const v = await verifyCertificate(cert as Certificate, pins.cluster);
  if (v.ok) return true;
  if (v.reason === "bad_config") return reject("bad_config", v.detail);
  if (v.reason === "wrong_cluster")
    return reject("other_cluster", `not a certificate of ${pins.cluster.cluster}`);
  return false;
}

const isRejected = (x: unknown): x is Rejected => isObj(x) && x.ok === false;

/** The first way a certified value disagrees with its certificate, or null if it is consistent. */
function readProblem(key: unknown, certified: Obj, cert: Certificate): string | null {
  if (certified.seq !== cert.body.seq)
    return `certified.seq ${String(certified.seq)} ≠ certificate seq ${cert.body.seq}`;
  if (certified.stateRoot !== cert.body.stateRoot) return "certified.stateRoot ≠ the certificate's stateRoot";
  const ok = verifyStateProof(
    cert.body.stateRoot,
    key as string,
    certified.value as StateValue | null,
    certified.proof as StateProof,
  );
  return ok ? null : "the state proof does not verify against the certificate's stateRoot";
}

/** The first way a certified result disagrees with its certificate or op, or null if it is consistent. */
function resultProblem(opId: unknown, certified: Obj, cert: Certificate): string | null {
  if (certified.seq !== cert.body.seq)
    return `certified.seq ${String(certified.seq)} ≠ certificate seq ${cert.body.seq}`;
  const result = certified.result;
  if (!isObj(result) || result.opId !== opId) return "the certified result is not the asked op's";
  const ok = verifyResultProof(
    cert.body.resultsRoot,
    result as unknown as OpResult,
    certified.proof as ResultProof,
  );
  return ok ? null : "the result proof does not verify against the certificate's resultsRoot";
}

async function badCertificate(e: Obj, pins: EvidencePins): Promise<EvidenceVerdict> {
  const s = await signedReply(e.reply, CERTIFYING_KINDS, pins);
  if (isRejected(s)) return s;
  const claims: [string, unknown][] = [];
  if (s.reply.certificate !== null && s.reply.certificate !== undefined)
    claims.push(["certificate", s.reply.certificate]);
  if (s.reply.kind === "op-status" && isObj(s.reply.certified))
    claims.push(["certified.certificate", s.reply.certified.certificate]);
  for (const [where, cert] of claims) {
    const valid = await certificateValid(cert, pins);
    if (isRejected(valid)) return valid;
    if (!valid)
      return accepted("bad_certificate", s.replica, e, `${where} does not verify against the cluster`);
  }
  return reject("consistent", "every certificate in the reply verifies");
}

async function badCertifiedRead(e: Obj, pins: EvidencePins): Promise<EvidenceVerdict> {
  const s = await signedReply(e.reply, new Set(["read", "certified-read"]), pins);
  if (isRejected(s)) return s;
  if (!isObj(s.reply.certified)) return reject("consistent", "the reply claims no certified value");
  const valid = await certificateValid(s.reply.certificate, pins);
  if (isRejected(valid)) return valid;
  if (!valid) return reject("certificate_invalid");
  const problem = readProblem(s.reply.key, s.reply.certified, s.reply.certificate as Certificate);
  if (problem === null) return reject("consistent", "the certified value verifies against its certificate");
  return accepted("bad_certified_read", s.replica, e, problem);
}

async function badCertifiedResult(e: Obj, pins: EvidencePins): Promise<EvidenceVerdict> {
  const s = await signedReply(e.reply, new Set(["op-status"]), pins);
  if (isRejected(s)) return s;
  const certified = s.reply.certified;
  if (!isObj(certified)) return reject("consistent", "the reply claims no certified result");
  const valid = await certificateValid(certified.certificate, pins);
  if (isRejected(valid)) return valid;
  if (!valid) return reject("certificate_invalid");
  const problem = resultProblem(s.reply.opId, certified, certified.certificate as Certificate);
  if (problem === null) return reject("consistent", "the certified result verifies against its certificate");
  return accepted("bad_certified_result", s.replica, e, problem);
}

async function contradictedResult(e: Obj, pins: EvidencePins): Promise<EvidenceVerdict> {
  const s = await signedReply(e.reply, new Set(["op-status"]), pins);
  if (isRejected(s)) return s;
  const claim = s.reply.certified;
  const opId = s.reply.opId;
  if (!isObj(claim) || !isObj(claim.result) || claim.result.opId !== opId)
    return reject("consistent", "the reply claims no certified result for its op");
  const truth = e.truth;
  if (!isObj(truth) || !hasAll(truth, ["seq", "result", "proof", "certificate"]))
    return reject("malformed", "truth: {seq, result, proof, certificate}");
  const truthValid = await certificateValid(truth.certificate, pins);
  if (isRejected(truthValid)) return truthValid;
  if (!truthValid) return reject("bad_truth", "the truth's certificate does not verify");
  const truthProblem = resultProblem(opId, truth, truth.certificate as Certificate);
  if (truthProblem !== null) return reject("bad_truth", truthProblem);
  let same: boolean;
  try {
    same = bytesEqual(
      resultLeafHash(claim.result as unknown as OpResult),
      resultLeafHash(truth.result as unknown as OpResult),
    );
  } catch {
    same = false; // the claim is not even a result (the truth is one: its proof verified)
  }
  if (same) return reject("no_contradiction", "the truth is the result the reply claims");
  const claimValid = await certificateValid(claim.certificate, pins);
  if (isRejected(claimValid)) return claimValid;
  if (claimValid && resultProblem(opId, claim, claim.certificate as Certificate) === null)
    return reject("cluster_fault", "both results verify: two valid certificates disagree about the op");
  return accepted(
    "contradicted_result",
    s.replica,
    e,
    `the certified result of ${String(opId)} is not what the replica claimed`,
  );
}

async function clusterEquivocation(e: Obj, pins: EvidencePins): Promise<EvidenceVerdict> {
  const certs = e.certificates;
  if (!Array.isArray(certs) || certs.length !== 2)
    return reject("malformed", "certificates: two certificates");
  const [a, b] = certs as [unknown, unknown];
  for (const c of [a, b]) {
    const valid = await certificateValid(c, pins);
    if (isRejected(valid)) return valid;
    if (!valid) return reject("not_equivocation", "a certificate does not verify");
  }
  const ca = a as Certificate;
  const cb = b as Certificate;
  if (ca.body.seq !== cb.body.seq)
    return reject("not_equivocation", "the certificates are for different seqs");
  if (sameCertificateBody(ca.body, cb.body))
    return reject("not_equivocation", "the certificates certify one body");
  const signers = new Set(cb.sigs.map((s) => s.node));
  const both = [...new Set(ca.sigs.map((s) => s.node))].filter((n) => signers.has(n)).sort((x, y) => x - y);
  const nodes = both.map((n) => pins.cluster.nodes[n]!.id);
  const evidence = normalForm(e);
  return {
    ok: true,
    kind: "cluster_equivocation",
    nodes,
    seq: ca.body.seq,
    digest: evidenceDigest(evidence),
    detail: `two certified bodies for seq ${ca.body.seq}, both signed by ${nodes.join(", ")}`,
    evidence,
  };
}

function accepted(kind: ReplicaEvidenceKind, replica: string, e: Obj, detail: string): EvidenceVerdict {
  const evidence = normalForm(e);
  return { ok: true, kind, replica, digest: evidenceDigest(evidence), detail, evidence };
}

const VERIFIERS: Record<EvidenceKind, (e: Obj, pins: EvidencePins) => Promise<EvidenceVerdict>> = {
  bad_certificate: badCertificate,
  bad_certified_read: badCertifiedRead,
  bad_certified_result: badCertifiedResult,
  contradicted_result: contradictedResult,
  cluster_equivocation: clusterEquivocation,
};

/**
 * Verify evidence against the pinned cluster and replica keys: who is at fault and the digest that
 * names the evidence (a replay has the same digest), or why it proves nothing. Never throws.
 *
 * @example
 *   const v = await verifyEvidence(JSON.parse(text), { cluster, replicaKeys });
 *   if (v.ok && v.kind !== "cluster_equivocation") quarantine(v.replica, v.kind, v.digest);
 */
export async function verifyEvidence(e: unknown, pins: EvidencePins): Promise<EvidenceVerdict> {
  try {
    if (!isObj(e) || typeof e.kind !== "string")
      return reject("malformed", "evidence: an object with a kind");
    if (!Object.hasOwn(FIELDS, e.kind)) return reject("unknown_kind", e.kind);
    const kind = e.kind as EvidenceKind;
    if (!hasAll(e, FIELDS[kind])) return reject("malformed", `${kind}: fields ${FIELDS[kind].join(", ")}`);
    return await VERIFIERS[kind](e, pins);
  } catch {
    // Every check above is written not to throw; this is the last line against an input no one foresaw
    // (e.g. a getter on an object handed in-process): it proves nothing, it must not crash the caller.
    return reject("malformed", "evidence could not be read");
  }
}
