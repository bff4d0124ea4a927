/**
 * JSON over HTTP with the SDK's retry rule: network failures and 5xx are retried with jittered,
 * bounded backoff (except a 5xx whose code says retrying cannot help: `not_configured`), re-sending the very same bytes (a signed op keeps its op id, and the server
 * dedupes by op id, so a retry can never apply an op twice); 4xx are the caller's problem and are
 * returned at once. An error body becomes `AspecError`; anything else unexpected `BadResponseError`.
 * A reply past the reply bounds (shared/reply-limits.ts: bytes, nesting, or what the evidence route
 * would refuse) is a `ReplyVerificationError` (`out_of_bounds`): the SDK fails over and never acts
 * on it, so whatever it does act on can be submitted as evidence. Reading stops at the byte bound.
 */
import { AspecError } from "../shared/errors.js";
import { REPLY_BYTES_MAX, parseReplyText } from "../shared/reply-limits.js";
import { backoffDelayMs, sleep as realSleep, type RetryPolicy } from "./backoff.js";
import { BadResponseError, NetworkError, ReplyVerificationError } from "./errors.js";

export type FetchFn = (input: string, init?: RequestInit) => Promise<Response>;

export interface HttpOptions {
  fetch: FetchFn;
  retry: RetryPolicy;
  /** Per attempt. */
  timeoutMs: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface JsonRequest {
  method: "GET" | "POST";
  url: string;
  body?: string;
  /** This request's per-attempt timeout (a long-poll's is longer than `HttpOptions.timeoutMs`). */
  timeoutMs?: number;
  /** Aborts the request and its retries (the client was closed). */
  signal?: AbortSignal;
  /** Extra request headers (the request's nonce); a retry sends the same ones. */
  headers?: Record<string, string>;
  /** The reply's byte bound (default `REPLY_BYTES_MAX`; a batch's replies: `BATCH_REPLY_BYTES_MAX`). */
  bytesMax?: number;
}

/** 5xx codes that no retry can fix (a missing secret stays missing until an operator sets it). */
const PERMANENT_CODES: ReadonlySet<string> = new Set(["not_configured", "replica_quarantined"]);

function isRetryable({ status, text }: { status: number; text: string | null }): boolean {
  if (status < 500) return false;
  if (text === null) return true; // an oversized 5xx page: not the API's error shape
  try {
    const code = (JSON.parse(text) as { error?: { code?: unknown } } | null)?.error?.code;
    return !(typeof code === "string" && PERMANENT_CODES.has(code));
  } catch {
    return true; // not the API's error shape (e.g. a proxy's HTML 502): maybe transient
  }
}

async function attempt(req: JsonRequest, o: HttpOptions): Promise<{ status: number; text: string | null }> {
  const init: RequestInit = {
    method: req.method,
    headers: {
      ...(req.body === undefined ? { accept: "application/json" } : { "content-type": "application/json" }),
      ...req.headers,
    },
    signal: req.signal
      ? AbortSignal.any([req.signal, AbortSignal.timeout(req.timeoutMs ?? o.timeoutMs)])
      : AbortSignal.timeout(req.timeoutMs ?? o.timeoutMs),
  };
  if (req.body !== undefined) init.body = req.body;
  const res = await o.fetch(req.url, init);
  return { status: res.status, text: await readText(res, req.bytesMax ?? REPLY_BYTES_MAX) };
}

/** The body as text, or null once more than `limit` bytes arrived (the rest is never read). */
async function readText(res: Response, limit: number): Promise<string | null> {
  if (res.body === null) return "";
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let bytes = 0;
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    bytes += value.byteLength;
    if (bytes > limit) {
      reader.cancel().catch(() => {});
      return null;
    }
    text += decoder.decode(value, { stream: true });
  }
}

function parseBody(status: number, text: string | null, bytesMax = REPLY_BYTES_MAX): unknown {
  if (text === null) return outOfBoundsThrow(status, `more than ${bytesMax} bytes`);
  const parsed = parseReplyText(text, bytesMax);
  if (parsed.ok) return parsed.value;
  if (parsed.problem === "not_json")
    throw new BadResponseError(`HTTP ${status} with a body that is not JSON`, status);
  return outOfBoundsThrow(status, parsed.detail);
}

/** Not evidence (`reply` null): a reply the SDK refuses unread proves nothing to anyone. */
function outOfBoundsThrow(status: number, detail: string): never {
  throw new ReplyVerificationError(
    "out_of_bounds",
    "",
    null,
    `HTTP ${status}: a reply past the SDK's bound (${detail})`,
  );
}

/**
 * Checks an error reply before it is thrown (e.g. a replica's signature on it): returns the error to
 * throw, or throws one of its own.
 */
export type ErrorCheck = (body: unknown, error: AspecError) => Promise<Error>;

/** Send a request and return the parsed JSON of a 2xx reply; throw for everything else. */
export async function requestJson(req: JsonRequest, o: HttpOptions, check?: ErrorCheck): Promise<unknown> {
  const wait = o.sleep ?? realSleep;
  let lastError: unknown;
  let last: { status: number; text: string | null } | undefined;
  for (let i = 0; i < o.retry.attempts; i++) {
    if (i > 0) await wait(backoffDelayMs(i - 1, o.retry, o.random));
    if (req.signal?.aborted) break;
    try {
      last = await attempt(req, o);
      lastError = undefined;
    } catch (e) {
      last = undefined;
      lastError = e;
      continue;
    }
    if (!isRetryable(last)) break;
  }
  if (!last) {
    const why = lastError instanceof Error ? lastError.message : String(lastError);
    throw new NetworkError(
      `${req.method} ${req.url} failed after ${o.retry.attempts} attempts: ${why}`,
      o.retry.attempts,
      {
        cause: lastError,
      },
    );
  }
  const body = parseBody(last.status, last.text, req.bytesMax);
  if (last.status >= 200 && last.status < 300) return body;
  const error = AspecError.fromBody(body);
  if (!error) throw new BadResponseError(`HTTP ${last.status} without the API's error shape`, last.status);
  throw check ? await check(body, error) : error;
}
