/**
 * Closed-loop HTTP load: `connections` keep-alive connections to 127.0.0.1, each sending its own
 * list of pre-built bodies one after the other (one request in flight per connection).
 * Bodies are prepared (signed, serialized) before the clock starts.
 *
 * Every request has a deadline (`REQUEST_TIMEOUT_MS` unless the caller gives one): a request
 * still unanswered then is destroyed and fails with a `RequestTimeout`, so no loop of a benchmark
 * ever waits on one reply for good (a GET without one once froze a feed for minutes).
 */
import { Agent, request, type ClientRequest } from "node:http";
import { performance } from "node:perf_hooks";

export interface LoadOptions {
  port: number;
  path: string;
  /** bodies[c] is the list connection c sends, in order. */
  bodies: string[][];
  /** Called on each reply (before the next request on that connection); `t` = performance.now(). */
  onReply?: (conn: number, index: number, status: number, body: string, t: number) => void;
  /** Keep the reply body (needed by onReply); otherwise it is drained unread. */
  readBody?: boolean;
  /** Each request's deadline (ms); REQUEST_TIMEOUT_MS if unset. */
  timeoutMs?: number;
}

/** The deadline of a request whose caller gives none. */
export const REQUEST_TIMEOUT_MS = 30_000;

/** A request unanswered by its deadline (the request was destroyed). */
export class RequestTimeout extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly ms: number,
  ) {
    super(`${method} ${path.slice(0, 80)}: no reply within ${ms} ms`);
    this.name = "RequestTimeout";
  }
}

/**
 * Unless disarmed within `ms`: fail with a RequestTimeout and destroy `req` (the reply may have
 * begun: its body is not waited for either). Returns the disarm.
 */
function deadline(
  req: ClientRequest,
  method: string,
  path: string,
  ms: number,
  fail: (e: Error) => void,
): () => void {
  const t = setTimeout(() => {
    const e = new RequestTimeout(method, path, ms);
    fail(e);
    req.destroy(e);
  }, ms);
  return () => clearTimeout(t);
}

export interface LoadResult {
  requests: number;
  elapsedMs: number;
  opsPerSec: number;
  latenciesMs: Float64Array;
  /** Non-2xx replies, failed connections and requests past their deadline (`timedOut` of them). */
  errors: number;
  timedOut: number;
  /** A few non-2xx replies, for diagnosis. */
  errorSamples: string[];
}

export function makeAgent(connections: number): Agent {
  return new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
}

export function post(
  agent: Agent,
  port: number,
  path: string,
  body: string,
  keepBody: boolean,
  headers: Record<string, string> = {},
  timeoutMs = REQUEST_TIMEOUT_MS,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ok = (v: { status: number; body: string }) => (disarm(), resolve(v));
    const fail = (e: Error) => (disarm(), reject(e));
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: "POST",
        agent,
        headers: {
          ...headers,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        if (keepBody || (res.statusCode ?? 0) >= 300) res.on("data", (c: Buffer) => chunks.push(c));
        else res.resume();
        res.on("end", () =>
          ok({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", fail);
      },
    );
    const disarm = deadline(req, "POST", path, timeoutMs, fail);
    req.on("error", fail);
    req.end(body);
  });
}

export function get(
  agent: Agent,
  port: number,
  path: string,
  timeoutMs = REQUEST_TIMEOUT_MS,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ok = (v: { status: number; body: string }) => (disarm(), resolve(v));
    const fail = (e: Error) => (disarm(), reject(e));
    const req = request({ host: "127.0.0.1", port, path, method: "GET", agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => ok({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", fail);
    });
    const disarm = deadline(req, "GET", path, timeoutMs, fail);
    req.on("error", fail);
    req.end();
  });
}

/** Run the load to completion; latency per request is reply-end minus send-start. */
export async function runLoad(agent: Agent, o: LoadOptions): Promise<LoadResult> {
  const total = o.bodies.reduce((n, b) => n + b.length, 0);
  const latencies = new Float64Array(total);
  let filled = 0;
  let errors = 0;
  let timedOut = 0;
  const errorSamples: string[] = [];
  const keep = o.readBody ?? o.onReply !== undefined;
  const start = performance.now();
  await Promise.all(
    o.bodies.map(async (list, conn) => {
      for (let i = 0; i < list.length; i++) {
        const t0 = performance.now();
        // a reply past its deadline or a failed connection is counted and the loop goes on
        const res = await post(agent, o.port, o.path, list[i]!, keep, {}, o.timeoutMs).catch((e: unknown) => {
          if (e instanceof RequestTimeout) timedOut++;
          return { status: 0, body: String(e) };
        });
        const t1 = performance.now();
        latencies[filled++] = t1 - t0;
        if (res.status < 200 || res.status >= 300) {
          errors++;
          if (errorSamples.length < 5) errorSamples.push(`${res.status} ${res.body.slice(0, 300)}`);
        }
        o.onReply?.(conn, i, res.status, res.body, t1);
      }
    }),
  );
  const elapsedMs = performance.now() - start;
  return {
    requests: total,
    elapsedMs,
    opsPerSec: (total / elapsedMs) * 1000,
    latenciesMs: latencies,
    errors,
    timedOut,
    errorSamples,
  };
}
