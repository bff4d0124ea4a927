/**
 * What the Byzantine replica tells reading clients, beyond what it replicates (lying-replica.ts):
 * every reply lie of the dev faults (platform/dev-faults/replica-lies.ts `lie`: wrong tentative
 * values, wrong certified values under the real proof, a forged certificate; `ReplayedReads`' old
 * signed reply served again), and what a key holder can do besides: a proof that is not the key's,
 * the key's value and proof from an older state under the newest certificate,
 * an older real certificate presented as its newest, a certified result for an op it never saw,
 * different certified values for one key to different clients (equivocation), and a provable lie
 * in a reply naming an honest replica, signed with its own key (framing).
 *
 * Each lie says whether a certificate contradicts it (`provable`: the SDK must refuse it and its
 * evidence must quarantine the liar) or not (a tentative value, an old certificate, an old reply:
 * refused or taken, but no third party can prove them, so no evidence is owed).
 */
import { lie as devLie, wrongValue } from "../../../platform/dev-faults/replica-lies.js";
import type { Certificate } from "../../../shared/certified/types.js";
import { opIdOf } from "../../../shared/ops.js";
import type { CertifiedResult, CertifiedValue } from "../../../shared/replies.js";
import type { Prng } from "../prng.js";
import type { CertView } from "./cert-view.js";
import type { ReadRequest, UnsignedReply } from "./replies.js";
import type { SimReplica } from "./replica.js";

export const REPLY_LIES = [
  "tentative",
  "certified-value",
  "forged-certificate",
  "replay-old",
  "bad-proof",
  "old-proof",
  "old-certificate",
  "unseen-op",
  "equivocate",
  "frame",
] as const;
export type ReplyLie = (typeof REPLY_LIES)[number];

export interface LyingReply {
  lie: ReplyLie;
  /** The reply to sign (unsigned), or a signed one kept from before (`replay-old`). */
  body: UnsignedReply | null;
  signed?: unknown;
  /** A certificate or proof in the reply contradicts it. */
  provable: boolean;
}

const flipHex = (h: string): string => (h[0] === "0" ? "1" : "0") + h.slice(1);

export class ReplyLiar {
  /** Old signed replies, by request (what `replay-old` serves). */
  private readonly kept = new Map<string, unknown>();
  /** A real certified result it served (what `unseen-op` dresses up as another op's). */
  private aResult: CertifiedResult | null = null;

  constructor(
    private readonly rng: Prng,
    readonly me: SimReplica,
    private readonly view: CertView,
    /** The lies it tells (a test may narrow them to one). */
    private readonly lies: readonly ReplyLie[] = REPLY_LIES,
  ) {}

  keep(req: ReadRequest, signed: unknown): void {
    if (!this.kept.has(requestKey(req))) this.kept.set(requestKey(req), signed);
  }

  /** A lie about `honest` (this replica's true reply to `req`), or null: no lie fits. */
  async lie(req: ReadRequest, honest: UnsignedReply | null, client: number): Promise<LyingReply | null> {
    if (honest?.kind === "op-status" && honest.certified) this.aResult = honest.certified;
    // the lies in a random rotation, the first that fits this request (rare fits get their turn)
    const first = this.rng.int(0, this.lies.length - 1);
    for (let i = 0; i < this.lies.length; i++) {
      const l = await this.tell(this.lies[(first + i) % this.lies.length]!, req, honest, client);
      if (l) return l;
    }
    return null;
  }

  private async tell(
    kind: ReplyLie,
    req: ReadRequest,
    honest: UnsignedReply | null,
    client: number,
  ): Promise<LyingReply | null> {
    const certified = certifiedOf(honest);
    switch (kind) {
      case "tentative":
        return honest && honest.kind !== "certified-read"
          ? { lie: kind, body: devLie({ lieTentative: true }, honest), provable: false }
          : null;
      case "certified-value":
        return honest && certified
          ? { lie: kind, body: devLie({ lieCertified: true }, honest), provable: true }
          : null;
      case "forged-certificate":
        return honest?.certificate
          ? { lie: kind, body: devLie({ forgeCertificate: true }, honest), provable: true }
          : null;
      case "replay-old": {
        const old = this.kept.get(requestKey(req));
        return old ? { lie: kind, body: null, signed: old, provable: false } : null;
      }
      case "bad-proof":
        return honest && certified ? { lie: kind, body: withBadProof(honest), provable: true } : null;
      case "old-proof": {
        // the value and proof this replica served before, claimed under its newest certificate
        const old = this.kept.get(requestKey(req)) as { certified?: CertifiedValue | null } | undefined;
        if (!old?.certified || !honest || honest.kind === "op-status" || !honest.certified) return null;
        const { seq, stateRoot } = honest.certified;
        const certified = { ...old.certified, seq, stateRoot };
        return { lie: kind, body: { ...honest, certified }, provable: old.certified.stateRoot !== stateRoot };
      }
      case "old-certificate":
        return this.oldCertificate(req, honest);
      case "unseen-op":
        return this.unseenOp(req, honest);
      case "equivocate":
        // one client is told the truth, the other a wrong certified value: the same request, two answers
        return honest && certified && client % 2 === 1
          ? { lie: kind, body: devLie({ lieCertified: true }, honest), provable: true }
          : null;
      case "frame":
        return honest?.certificate
          ? { lie: kind, body: devLie({ forgeCertificate: true }, honest), provable: false }
          : null;
    }
  }

  /**
   * An older real certificate as its newest: an earlier answer to this request (its certificate and
   * certified value, consistent with each other) told again as new, or a read with an older kept
   * certificate and nothing certified claimed (no proof to fail).
   */
  private async oldCertificate(req: ReadRequest, honest: UnsignedReply | null): Promise<LyingReply | null> {
    const f = this.me.follower;
    const now = honest?.certificate?.body.seq;
    if (!f || !honest || now === undefined || honest.kind === "op-status") return null;
    const kept = this.kept.get(requestKey(req)) as (UnsignedReply & { sig?: string }) | undefined;
    if (kept?.certificate && kept.certificate.body.seq < now) {
      const { sig: _sig, ...body } = kept;
      return { lie: "old-certificate", body, provable: false };
    }
    if (honest.kind !== "read") return null;
    const older = f.certificateAt(now - this.rng.int(1, 5));
    if (!older) return null;
    const certificate = await this.view.of(older);
    return { lie: "old-certificate", body: { ...honest, certificate, certified: null }, provable: false };
  }

  private async anyCertifiedResult(): Promise<CertifiedResult | null> {
    return (this.aResult = await certifiedOwnResult(this.me, this.view));
  }

  /** A certified result for an op it never saw certified: another op's real result, renamed. */
  private async unseenOp(req: ReadRequest, honest: UnsignedReply | null): Promise<LyingReply | null> {
    const base = this.aResult ?? (await this.anyCertifiedResult());
    // an op it never saw (no honest answer), or one it holds but has not seen certified
    const unseen = honest === null || (honest.kind === "op-status" && honest.certified === null);
    if (req.kind !== "op-status" || !unseen || !base || !this.me.follower) return null;
    const f = this.me.follower;
    const claimed = { ...base.result, opId: req.opId, value: wrongValue(base.result.value) };
    const body: UnsignedReply = {
      kind: "op-status",
      opId: req.opId,
      tentative: null,
      certified: { ...base, result: claimed },
      pending: false,
      replica: this.me.name,
      certificate: base.certificate,
      certification: f.certification(),
      time: 0,
    };
    return { lie: "unseen-op", body, provable: true };
  }
}

/** A real certified result of one of `r`'s own ops, if any is certified there yet. */
async function certifiedOwnResult(r: SimReplica, view: CertView): Promise<CertifiedResult | null> {
  for (const e of r.store.ownEntries(0, r.store.ownHead(), 20)) {
    const c = r.follower?.certifiedResult(opIdOf(e.op));
    if (c) return { ...c, certificate: await view.of(c.certificate) };
  }
  return null;
}

const requestKey = (req: ReadRequest): string =>
  `${req.kind}:${req.kind === "op-status" ? req.opId : req.key}`;

/** The certified value or result a reply claims (null: it claims none). */
function certifiedOf(r: UnsignedReply | null): unknown {
  if (!r) return null;
  return r.certified ?? null;
}

/** The reply's proof no longer the key's (one sibling changed) or the result's (one path step). */
function withBadProof(r: UnsignedReply): UnsignedReply {
  if (r.kind === "op-status") {
    const c = r.certified!;
    const path = c.proof.path.length ? [flipHex(c.proof.path[0]!), ...c.proof.path.slice(1)] : c.proof.path;
    return {
      ...r,
      certified: { ...c, proof: { ...c.proof, path, index: c.proof.index + (path.length ? 0 : 1) } },
    };
  }
  const c = r.certified!;
  const siblings = [...c.proof.siblings];
  const i = siblings.findIndex((s) => s !== null);
  if (i >= 0) siblings[i] = flipHex(siblings[i]!);
  else siblings.push("0".repeat(64));
  return { ...r, certified: { ...c, proof: { ...c.proof, siblings } } } as UnsignedReply;
}

export type { Certificate };
