/**
 * What the Byzantine PBFT node posts to replicas on the certificates channel, beyond what its core
 * does (test/sim/byzantine.ts): lies a node's key allows, built from real certified batches (public:
 * every replica receives them). It cannot forge a quorum's certificate; it can swap or drop the ops
 * under a real certificate, change a signed body, strip signatures, replay old batches, or send junk.
 * A replica must refuse all of them without diverging (its follower's checks), and the checks after
 * every step say whether it did.
 */
import type { Certificate } from "../../../shared/certified/types.js";
import type { SignedOp } from "../../../shared/ops.js";
import { certifiedBatchText, type CertifiedBatchMessage } from "../../../shared/wire/certified-batch.js";
import type { Prng } from "../prng.js";

export const LIES = ["swap-ops", "drop-op", "body-changed", "few-sigs", "replay", "junk"] as const;
export type Lie = (typeof LIES)[number];

const flipHex = (h: string): string => (h[0] === "0" ? "1" : "0") + h.slice(1);

/** One lie built from `real` (and `other`, another real batch); its name and wire text. */
export function lie(
  rng: Prng,
  real: CertifiedBatchMessage,
  other: CertifiedBatchMessage,
): { lie: Lie; text: string } {
  const kind = rng.pick(LIES);
  const cert: Certificate = real.certificate;
  const text = (ops: SignedOp[], certificate: Certificate = cert) => certifiedBatchText({ certificate, ops });
  switch (kind) {
    case "swap-ops":
      return { lie: kind, text: text(other.ops) };
    case "drop-op":
      return { lie: kind, text: text(real.ops.slice(1)) };
    case "body-changed":
      return {
        lie: kind,
        text: text(real.ops, { ...cert, body: { ...cert.body, stateRoot: flipHex(cert.body.stateRoot) } }),
      };
    case "few-sigs":
      return { lie: kind, text: text(real.ops, { ...cert, sigs: cert.sigs.slice(0, 1) }) };
    case "replay":
      return { lie: kind, text: text(other.ops, other.certificate) };
    case "junk":
      return { lie: kind, text: rng.chance(0.5) ? "{" : JSON.stringify({ certificate: null, ops: [] }) };
  }
}
