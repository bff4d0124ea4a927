/**
 * Token buckets per key (a client address), bounded in memory: pure, the clock passed in. The
 * edge keeps one set per isolate for `POST /v1/evidence` (workers/evidence-routes.ts): each
 * evidence costs up to a few MiB read and parsed and a handful of signature checks, so one address
 * may not ask for that without pause.
 */

export interface Rate {
  /** Tokens added per minute; also the bucket's size (a burst of a minute's worth). */
  perMinute: number;
}

export type Take = { ok: true } | { ok: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets {
  readonly #buckets = new Map<string, Bucket>();

  /**
   * @param keysMax buckets kept at most; past it the least recently used is dropped (that key
   *   starts again with a full bucket: the bound costs precision for many keys, never memory).
   */
  constructor(readonly keysMax = 10_000) {}

  get size(): number {
    return this.#buckets.size;
  }

  /** Take one token for `key` at `nowMs`, or say in how many whole seconds one will be there. */
  take(key: string, nowMs: number, rate: Rate): Take {
    const size = rate.perMinute;
    const perMs = rate.perMinute / 60_000;
    const old = this.#buckets.get(key);
    this.#buckets.delete(key); // re-inserted below: Map order is then least recently used first
    const elapsed = old === undefined ? 0 : Math.max(0, nowMs - old.at);
    const tokens = old === undefined ? size : Math.min(size, old.tokens + elapsed * perMs);
    const ok = tokens >= 1;
    this.#buckets.set(key, { tokens: ok ? tokens - 1 : tokens, at: nowMs });
    if (this.#buckets.size > this.keysMax) this.#buckets.delete(this.#buckets.keys().next().value!);
    if (ok) return { ok: true };
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / perMs / 1000)) };
  }
}

/** A positive integer rate from a var, else `fallback` (a missing or malformed var never disables the limit). */
export function ratePerMinute(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && Number.isSafeInteger(n) && n > 0 ? n : fallback;
}
