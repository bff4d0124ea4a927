/**
 * Closed-loop HTTP load: `connections` keep-alive connections to 127.0.0.1, each sending its own
 * list of pre-built bodies one after the other (one request in flight per connection).
 * Bodies are prepared (signed, serialized) before the clock starts.
 */
import { Agent, request } from "node:http";
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
}

export interface LoadResult {
  requests: number;
  elapsedMs: number;
  opsPerSec: number;
  latenciesMs: Float64Array;
  errors: number;
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
): Promise<{ status: number; body: string }> {
  return new Promise((ok, fail) => {
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
    req.on("error", fail);
    req.end(body);
  });
}

export function get(agent: Agent, port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((ok, fail) => {
    const req = request({ host: "127.0.0.1", port, path, method: "GET", agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => ok({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", fail);
    });
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
  const errorSamples: string[] = [];
  const keep = o.readBody ?? o.onReply !== undefined;
  const start = performance.now();
  await Promise.all(
    o.bodies.map(async (list, conn) => {
      for (let i = 0; i < list.length; i++) {
        const t0 = performance.now();
        const res = await post(agent, o.port, o.path, list[i]!, keep);
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
    errorSamples,
  };
}
