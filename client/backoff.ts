/** Bounded retries with "full jitter" exponential backoff (a random delay in [0, min(max, base·2^n))). */

export interface RetryPolicy {
  /** Total tries, the first included. 1 disables retries. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 100, maxDelayMs: 2_000 };

/** Delay before retry number `retry` (0 for the first retry). */
export function backoffDelayMs(
  retry: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return Math.floor(random() * cap);
}

export function retryPolicy(p?: Partial<RetryPolicy>): RetryPolicy {
  const out = { ...DEFAULT_RETRY, ...p };
  if (!Number.isInteger(out.attempts) || out.attempts < 1) throw new RangeError("retry.attempts must be ≥ 1");
  if (!(out.baseDelayMs >= 0) || !(out.maxDelayMs >= 0)) throw new RangeError("retry delays must be ≥ 0");
  return out;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** How long a replica that was stale (or served a replayed reply) rests before it is tried again. */
export const REST_BASE_MS = 1_000;
export const REST_MAX_MS = 30_000;

/** The rest after the `times`-th refusal in a row (1, 2, 4, … s, capped): no jitter, no randomness. */
export const restMs = (times: number): number =>
  Math.min(REST_MAX_MS, REST_BASE_MS * 2 ** Math.max(0, times - 1));
