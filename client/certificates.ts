/**
 * The client's certificate check: every certificate in every reply must be 2f+1 valid signatures of
 * distinct pinned nodes over one body (`verifyCertificate`, the one implementation nodes use too);
 * a replica's newest certificate never goes backwards for this client; and it is no older than
 * `maxAgeMs` (default 10 s) by its own `body.time` (the cluster's clock, signed by the nodes)
 * against the client's clock, with `clockSkewMs` of slack.
 *
 * Checking and recording are apart: a reply is checked whole (signature, nonce, certificates,
 * proofs) before `observe` records anything, so a reply that fails changes no state.
 *
 * Regression is judged per replica and by the client's own order, never by the reply's signed
 * `time` (a replica, or whoever replays its old replies, can backdate that). A reply carries the
 * request's nonce, so it was made after the request was sent; an honest replica's newest
 * certificate never goes back, so it must be at least the newest one this replica showed in a
 * reply the client had received *before it sent the request* (`mark()` then). A reply to a request
 * sent earlier may arrive later with an older certificate (a long-poll beside a write): no lie. Nor
 * is another replica that is simply behind (after a failover). `highestSeq` is the newest seq seen
 * from any replica.
 */
import { verifyCertificate } from "../shared/certified/certificate.js";
import type { Certificate } from "../shared/certified/types.js";
import type { PinnedCluster } from "./cluster.js";

export type CertificateProblem = {
  reason: "bad_certificate" | "certificate_regressed" | "certificate_stale" | "reply_replayed";
  message: string;
};

/** The SDK's default bound on a reply's newest certificate's age (the cluster certifies every ~2 s). */
export const DEFAULT_MAX_CERTIFICATE_AGE_MS = 10_000;
/** How far the client's clock may be behind the cluster's before an age is counted against a reply. */
export const DEFAULT_CLOCK_SKEW_MS = 1_000;

/** Verified certificates remembered (by their exact JSON), so a repeated one is not re-verified. */
const VERIFIED_CACHE_MAX = 64;

export interface GuardOptions {
  /** Refuse a newest certificate older than this (ms; default 10 000; `Infinity`: no bound). */
  maxAgeMs?: number | undefined;
  /** Slack for the clocks (ms, default 0 here; the client passes `DEFAULT_CLOCK_SKEW_MS`). */
  clockSkewMs?: number | undefined;
  now: () => number;
}

export class CertificateGuard {
  readonly #cluster: PinnedCluster;
  readonly #maxAgeMs: number;
  readonly #skewMs: number;
  readonly #now: () => number;
  readonly #verified = new Map<string, true>();
  /** Per replica: the newest seq it showed, and the receive mark of the first reply that showed it. */
  readonly #seqByReplica = new Map<string, { seq: number; at: number }>();
  /** Replies recorded so far (the client's receive order). */
  #received = 0;
  #highest = 0;

  constructor(cluster: PinnedCluster, opts: GuardOptions) {
    this.#cluster = cluster;
    this.#maxAgeMs = opts.maxAgeMs ?? DEFAULT_MAX_CERTIFICATE_AGE_MS;
    this.#skewMs = opts.clockSkewMs ?? 0;
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

  /** The receive mark now: take it when sending a request, pass it to `check` for its reply. */
  mark(): number {
    return this.#received;
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
   * Check a reply's newest certificate (`null`: the replica holds none yet) from `replica`, for a
   * request sent at receive mark `sent` (undefined: every reply recorded came before it).
   * `bound`: the reply carries the request's nonce. An unbound one (a cached certified read) that
   * goes back may be an old reply replayed, so it is `reply_replayed` rather than the replica's
   * `certificate_regressed`.
   */
  async check(
    cert: unknown,
    replica: string,
    sent?: number,
    bound = true,
  ): Promise<CertificateProblem | null> {
    const rec = this.#seqByReplica.get(replica);
    const known = rec !== undefined && (sent === undefined || rec.at <= sent) ? rec.seq : 0;
    const back = (now: string): CertificateProblem => ({
      reason: bound ? "certificate_regressed" : "reply_replayed",
      message: `replica '${replica}' showed certificate seq ${known} before and now ${now}${bound ? "" : " (a reply without this request's nonce)"}`,
    });
    if (cert === null) return known > 0 ? back("none") : null;
    const problem = await this.verify(cert);
    if (problem) return problem;
    const body = (cert as Certificate).body;
    if (body.seq < known) return back(String(body.seq));
    if (this.#maxAgeMs !== Infinity) {
      const age = this.#now() - body.time;
      if (age > this.#maxAgeMs + this.#skewMs)
        return {
          reason: "certificate_stale",
          message: `certificate seq ${body.seq} is ${age} ms old (max ${this.#maxAgeMs} ms)`,
        };
    }
    return null;
  }

  /** Record a checked reply's newest certificate, in the order replies are received. */
  observe(cert: Certificate | null, replica: string): void {
    this.#received++;
    if (cert === null) return;
    const seq = cert.body.seq;
    const rec = this.#seqByReplica.get(replica);
    if (!rec || seq > rec.seq) this.#seqByReplica.set(replica, { seq, at: this.#received });
    if (seq > this.#highest) this.#highest = seq;
  }
}
