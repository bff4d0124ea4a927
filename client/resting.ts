/**
 * Replicas the client rests for a while: one whose reply was stale or not this request's
 * (`UNPROVEN_REASONS`) may be behind, or someone replays its old replies, which is no proof that it
 * lies. So it is skipped until its rest is over (growing with each refusal in a row, see
 * `restMs`), then tried again; a reply from it that verifies ends its rest. Only a proven lie makes
 * the client leave a replica for good.
 */
import { restMs } from "./backoff.js";

export class RestingReplicas {
  readonly #now: () => number;
  readonly #rest = new Map<string, { until: number; times: number }>();

  constructor(now: () => number) {
    this.#now = now;
  }

  /** Rest `name` (once more in a row); returns when it may be tried again. */
  rest(name: string): number {
    const times = (this.#rest.get(name)?.times ?? 0) + 1;
    const until = this.#now() + restMs(times);
    this.#rest.set(name, { until, times });
    return until;
  }

  /** Is `name` resting now? */
  resting(name: string): boolean {
    const r = this.#rest.get(name);
    return r !== undefined && r.until > this.#now();
  }

  /** A reply from `name` verified: its rest, and its count of refusals in a row, are over. */
  clear(name: string): void {
    this.#rest.delete(name);
  }

  /** The replicas resting now. */
  names(): string[] {
    return [...this.#rest.keys()].filter((n) => this.resting(n));
  }
}
