/**
 * The one place signatures are made and checked, between the shell and the core. Outgoing
 * messages are signed as this node (`seal`); incoming ones are parsed and every signature in them
 * checked, nested ones and client ops included (`open`), before the core sees them. Each client op
 * is verified once per node (a bounded cache), whether it arrives submitted or inside a batch.
 */
import { toHex, utf8 } from "../bytes.js";
import { canonicalBytes, DOMAIN } from "../canonical.js";
import { sha256 } from "../hash.js";
import { certificateBytes, verifyCertificateWith } from "../certified/certificate.js";
import type { Certificate, ClusterConfig } from "../certified/types.js";
import { opIdOf, parseOp, sameOp, type SignedOp } from "../ops.js";
import { DEFAULT_PBFT_CONFIG, type PbftConfig } from "./config.js";
import type { Outgoing } from "./effects.js";
import { SELF_CERTIFYING, type Envelope, type Message, type Proposal, type ViewChange } from "./messages.js";
import type { SignatureScheme } from "./signature-scheme.js";
import { count, type Stats } from "./stats.js";
import { parseEnvelope, type ParseLimits } from "./validate.js";

const SIG_CACHE_MAX = 20_000;

/**
 * How many verified ops a node remembers: every op it can hold at once, pooled or in a batch of the
 * log window (`poolSizeMax + logWindowSeqs × batchSizeMax`, 16,400 by default). An op evicted
 * earlier is only verified again when it comes back. Memory, not correctness: at ~0.7 KB a
 * remembered op, a bound of 200,000 (before) filled ~140 MB of JS heap per node after 200,000 ops,
 * more than a deployed isolate's 128 MB.
 */
export const opCacheMax = (cfg: Pick<PbftConfig, "poolSizeMax" | "logWindowSeqs" | "batchSizeMax">): number =>
  cfg.poolSizeMax + cfg.logWindowSeqs * cfg.batchSizeMax;

/** The bytes an envelope's signature covers. A share is signed exactly as a certificate signature. */
export function signedBytes(from: number, msg: Message): Uint8Array {
  const known = signedBytesOf.get(msg);
  if (known !== undefined && known.from === from) return known.bytes;
  const bytes =
    msg.type === "share" ? certificateBytes(msg.body) : canonicalBytes(DOMAIN.pbft, { from, msg });
  signedBytesOf.set(msg, { from, bytes });
  return bytes;
}

// The sender encodes a message to sign it and each receiver to verify it; where they share the
// object (one process: the simulator's loopback, the core benchmark) it is encoded once. Sound
// because a message is never changed once built; a copy (anything from the network) is a new key.
const signedBytesOf = new WeakMap<Message, { from: number; bytes: Uint8Array }>();

export { certificateBytes };

/**
 * Why `PbftBoundary.open` dropped a message. Signatures: the sender's own on the envelope
 * (`bad_signature`: forged, tampered, or sent under another node's name), one nested inside it
 * (votes in a proof, a VIEW-CHANGE in a NEW-VIEW), a client op's (`bad_op`), a certificate's.
 */
export type SignatureDrop = "bad_signature" | "bad_nested_signature" | "bad_op" | "bad_certificate";
export type OpenDrop =
  /** Fails the wire shape and bounds check (`parseEnvelope`): hostile or from a broken peer. */
  | "malformed"
  /** Larger than the message limit for its type (over the largest limit: not parsed at all). */
  | "too_large"
  /** Well-formed, but the core no longer needs it (`isRedundant`): not verified. A normal event. */
  | "redundant"
  | SignatureDrop;
/** Every reason but `redundant`: the messages refused as invalid. */
export const OPEN_REJECTIONS: readonly OpenDrop[] = [
  "malformed",
  "too_large",
  "bad_signature",
  "bad_nested_signature",
  "bad_op",
  "bad_certificate",
];
export type OpenVerdict = { ok: true; envelope: Envelope } | { ok: false; reason: OpenDrop };

export class PbftBoundary {
  readonly stats: Stats = {};
  private readonly limits: ParseLimits;
  /** Ops verified here, by op id: an op arriving again (relayed, inside a PRE-PREPARE) is not re-checked. */
  private readonly verifiedOps = new Map<string, SignedOp>();
  private readonly opCacheMax: number;

  constructor(
    readonly cluster: ClusterConfig,
    readonly me: number,
    readonly scheme: SignatureScheme,
    config?: Partial<PbftConfig>,
  ) {
    this.limits = { n: cluster.nodes.length, f: cluster.f, cfg: { ...DEFAULT_PBFT_CONFIG, ...config } };
    this.opCacheMax = opCacheMax(this.limits.cfg);
  }

  /** How many verified ops are remembered now (for the bound's test). */
  get verifiedOpsHeld(): number {
    return this.verifiedOps.size;
  }

  /** Turn an outgoing effect into the envelope to deliver (signed as this node unless forwarded). */
  async seal(out: Outgoing): Promise<Envelope> {
    if (out.forward) return out.forward;
    const msg = out.msg!;
    const sig = SELF_CERTIFYING.has(msg.type) ? "" : await this.scheme.sign(signedBytes(this.me, msg));
    const env: Envelope = { from: this.me, msg, sig };
    if (out.proposal) env.proposal = out.proposal;
    return env;
  }

  /**
   * Parse and verify an envelope from the network: the envelope, or why it was dropped (counted in
   * `stats` as `drop.<reason>`). When the shell passes `redundant` (the replica's `isRedundant`), a
   * well-formed message the core no longer needs is dropped before its signatures are checked.
   */
  async open(raw: unknown, sizeBytes?: number, redundant?: (env: Envelope) => boolean): Promise<OpenVerdict> {
    const { messageBytesMax, bulkMessageBytesMax } = this.limits.cfg;
    // Over every limit: refused unread, as cheaply as parseEnvelope would.
    if (sizeBytes !== undefined && sizeBytes > Math.max(messageBytesMax, bulkMessageBytesMax))
      return this.dropped("too_large");
    const env = parseEnvelope(raw, this.limits, sizeBytes);
    if (!env) {
      // Over the limit of its type only if it parses without the size. Parsing it again costs no
      // more than an honest bulk message (it is within the largest limit).
      const tooLarge =
        sizeBytes !== undefined && sizeBytes > messageBytesMax && parseEnvelope(raw, this.limits) !== null;
      return this.dropped(tooLarge ? "too_large" : "malformed");
    }
    // What the core would ignore anyway (`PbftReplica.isRedundant`) is not worth a verification.
    if (redundant?.(env)) return this.dropped("redundant");
    const problem = await this.signatureProblem(env);
    if (problem) return this.dropped(problem);
    return { ok: true, envelope: env };
  }

  private dropped(reason: OpenDrop): OpenVerdict {
    count(this.stats, `drop.${reason}`);
    return { ok: false, reason };
  }

  /** Validate and verify a client op (shape, arguments, signature); null if any check fails. */
  async admitOp(raw: unknown): Promise<SignedOp | null> {
    let op: SignedOp;
    try {
      op = parseOp(raw);
    } catch {
      return (count(this.stats, "drop.malformed_op"), null);
    }
    if (this.isVerified(op)) return op;
    if (!(await this.verifyOp(op))) return (count(this.stats, "drop.bad_op_signature"), null);
    return op;
  }

  /** Was this op (every field of it) verified here before? */
  private isVerified(op: SignedOp): boolean {
    const known = this.verifiedOps.get(opIdOf(op));
    return known !== undefined && (known === op || sameOp(known, op));
  }

  private async checkOp(op: SignedOp): Promise<boolean> {
    if (this.isVerified(op)) return true;
    let parsed: SignedOp;
    try {
      parsed = parseOp(op);
    } catch {
      return false;
    }
    return this.verifyOp(parsed);
  }

  /** Verify a parsed op's signature and remember it (bounded: the oldest is forgotten first). */
  private async verifyOp(op: SignedOp): Promise<boolean> {
    if (!(await this.scheme.verifyOp(op))) return false;
    count(this.stats, "op_verified");
    const id = opIdOf(op);
    if (this.verifiedOps.has(id)) this.verifiedOps.delete(id);
    else if (this.verifiedOps.size >= this.opCacheMax)
      this.verifiedOps.delete(this.verifiedOps.keys().next().value as string);
    this.verifiedOps.set(id, op);
    return true;
  }

  /** A proposal's ops, each signed by its client: "bad_op" if one is not. */
  private async proposalProblem(p: Proposal | undefined): Promise<"bad_op" | null> {
    if (!p) return null;
    for (const op of p.ops) if (!(await this.checkOp(op))) return "bad_op";
    return null;
  }

  /**
   * Signatures already verified, keyed by sender, signature and the message's JSON text (hashed when
   * long): the same vote arrives again and again nested in VIEW-CHANGEs and NEW-VIEWs. Sound because
   * equal JSON text is an equal message, so equal canonical bytes. (`remember = false`: verify
   * without the cache, for a message seen once.)
   */
  private readonly verifiedSigs = new Map<string, true>();

  private async checkSig(env: Envelope, remember = true): Promise<boolean> {
    if (!remember) return this.verifySig(env);
    const text = JSON.stringify(env.msg);
    const key = `${env.from}|${env.sig}|${text.length > 256 ? toHex(sha256(utf8(text))) : text}`;
    if (this.verifiedSigs.has(key)) return true;
    if (!(await this.verifySig(env))) return false;
    if (this.verifiedSigs.size >= SIG_CACHE_MAX)
      this.verifiedSigs.delete(this.verifiedSigs.keys().next().value as string);
    this.verifiedSigs.set(key, true);
    return true;
  }

  private async verifySig(env: Envelope): Promise<boolean> {
    try {
      return await this.scheme.verify(env.from, signedBytes(env.from, env.msg), env.sig);
    } catch {
      return false;
    }
  }

  /**
   * A VIEW-CHANGE's signatures: its own (`bad_signature` when it is the envelope opened, nested in a
   * NEW-VIEW `bad_nested_signature`), its checkpoint proof's and prepared certificates' votes, and
   * the ops of their proposals.
   */
  private async viewChangeProblem(env: Envelope<ViewChange>, nested: boolean): Promise<SignatureDrop | null> {
    if (!(await this.checkSig(env))) return nested ? "bad_nested_signature" : "bad_signature";
    for (const e of env.msg.checkpoint.proof) if (!(await this.checkSig(e))) return "bad_nested_signature";
    for (const c of env.msg.prepared) {
      for (const e of c.prepares) if (!(await this.checkSig(e))) return "bad_nested_signature";
      const problem = await this.proposalProblem(c.proposal);
      if (problem) return problem;
    }
    return null;
  }

  /** Every signature the core will rely on: true if all are valid. */
  async verifyEnvelope(env: Envelope): Promise<boolean> {
    return (await this.signatureProblem(env)) === null;
  }

  /** Which signature the core would rely on is not valid, or null if every one is. */
  private async signatureProblem(env: Envelope): Promise<SignatureDrop | null> {
    const m = env.msg;
    switch (m.type) {
      case "view-change":
        return this.viewChangeProblem(env as Envelope<ViewChange>, false);
      case "new-view":
        if (!(await this.checkSig(env))) return "bad_signature";
        for (const vc of m.viewChanges) {
          const problem = await this.viewChangeProblem(vc, true);
          if (problem) return problem;
        }
        return null;
      case "committed":
        for (const e of m.commits) if (!(await this.checkSig(e))) return "bad_nested_signature";
        return this.proposalProblem(env.proposal);
      case "state":
        for (const e of m.checkpoint.proof) if (!(await this.checkSig(e))) return "bad_nested_signature";
        return null;
      case "state-chunk":
        return null; // checked by the core against the hash its checkpoint committed to for its path
      case "certificate":
        return (await this.checkCertificate(m.certificate)) ? null : "bad_certificate";
      case "ops":
        for (const op of m.ops) if (!(await this.checkOp(op))) return "bad_op";
        return null;
      default:
        // A normal-case message is checked once when it arrives: not worth remembering (the
        // cache is for votes that come back nested in VIEW-CHANGEs and NEW-VIEWs).
        if (!(await this.checkSig(env, false))) return "bad_signature";
        return this.proposalProblem(env.proposal);
    }
  }

  /** The client's check (`verifyCertificateWith`), with this node's signature scheme. */
  async checkCertificate(cert: Certificate): Promise<boolean> {
    const verdict = await verifyCertificateWith(cert, this.cluster, (node, bytes, sig) =>
      this.scheme.verify(node, bytes, sig).catch(() => false),
    );
    return verdict.ok;
  }
}
