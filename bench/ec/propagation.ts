/**
 * Propagation probe: after a sampled write's reply, poll `GET /v1/kv/<key>?replica=R` on every other
 * replica until the value shows; the sample is the time from the write's reply to the poll reply
 * that showed it at the last of them (so it over-states by at most one poll interval + one RTT).
 *
 * Overhead is bounded: at most `maxInFlight` samples are tracked at once (the rest are skipped and
 * counted), and the poll interval grows with a sample's age (10% of it, 10..200 ms).
 */
import type { Agent } from "node:http";
import { performance } from "node:perf_hooks";
import { get } from "./load.js";

export interface ProbeOptions {
  port: number;
  agent: Agent;
  replicas: string[];
  maxInFlight: number;
  /** Give up on a sample after this long (counted as timed out). */
  timeoutMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function visibleAt(
  agent: Agent,
  port: number,
  replica: string,
  key: string,
  expect: number,
): Promise<boolean> {
  const res = await get(agent, port, `/v1/kv/${encodeURIComponent(key)}?replica=${replica}`);
  if (res.status !== 200) return false;
  return (JSON.parse(res.body) as { value: unknown }).value === expect;
}

export class PropagationProbe {
  readonly samplesMs: number[] = [];
  skipped = 0;
  timedOut = 0;
  polls = 0;
  private inFlight = new Set<Promise<void>>();

  constructor(private readonly o: ProbeOptions) {}

  /** Track one write, whose reply arrived at `tReply` (performance.now()). */
  track(key: string, expect: number, tReply: number): void {
    if (this.inFlight.size >= this.o.maxInFlight) {
      this.skipped++;
      return;
    }
    const p = this.follow(key, expect, tReply).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  async drain(): Promise<void> {
    while (this.inFlight.size) await Promise.all([...this.inFlight]);
  }

  private async follow(key: string, expect: number, tReply: number): Promise<void> {
    const seen = new Map<string, number>();
    while (seen.size < this.o.replicas.length) {
      const age = performance.now() - tReply;
      if (age > this.o.timeoutMs) {
        this.timedOut++;
        return;
      }
      await sleep(Math.min(200, Math.max(10, age / 10)));
      await Promise.all(
        this.o.replicas
          .filter((r) => !seen.has(r))
          .map(async (r) => {
            this.polls++;
            if (await visibleAt(this.o.agent, this.o.port, r, key, expect).catch(() => false))
              seen.set(r, performance.now());
          }),
      );
    }
    this.samplesMs.push(Math.max(...seen.values()) - tReply);
  }
}

/** Wait until `key` shows `expect` at every replica (replication has caught up to that write). */
export async function waitVisible(
  agent: Agent,
  port: number,
  replicas: string[],
  key: string,
  expect: number,
  timeoutMs: number,
): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const ok = await Promise.all(
      replicas.map((r) => visibleAt(agent, port, r, key, expect).catch(() => false)),
    );
    if (ok.every(Boolean)) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs)
      throw new Error(`'${key}' not visible at ${replicas} after ${timeoutMs} ms`);
    await sleep(50);
  }
}
