/**
 * `POST /v1/evidence` and the Directory, as the product decides them: the one verifier
 * (shared/evidence.ts `verifyEvidence`, against the pinned cluster and replica keys), the verdict
 * turned into the Directory's input and decided (shared/quarantine.ts `recordInputOf`,
 * `decideRecord`), the outcome kept. What is MODELLED: only the Directory's tables (two maps here).
 */
import { canonicalJson } from "../../../shared/canonical.js";
import { verifyEvidence, type EvidencePins, type EvidenceVerdict } from "../../../shared/evidence.js";
import { decideRecord, recordInputOf } from "../../../shared/quarantine.js";
import type { QuarantineRow, RecordOutcome } from "../../../shared/rpc/directory.js";

export type Submitted =
  | { ok: true; verdict: Extract<EvidenceVerdict, { ok: true }>; outcome: RecordOutcome }
  | { ok: false; reason: string };

export class Quarantines {
  /** digest → when it was accepted. */
  private readonly evidence = new Map<string, number>();
  private readonly quarantined = new Map<string, QuarantineRow>();
  private clusterStored = 0;

  constructor(private readonly pins: EvidencePins) {}

  /** The replicas quarantined now. */
  get replicas(): string[] {
    return [...this.quarantined.keys()];
  }

  /** Submit evidence (as its JSON travels: the server parses what the client sent). */
  async submit(evidence: unknown, at: number): Promise<Submitted> {
    const verdict = await verifyEvidence(JSON.parse(JSON.stringify(evidence)), this.pins);
    if (!verdict.ok) return { ok: false, reason: verdict.reason };
    const input = recordInputOf(verdict, canonicalJson(verdict.evidence as never));
    const outcome = decideRecord(
      input,
      {
        seenAt: this.evidence.get(input.digest),
        current: "replica" in input ? (this.quarantined.get(input.replica) ?? null) : null,
        clusterStored: this.clusterStored,
      },
      at,
    );
    if (outcome.outcome === "quarantined") {
      this.evidence.set(input.digest, at);
      this.quarantined.set(outcome.quarantine.replica, outcome.quarantine);
    }
    if (outcome.outcome === "recorded") {
      this.evidence.set(input.digest, at);
      this.clusterStored++;
    }
    return { ok: true, verdict, outcome };
  }
}
