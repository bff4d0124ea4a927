/**
 * HTTP to the local `wrangler dev` only (127.0.0.1), every request with a deadline: a request that
 * does not answer in time is an error the phase counts, never a hang.
 */
import { freshNonce, NONCE_HEADER } from "../../client/nonce.js";

/** Deadline of one request (a `?wait=certified` long poll is not used: status is asked, not awaited). */
export const REQUEST_DEADLINE_MS = 10_000;

export interface Reply {
  status: number;
  body: unknown;
  /** The nonce the request carried (signed back by a replica that answers this request). */
  nonce: string;
}

export class LocalApi {
  /** Failed requests by what failed (`POST /v1/ops 503`, `GET /v1/ops timeout`, …). */
  readonly errors: Record<string, number> = {};

  constructor(readonly base: string) {
    const u = new URL(base);
    if (u.hostname !== "127.0.0.1")
      throw new Error(`the fault run only talks to 127.0.0.1, not ${u.hostname}`);
  }

  /** One request; `label` names it in the error counts. Never throws: status 0 is a failed request. */
  async call(
    method: "GET" | "POST",
    path: string,
    label: string,
    body?: unknown,
    headers: Record<string, string> = {},
    /** Statuses that are an answer, not an error (e.g. 404 for an op not arrived yet). */
    expected: readonly number[] = [200],
    deadlineMs = REQUEST_DEADLINE_MS,
  ): Promise<Reply> {
    const nonce = freshNonce();
    try {
      const res = await fetch(this.base + path, {
        method,
        headers: {
          [NONCE_HEADER]: nonce,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(deadlineMs),
      });
      const text = await res.text();
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
      if (!expected.includes(res.status)) this.count(`${label} ${res.status}`);
      return { status: res.status, body: parsed, nonce };
    } catch (e) {
      const name = (e as Error).name;
      this.count(`${label} ${name === "TimeoutError" ? "timeout" : "failed"}`);
      return { status: 0, body: null, nonce };
    }
  }

  count(what: string): void {
    this.errors[what] = (this.errors[what] ?? 0) + 1;
  }

  /** The error counts since `before` (a copy taken with `{...api.errors}`). */
  since(before: Record<string, number>): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, n] of Object.entries(this.errors))
      if (n - (before[k] ?? 0) > 0) out[k] = n - (before[k] ?? 0);
    return out;
  }
}
