/**
 * Each op's certified outcome. One worker per client long-polls `GET /v1/ops/:id?wait=certified`
 * for its oldest uncertified op (ops are certified in about the order they were sent, so the next
 * one usually answers at once), re-polling on `pending`. An op not certified within
 * `certifyDeadlineMs` at its replica, or whose replica fails (5xx, unreachable) or lies
 * (`ReplyVerificationError`), is re-sent — the same signed bytes, so the same op id, which the
 * servers dedupe — through the next replica of the pinned directory, and polled there.
 */
import { canonicalJson } from "../shared/canonical.js";
import type { ResultProof } from "../shared/certified/proofs.js";
import type { Certificate, OpResult } from "../shared/certified/types.js";
import type { TypeName } from "../shared/datatypes/index.js";
import { opIdOf, type SignedOp } from "../shared/ops.js";
import type { OpReply, OpStatusReply, TentativeResult } from "../shared/replies.js";
import { AspecClientError } from "./errors.js";

/** The longest wait the server takes (`GET /v1/ops/:id?timeoutMs=`). */
export const OP_WAIT_MAX_MS = 30_000;

/** An op's verified certified outcome. */
export interface CertifiedOutcome {
  opId: string;
  key: string;
  type: TypeName;
  /** The certified seq of the op's batch. */
  seq: number;
  /** The result in the certified order, proven against `certificate.body.resultsRoot`. */
  result: OpResult;
  proof: ResultProof;
  certificate: Certificate;
  /** What the replica said at once. */
  tentative: TentativeResult;
  /** Status or value differ between `tentative` and `result` (a `rollback` event was emitted). */
  rolledBack: boolean;
  /** The replica whose signed reply proved it. */
  replica: string;
  /** That reply, as signed. */
  reply: OpStatusReply;
}

export interface RollbackEvent {
  opId: string;
  key: string;
  type: TypeName;
  /** What the app was told at once … */
  tentative: TentativeResult;
  /** … and what the certified order decided. */
  certified: OpResult;
  seq: number;
  replica: string;
}

export interface FailoverEvent {
  /** The op re-sent; undefined for a read. */
  opId?: string;
  from: string | undefined;
  to: string;
  /** Why: "deadline" (not certified in time) or the error the replica gave. */
  reason: "deadline" | Error;
}

/** What the tracker needs of the client. */
export interface TrackerHost {
  /** One verified `GET /v1/ops/:id?wait=certified` at `replica`. */
  pollStatus(opId: string, replica: string, waitMs: number, signal: AbortSignal): Promise<OpStatusReply>;
  /** Re-send the signed op through `replica`, verified. */
  resend(op: SignedOp, replica: string, signal: AbortSignal): Promise<OpReply>;
  /** The next replica to try after `tried` (none left: undefined); it becomes the home replica. */
  failover(
    from: string,
    tried: ReadonlySet<string>,
    reason: "deadline" | Error,
    opId: string,
  ): string | undefined;
  certifyDeadlineMs: number;
  now(): number;
  onCertified(o: CertifiedOutcome): void;
}

export const differs = (t: TentativeResult, r: OpResult): boolean =>
  t.status !== r.status || canonicalJson(t.value) !== canonicalJson(r.value);

interface Pending {
  op: SignedOp;
  opId: string;
  replica: string;
  tentative: TentativeResult;
  deadline: number;
  resolve(o: CertifiedOutcome): void;
  reject(e: Error): void;
}

export class CertificationTracker {
  readonly #host: TrackerHost;
  readonly #queue: Pending[] = [];
  readonly #abort = new AbortController();
  #running = false;

  constructor(host: TrackerHost) {
    this.#host = host;
  }

  /** Track one op accepted by `replica` with `reply`; the promise settles once, verified or given up. */
  track(op: SignedOp, replica: string, tentative: TentativeResult): Promise<CertifiedOutcome> {
    if (this.#abort.signal.aborted) return Promise.reject(closedError());
    return new Promise((resolve, reject) => {
      this.#queue.push({
        op,
        opId: opIdOf(op),
        replica,
        tentative,
        deadline: this.#host.now() + this.#host.certifyDeadlineMs,
        resolve,
        reject,
      });
      if (!this.#running) void this.#run();
    });
  }

  /** Stop: abort the poll in flight, reject every tracked op with `closed`. */
  close(): void {
    this.#abort.abort();
    for (const p of this.#queue.splice(0)) p.reject(closedError());
  }

  async #run(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0 && !this.#abort.signal.aborted) {
        const p = this.#queue[0]!;
        let outcome: CertifiedOutcome | undefined;
        let failure: Error | undefined;
        try {
          outcome = await this.#certify(p);
        } catch (e) {
          failure = e instanceof Error ? e : new Error(String(e));
        }
        if (this.#queue[0] !== p) continue; // closed meanwhile: already rejected
        this.#queue.shift();
        if (outcome) {
          this.#host.onCertified(outcome);
          p.resolve(outcome);
        } else p.reject(failure!);
      }
    } finally {
      this.#running = false;
    }
  }

  async #certify(p: Pending): Promise<CertifiedOutcome> {
    const host = this.#host;
    const signal = this.#abort.signal;
    const tried = new Set([p.replica]);
    /** Set when a re-send was refused: on to the next replica at once, for that reason. */
    let refused: Error | undefined;
    let polled = false;
    for (;;) {
      if (signal.aborted) throw closedError();
      let reason: "deadline" | Error = refused ?? "deadline";
      refused = undefined;
      const remaining = p.deadline - host.now();
      // Asked at least once per replica, even past the deadline (it may have waited behind older ops).
      if (reason === "deadline" && (remaining > 0 || !polled)) {
        polled = true;
        try {
          const wait = Math.max(0, Math.min(remaining, OP_WAIT_MAX_MS));
          const r = await host.pollStatus(p.opId, p.replica, wait, signal);
          if (r.certified) return outcomeOf(p, r);
          continue; // pending: poll again until the deadline
        } catch (e) {
          if (signal.aborted) throw closedError();
          reason = e instanceof Error ? e : new Error(String(e));
        }
      }
      const next = host.failover(p.replica, tried, reason, p.opId);
      if (next === undefined)
        throw new AspecClientError(
          "not_certified",
          `op ${p.opId} was not certified through any of ${[...tried].join(", ")}`,
          { cause: reason },
        );
      tried.add(next);
      p.replica = next;
      polled = false;
      p.deadline = host.now() + host.certifyDeadlineMs;
      try {
        await host.resend(p.op, next, signal);
      } catch (e) {
        if (signal.aborted) throw closedError();
        refused = e instanceof Error ? e : new Error(String(e)); // refused or unverifiable
      }
    }
  }
}

function outcomeOf(p: Pending, r: OpStatusReply): CertifiedOutcome {
  const c = r.certified!;
  return {
    opId: p.opId,
    key: p.op.key,
    type: p.op.type,
    seq: c.seq,
    result: c.result,
    proof: c.proof,
    certificate: c.certificate,
    tentative: p.tentative,
    rolledBack: differs(p.tentative, c.result),
    replica: r.replica,
    reply: r,
  };
}

const closedError = () => new AspecClientError("closed", "the client was closed");
