/**
 * Workers Paid plan list prices in USD, beyond what the plan includes each month, as published on
 * developers.cloudflare.com (Workers, Durable Objects and Queues pricing pages, read 2026-12-07).
 * Check them before you rely on a figure: `bench/costs/run.ts` prices with these.
 */
export const PRICES = {
  /** Worker invocations (the HTTP edge; a queue consumer's batch), per million; 10 M included. */
  workerRequestsPerMillion: 0.3,
  /** Durable Object requests (every RPC method call, every alarm run), per million; 1 M included. */
  doRequestsPerMillion: 0.15,
  /** Durable Object duration, per million GB-s, 128 MB per active object; 400,000 GB-s included. */
  doGbSecondsPerMillion: 12.5,
  /** SQLite rows written (a `setAlarm` is one), per million; 50 M included. */
  rowsWrittenPerMillion: 1.0,
  /** SQLite stored data, per GB-month; 5 GB-month included. */
  storedGbMonth: 0.2,
  /** Queues operations (a message under 64 KB is written, read and deleted: 3), per million; 1 M included. */
  queueOpsPerMillion: 0.4,
} as const;

/** A Durable Object is billed as 128 MB while active. */
export const DO_GB = 0.128;
