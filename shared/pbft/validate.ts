/**
 * Structural validation of envelopes arriving from the network: hostile input is expected, so
 * every field is checked for type and bound before anything else looks at it. Signatures are the
 * boundary's job (`boundary.ts`); protocol rules (view, window, digest) the core's.
 */
import { isCertificateBody } from "../certified/certificate.js";
import type { Certificate, CertificateBody } from "../certified/types.js";
import { isWellFormedOp, type SignedOp } from "../ops.js";
import type { PbftConfig } from "./config.js";
import type {
  CheckpointMsg,
  CheckpointProof,
  Commit,
  Envelope,
  Message,
  Prepare,
  PreparedCert,
  Proposal,
  ViewChange,
} from "./messages.js";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const isNat = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isStr = (v: unknown, max = 4096): v is string => typeof v === "string" && v.length <= max;
const DIGEST_RE = /^[0-9a-f]{64}$/;
const isDigest = (v: unknown): v is string => typeof v === "string" && DIGEST_RE.test(v);
const PATH_RE = /^[01]{0,256}$/;
/** A subtree path of the state tree: up to 256 bits, as "0"/"1". */
const isPath = (v: unknown): v is string => typeof v === "string" && PATH_RE.test(v);
const hasOnly = (o: Obj, keys: readonly string[]) => Object.keys(o).every((k) => keys.includes(k));

/** Limits the parser needs: the cluster size and the configured bounds. */
export interface ParseLimits {
  n: number;
  f: number;
  cfg: PbftConfig;
}

/**
 * A well-formed signed op: exactly what `parseOp` accepts (every field, the arguments of its type and
 * op, the size), by the limits of `op-limits.ts`. The boundary then verifies each op's signature.
 */
export const isSignedOpShape: (v: unknown) => v is SignedOp = isWellFormedOp;

function isProposal(v: unknown, lim: ParseLimits): v is Proposal {
  return (
    isObj(v) &&
    hasOnly(v, ["ops", "time", "view"]) &&
    Array.isArray(v.ops) &&
    v.ops.length <= lim.cfg.batchSizeMax &&
    v.ops.every(isSignedOpShape) &&
    isNat(v.time) &&
    isNat(v.view)
  );
}

const isNode = (v: unknown, lim: ParseLimits): v is number => isNat(v) && v < lim.n;

function isEnvelopeOf<M extends Message>(
  v: unknown,
  lim: ParseLimits,
  type: M["type"],
  msgOk: (m: Obj) => boolean,
): v is Envelope<M> {
  return (
    isObj(v) &&
    hasOnly(v, ["from", "msg", "sig"]) &&
    isNode(v.from, lim) &&
    isStr(v.sig, 256) &&
    isObj(v.msg) &&
    v.msg.type === type &&
    msgOk(v.msg)
  );
}

const isVote = (m: Obj) =>
  hasOnly(m, ["type", "view", "seq", "digest"]) && isNat(m.view) && isNat(m.seq) && isDigest(m.digest);
const isCheckpoint = (m: Obj) => hasOnly(m, ["type", "seq", "digest"]) && isNat(m.seq) && isDigest(m.digest);

function isCheckpointProof(v: unknown, lim: ParseLimits): v is CheckpointProof {
  return (
    isObj(v) &&
    hasOnly(v, ["seq", "digest", "proof"]) &&
    isNat(v.seq) &&
    isDigest(v.digest) &&
    Array.isArray(v.proof) &&
    v.proof.length <= lim.n &&
    v.proof.every((e) => isEnvelopeOf<CheckpointMsg>(e, lim, "checkpoint", isCheckpoint))
  );
}

function isPreparedCert(v: unknown, lim: ParseLimits): v is PreparedCert {
  return (
    isObj(v) &&
    hasOnly(v, ["seq", "view", "digest", "proposal", "prepares"]) &&
    isNat(v.seq) &&
    isNat(v.view) &&
    isDigest(v.digest) &&
    isProposal(v.proposal, lim) &&
    Array.isArray(v.prepares) &&
    v.prepares.length <= lim.n &&
    v.prepares.every((e) => isEnvelopeOf<Prepare>(e, lim, "prepare", isVote))
  );
}

function isViewChangeMsg(m: Obj, lim: ParseLimits): boolean {
  return (
    hasOnly(m, ["type", "view", "checkpoint", "prepared"]) &&
    isNat(m.view) &&
    isCheckpointProof(m.checkpoint, lim) &&
    Array.isArray(m.prepared) &&
    m.prepared.length <= lim.cfg.logWindowSeqs &&
    m.prepared.every((c) => isPreparedCert(c, lim))
  );
}

/** The shared wire check of a certificate body, with this parser's bound on the cluster name. */
const isBody = (v: unknown): v is CertificateBody => isCertificateBody(v) && isStr(v.cluster, 256);

function isCertificate(v: unknown, lim: ParseLimits): v is Certificate {
  return (
    isObj(v) &&
    hasOnly(v, ["body", "sigs"]) &&
    isBody(v.body) &&
    Array.isArray(v.sigs) &&
    v.sigs.length <= lim.n &&
    v.sigs.every((s) => isObj(s) && hasOnly(s, ["node", "sig"]) && isNode(s.node, lim) && isStr(s.sig, 256))
  );
}

function isMessage(m: Obj, lim: ParseLimits): boolean {
  switch (m.type) {
    case "pre-prepare":
    case "prepare":
    case "commit":
      return isVote(m);
    case "checkpoint":
      return isCheckpoint(m);
    case "view-change":
      return isViewChangeMsg(m, lim);
    case "new-view":
      return (
        hasOnly(m, ["type", "view", "viewChanges"]) &&
        isNat(m.view) &&
        Array.isArray(m.viewChanges) &&
        m.viewChanges.length <= lim.n &&
        m.viewChanges.every((e) =>
          isEnvelopeOf<ViewChange>(e, lim, "view-change", (x) => isViewChangeMsg(x, lim)),
        )
      );
    case "status":
      return (
        hasOnly(m, ["type", "view", "normal", "lastExecuted", "stableSeq", "uncertifiedFrom"]) &&
        isNat(m.view) &&
        typeof m.normal === "boolean" &&
        isNat(m.lastExecuted) &&
        isNat(m.stableSeq) &&
        isNat(m.uncertifiedFrom)
      );
    case "committed":
      return (
        hasOnly(m, ["type", "seq", "commits"]) &&
        isNat(m.seq) &&
        Array.isArray(m.commits) &&
        m.commits.length <= lim.n &&
        m.commits.every((e) => isEnvelopeOf<Commit>(e, lim, "commit", isVote))
      );
    case "state":
      return (
        hasOnly(m, ["type", "checkpoint", "header"]) &&
        isCheckpointProof(m.checkpoint, lim) &&
        isObj(m.header) &&
        hasOnly(m.header, ["seq", "logRoot", "opCount", "time", "stateRoot"]) &&
        isNat(m.header.seq) &&
        isDigest(m.header.logRoot) &&
        isNat(m.header.opCount) &&
        isNat(m.header.time) &&
        isDigest(m.header.stateRoot)
      );
    case "state-fetch":
      return (
        hasOnly(m, ["type", "seq", "paths"]) &&
        isNat(m.seq) &&
        Array.isArray(m.paths) &&
        m.paths.length >= 1 &&
        m.paths.length <= lim.cfg.stateFetchPathsMax &&
        m.paths.every(
          (p) =>
            Array.isArray(p) &&
            p.length === 2 &&
            isPath(p[0]) &&
            isNat(p[1]) &&
            p[1] >= 1 &&
            p[1] <= lim.cfg.stateChunkRecordsMax,
        )
      );
    case "state-chunk":
      return (
        hasOnly(m, ["type", "seq", "path", "chunk"]) &&
        isNat(m.seq) &&
        isPath(m.path) &&
        isObj(m.chunk) &&
        (("split" in m.chunk &&
          hasOnly(m.chunk, ["split"]) &&
          Array.isArray(m.chunk.split) &&
          m.chunk.split.length === 2 &&
          m.chunk.split.every(isDigest)) ||
          ("records" in m.chunk &&
            hasOnly(m.chunk, ["records"]) &&
            Array.isArray(m.chunk.records) &&
            m.chunk.records.length <= lim.cfg.stateChunkRecordsMax &&
            m.chunk.records.every(
              (r) => Array.isArray(r) && r.length === 3 && isStr(r[0], 1024) && isStr(r[1], 64),
            )))
      );
    case "share":
      return hasOnly(m, ["type", "body"]) && isBody(m.body);
    case "certificate":
      return hasOnly(m, ["type", "certificate"]) && isCertificate(m.certificate, lim);
    case "ops":
      return (
        hasOnly(m, ["type", "ops"]) &&
        Array.isArray(m.ops) &&
        m.ops.length <= lim.cfg.relayOpsMax &&
        m.ops.every(isSignedOpShape)
      );
    default:
      return false;
  }
}

/**
 * Check an envelope's shape and bounds. Returns null for anything malformed (the caller counts and
 * drops it). `sizeBytes`, when the transport knows it, is checked against the message limits.
 */
export function parseEnvelope(raw: unknown, lim: ParseLimits, sizeBytes?: number): Envelope | null {
  try {
    if (!isObj(raw) || !hasOnly(raw, ["from", "msg", "sig", "proposal"])) return null;
    if (!isNode(raw.from, lim) || !isStr(raw.sig, 256) || !isObj(raw.msg)) return null;
    const m = raw.msg;
    const bulk = m.type === "state-chunk" || m.type === "view-change" || m.type === "new-view";
    if (sizeBytes !== undefined && sizeBytes > (bulk ? lim.cfg.bulkMessageBytesMax : lim.cfg.messageBytesMax))
      return null;
    if (!isMessage(m, lim)) return null;
    const wantsProposal = m.type === "pre-prepare" || m.type === "committed";
    if (wantsProposal ? !isProposal(raw.proposal, lim) : raw.proposal !== undefined) return null;
    return raw as unknown as Envelope;
  } catch {
    return null; // e.g. a getter or a proxy: hostile, never a crash
  }
}
