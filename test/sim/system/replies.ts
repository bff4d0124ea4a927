/**
 * What a simulated replica answers a reading client, MODELLED after durable-objects/edge-replica.ts
 * (`read`, `certifiedRead`, `opStatus`): the reply built from its tentative store and its certified
 * follower (`certifiedRead` / `certifiedResult`: the product's Merkle proofs), signed with the
 * replica's own Ed25519 key over the product's reply encoding (shared/replies.ts `signReply`), the
 * request's nonce signed back. Certificates travel as the SDK sees them (cert-view.ts). A refusal
 * (nothing certified to prove against, an op it holds nothing of) is `null`: the client moves on.
 */
import type { Certificate } from "../../../shared/certified/types.js";
import { devKeyPair, type KeyPair } from "../../../shared/crypto/keys.js";
import { valueOf } from "../../../shared/materialize.js";
import {
  nonceMember,
  signReply,
  type CertifiedReadReply,
  type OpStatusReply,
  type ReadReply,
  type TentativeResult,
  type Unsigned,
} from "../../../shared/replies.js";
import type { CertView } from "./cert-view.js";
import type { SimReplica } from "./replica.js";

/** What a reading client asks (GET /v1/kv/:key, ?view=certified, GET /v1/ops/:id). */
export type ReadRequest =
  | { kind: "read"; key: string }
  | { kind: "certified-read"; key: string }
  | { kind: "op-status"; opId: string };

export type UnsignedReply = Unsigned<ReadReply> | Unsigned<CertifiedReadReply> | Unsigned<OpStatusReply>;

/** The replicas' reply keys (the ones a client pins at connect, `GET /v1/replicas`). */
export class ReplyKeys {
  private constructor(readonly keys: readonly KeyPair[]) {}

  static async create(replicas: number): Promise<ReplyKeys> {
    const keys: KeyPair[] = [];
    for (let i = 0; i < replicas; i++) keys.push(await devKeyPair("sim-system-replica", `r${i}`));
    return new ReplyKeys(keys);
  }

  /** name → public key, as the SDK pins them. */
  pinned(): Map<string, string> {
    return new Map(this.keys.map((k, i) => [`r${i}`, k.publicKey]));
  }

  /** `body` signed by replica `signer` (a liar may sign a reply naming another replica). */
  sign<T extends UnsignedReply>(signer: number, body: T): Promise<unknown> {
    return signReply(this.keys[signer]!.secret, body as never);
  }
}

/** The honest reply of `r` to `req` (unsigned), or null for a refusal. */
export async function honestReply(
  r: SimReplica,
  req: ReadRequest,
  nonce: string,
  time: number,
  view: CertView,
): Promise<UnsignedReply | null> {
  const f = r.follower;
  if (!f) return null;
  const certificate = await view.of(f.latestCertificate());
  const common = { replica: r.name, time, ...nonceMember(nonce) };
  if (req.kind === "read") {
    const rec = r.store.getRecord(req.key);
    return {
      kind: "read",
      key: req.key,
      type: rec?.type ?? null,
      value: valueOf(rec),
      certificate,
      certification: f.certification(),
      certified: f.certifiedRead(req.key),
      ...common,
    };
  }
  if (req.kind === "certified-read") {
    const certified = f.certifiedRead(req.key);
    if (!certificate || !certified) return null;
    return { kind: "certified-read", key: req.key, certificate, certified, ...common };
  }
  const stored = r.store.getOp(req.opId);
  const c = f.certifiedResult(req.opId);
  if (!stored && !c) return null;
  const tentative: TentativeResult | null = stored
    ? { status: stored.status, value: stored.value, ...(stored.reason ? { reason: stored.reason } : {}) }
    : null;
  const certified = c && { ...c, certificate: (await view.of(c.certificate)) as Certificate };
  return {
    kind: "op-status",
    opId: req.opId,
    tentative,
    certified,
    pending: certified === null,
    certificate,
    certification: f.certification(),
    ...common,
  };
}
