/**
 * Certification as a client sees it: the op count of a replica's latest certificate, polled every
 * `everyMs` (GET /v1/certificates/latest), and the lag of each acknowledged op from its reply to the
 * first poll whose certificate covers as many ops as had been acknowledged by then — an upper bound
 * of each op's lag (the order of acknowledgement is not the certified order; the poll period adds
 * up to `everyMs`). Every poll has a deadline (`POLL_TIMEOUT_MS`): a slow or lost poll is counted
 * (`timedOut`, `failures`) and the next one sent, never waited on.
 */
import { performance } from "node:perf_hooks";
import type { Agent } from "node:http";
import { RequestTimeout, get } from "../ec/load.js";

/** A certificate poll unanswered this long is given up (counted) and the next one sent. */
export const POLL_TIMEOUT_MS = 2_000;

export interface Poll {
  t: number;
  count: number;
}

/** One reply: at time `t`, `cum` ops had been acknowledged in total (this reply's included). */
export interface Ack {
  t: number;
  cum: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function certifiedOpCount(
  agent: Agent,
  port: number,
  replica: string,
  timeoutMs = POLL_TIMEOUT_MS,
): Promise<number> {
  const r = await get(agent, port, `/v1/certificates/latest?replica=${replica}`, timeoutMs);
  if (r.status !== 200) throw new Error(`GET /v1/certificates/latest: ${r.status} ${r.body.slice(0, 200)}`);
  const body = JSON.parse(r.body) as { certificate: { body: { opCount: number } } | null };
  return body.certificate?.body.opCount ?? 0;
}

export class CertPoller {
  readonly polls: Poll[] = [];
  private running = false;
  private loop: Promise<void> | undefined;
  private base = 0;
  /** Polls that failed (an error reply, a connection reset, past the deadline: `timedOut` of them). */
  failures = 0;
  timedOut = 0;
  /** The slowest poll answered (ms). */
  slowestMs = 0;
  /** Called after each poll (memory samples ride on it). */
  onPoll: ((p: Poll) => void) | undefined;

  constructor(
    private readonly agent: Agent,
    private readonly port: number,
    private readonly replica = "weur",
    private readonly everyMs = 50,
  ) {}

  /** Start polling; counts are relative to the op count at start. */
  async start(): Promise<void> {
    // the base, tried a few times (each with its deadline) before the run gives up
    for (let attempt = 1; ; attempt++) {
      try {
        this.base = await certifiedOpCount(this.agent, this.port, this.replica);
        break;
      } catch (e) {
        this.countFailure(e);
        if (attempt >= 5) throw e;
      }
    }
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const t0 = performance.now();
        try {
          const count = (await certifiedOpCount(this.agent, this.port, this.replica)) - this.base;
          const p = { t: performance.now(), count: Math.max(count, this.latest) };
          this.slowestMs = Math.max(this.slowestMs, p.t - t0);
          this.polls.push(p);
          this.onPoll?.(p);
        } catch (e) {
          // a failed or late poll is counted and the next one sent (the run says how many)
          this.countFailure(e);
        }
        await sleep(this.everyMs);
      }
    })();
  }

  private countFailure(e: unknown): void {
    this.failures++;
    if (e instanceof RequestTimeout) this.timedOut++;
    if (this.failures <= 3) console.error(`certificate poll failed: ${String(e).slice(0, 200)}`);
  }

  get latest(): number {
    return this.polls[this.polls.length - 1]?.count ?? 0;
  }

  /** Wait until `count` ops are certified (relative to start) or `timeoutMs` passed; the time reached, or null. */
  async waitFor(count: number, timeoutMs: number): Promise<number | null> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      const p = this.polls.find((q) => q.count >= count);
      if (p) return p.t;
      await sleep(this.everyMs);
    }
    return this.polls.find((q) => q.count >= count)?.t ?? null;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

/**
 * Per ack (in reply order, `cum` non-decreasing), the lag to the first poll at or after it whose
 * count covers `cum`; `weight` lags per ack (the ops it acknowledged). Acks never covered are left out.
 */
export function lagsOf(
  acks: readonly Ack[],
  polls: readonly Poll[],
): { t: number; lag: number; ops: number }[] {
  const out: { t: number; lag: number; ops: number }[] = [];
  let j = 0;
  let prev = 0;
  for (const a of acks) {
    while (j < polls.length && (polls[j]!.t < a.t || polls[j]!.count < a.cum)) j++;
    if (j >= polls.length) break;
    out.push({ t: a.t, lag: polls[j]!.t - a.t, ops: a.cum - prev });
    prev = a.cum;
  }
  return out;
}

/** p-th percentile (nearest rank) of lags weighted by the ops each covers. */
export function weightedPercentile(lags: readonly { lag: number; ops: number }[], p: number): number {
  if (lags.length === 0) return NaN;
  const s = [...lags].sort((a, b) => a.lag - b.lag);
  const total = s.reduce((n, x) => n + x.ops, 0);
  const rank = Math.ceil((p / 100) * total);
  let seen = 0;
  for (const x of s) {
    seen += x.ops;
    if (seen >= rank) return x.lag;
  }
  return s[s.length - 1]!.lag;
}
