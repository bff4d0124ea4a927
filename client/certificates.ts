/**
 * The client's certificate check: every certificate in every reply must be 2f+1 valid signatures of
 * distinct pinned nodes over one body (`verifyCertificate`, the one implementation nodes use too);
 * a replica's newest certificate never goes backwards for this client; optionally it is no older
 * than `maxCertificateAgeMs` by its own `time`.
 *
 * Checking and recording are apart: a reply is checked whole (signature, certificates, proofs)
 * before `observe` records anything, so a reply that fails changes no state.
 *
 * Regression is judged per replica and by the replica's own reply time: a replica that showed seq 9
 * in a reply signed at t and later (after t) signs a reply with seq 7 contradicts itself. A reply
 * signed before t that arrives late (concurrent requests: a long-poll and a write) is not a
 * regression, nor is another replica that is simply behind (after a failover): it holds an older,
 * not a false, certificate. `highestSeq` is the newest seq seen from any replica.
 */
import { verifyCertificate } from "../shared/certified/certificate.js";
import type { Certificate } from "../shared/certified/types.js";
import type { PinnedCluster } from "./cluster.js";

export type CertificateProblem = {
  reason: "bad_certificate" | "certificate_regressed" | "certificate_stale";
  message: string;
};

/** Verified certificates remembered (by their exact JSON), so a repeated one is not re-verified. */
const VERIFIED_CACHE_MAX = 64;

export class CertificateGuard {
  readonly #cluster: PinnedCluster;
  readonly #maxAgeMs: number | undefined;
  readonly #now: () => number;
  readonly #verified = new Map<string, true>();
  /** Per replica: the newest seq it showed, and the earliest reply time at which it showed it. */
  readonly #seqByReplica = new Map<string, { seq: number; time: number }>();
  #highest = 0;

  constructor(cluster: PinnedCluster, opts: { maxAgeMs?: number | undefined; now: () => number }) {
    this.#cluster = cluster;
    this.#maxAgeMs = opts.maxAgeMs;
    this.#now = opts.now;
  }

  /** The newest certified seq this client has accepted from any replica (0: none yet). */
  get highestSeq(): number {
    return this.#highest;
  }

  /** The newest seq accepted from `replica` (0: none yet). */
  seqOf(replica: string): number {
    return this.#seqByReplica.get(replica)?.seq ?? 0;
  }

  /** Is `cert` a certificate of the pinned cluster? (For a batch's certificate: no order, no age.) */
  async verify(cert: unknown): Promise<CertificateProblem | null> {
    // Keyed by the exact JSON: a copy with any field changed or added is checked afresh.
    let id: string;
    try {
      id = JSON.stringify(cert) ?? "";
    } catch {
      id = "";
    }
    if (id !== "" && this.#verified.has(id)) return null;
    const verdict = await verifyCertificate(cert as Certificate, this.#cluster.config);
    if (!verdict.ok)
      return {
        reason: "bad_certificate",
        message: `certificate refused: ${verdict.reason}${verdict.detail ? ` (${verdict.detail})` : ""}`,
      };
    if (this.#verified.size >= VERIFIED_CACHE_MAX)
      this.#verified.delete(this.#verified.keys().next().value as string);
    if (id !== "") this.#verified.set(id, true);
    return null;
  }

  /**
   * Check a reply's newest certificate (`null`: the replica holds none yet) from `replica`, in a
   * reply the replica signed at `replyTime` (its clock).
   */
  async check(cert: unknown, replica: string, replyTime: unknown): Promise<CertificateProblem | null> {
    const rec = this.#seqByReplica.get(replica);
    // Shown in a reply signed strictly after the one that showed the newer seq (no time: assume after).
    const after = rec !== undefined && (typeof replyTime !== "number" || replyTime > rec.time);
    const known = after ? rec.seq : 0;
    if (cert === null) {
      return known > 0
        ? {
            reason: "certificate_regressed",
            message: `replica '${replica}' showed certificate seq ${known} before and now none`,
          }
        : null;
    }
    const problem = await this.verify(cert);
    if (problem) return problem;
    const body = (cert as Certificate).body;
    if (body.seq < known)
      return {
        reason: "certificate_regressed",
        message: `replica '${replica}' showed certificate seq ${known} before and now ${body.seq}`,
      };
    if (this.#maxAgeMs !== undefined) {
      const age = this.#now() - body.time;
      if (age > this.#maxAgeMs)
        return {
          reason: "certificate_stale",
          message: `certificate seq ${body.seq} is ${age} ms old (max ${this.#maxAgeMs} ms)`,
        };
    }
    return null;
  }

  /** Record a checked reply's newest certificate. */
  observe(cert: Certificate | null, replica: string, replyTime: unknown): void {
    if (cert === null) return;
    const seq = cert.body.seq;
    const time = typeof replyTime === "number" ? replyTime : Infinity;
    const rec = this.#seqByReplica.get(replica);
    if (!rec || seq > rec.seq) this.#seqByReplica.set(replica, { seq, time });
    else if (seq === rec.seq && time < rec.time) rec.time = time;
    if (seq > this.#highest) this.#highest = seq;
  }
}
