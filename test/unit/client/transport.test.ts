// Transport retry rule: network errors and 5xx are retried with bounded jittered backoff, 4xx never.
// The fetch here is a scripted sequence of outcomes: it exercises the SDK's transport, nothing else.
import { describe, expect, it } from "vitest";
import { backoffDelayMs, DEFAULT_RETRY, retryPolicy } from "../../../client/backoff.js";
import { BadResponseError, NetworkError } from "../../../client/errors.js";
import { requestJson, type FetchFn, type HttpOptions } from "../../../client/transport.js";
import { AspecError } from "../../../shared/errors.js";

type Outcome = Error | { status: number; body: string };

function scripted(outcomes: Outcome[]) {
  const calls: { url: string; body: unknown }[] = [];
  const fetch: FetchFn = async (url, init) => {
    calls.push({ url, body: init?.body });
    const o = outcomes.shift();
    if (!o) throw new Error("script exhausted");
    if (o instanceof Error) throw o;
    return new Response(o.body, { status: o.status });
  };
  return { fetch, calls };
}

function http(fetch: FetchFn, delays: number[], attempts = 4): HttpOptions {
  return {
    fetch,
    retry: { attempts, baseDelayMs: 100, maxDelayMs: 1000 },
    timeoutMs: 1000,
    sleep: async (ms) => void delays.push(ms),
    random: () => 0.999,
  };
}

const err = (status: number, code: string, details?: unknown) => ({
  status,
  body: JSON.stringify({ error: { code, message: code, details } }),
});
const req = { method: "POST" as const, url: "http://127.0.0.1:1/v1/ops", body: '{"same":"bytes"}' };

describe("backoff", () => {
  it("is jittered within an exponentially growing, capped window", () => {
    const p = { attempts: 10, baseDelayMs: 100, maxDelayMs: 1000 };
    expect(backoffDelayMs(0, p, () => 0)).toBe(0);
    expect(backoffDelayMs(0, p, () => 0.999)).toBe(99);
    expect(backoffDelayMs(2, p, () => 0.999)).toBe(399);
    expect(backoffDelayMs(20, p, () => 0.999)).toBe(999);
    for (let i = 0; i < 100; i++) expect(backoffDelayMs(3, p)).toBeLessThan(800);
  });

  it("validates the policy", () => {
    expect(retryPolicy()).toEqual(DEFAULT_RETRY);
    expect(retryPolicy({ attempts: 1 }).attempts).toBe(1);
    expect(() => retryPolicy({ attempts: 0 })).toThrow(RangeError);
  });
});

describe("requestJson", () => {
  it("retries network errors and 5xx, re-sending the same body, then returns the reply", async () => {
    const delays: number[] = [];
    const s = scripted([
      new TypeError("fetch failed"),
      err(503, "unavailable"),
      { status: 200, body: '{"ok":1}' },
    ]);
    expect(await requestJson(req, http(s.fetch, delays))).toEqual({ ok: 1 });
    expect(s.calls.map((c) => c.body)).toEqual([req.body, req.body, req.body]);
    expect(delays).toEqual([99, 199]);
  });

  it("does not retry a 4xx and turns its body into AspecError", async () => {
    const delays: number[] = [];
    const s = scripted([err(409, "seq_replayed", { lastSeq: 9 })]);
    const e = await requestJson(req, http(s.fetch, delays)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AspecError);
    expect((e as AspecError).code).toBe("seq_replayed");
    expect((e as AspecError).details).toEqual({ lastSeq: 9 });
    expect(s.calls).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it("gives up after the bound: the last 5xx as AspecError, or NetworkError", async () => {
    const s1 = scripted([err(500, "internal"), err(500, "internal"), err(503, "unavailable")]);
    const e1 = await requestJson(req, http(s1.fetch, [], 3)).catch((x: unknown) => x);
    expect((e1 as AspecError).code).toBe("unavailable");
    expect(s1.calls).toHaveLength(3);

    const s2 = scripted([new TypeError("a"), new TypeError("b")]);
    const e2 = await requestJson(req, http(s2.fetch, [], 2)).catch((x: unknown) => x);
    expect(e2).toBeInstanceOf(NetworkError);
    expect((e2 as NetworkError).attempts).toBe(2);
    expect((e2 as NetworkError).message).toMatch(/failed after 2 attempts: b/);
  });

  it("reports a response that is not the API's shape", async () => {
    const s = scripted([{ status: 404, body: "<html>no</html>" }]);
    const e = await requestJson(req, http(s.fetch, [])).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BadResponseError);
    expect((e as BadResponseError).status).toBe(404);
    const s2 = scripted([{ status: 400, body: '{"nope":1}' }]);
    await expect(requestJson(req, http(s2.fetch, []))).rejects.toThrow(/without the API's error shape/);
  });
});

// client/transport.ts requestJson, seen from the server and from the caller: what headers a request
// carries, that a quarantine is not retried, that an aborted request is never sent and an abort
// ends one in flight (with the abort as the cause), and what the errors say.
const httpQuick = (fetch: FetchFn, attempts = 4, timeoutMs = 5_000): HttpOptions => ({
  fetch,
  retry: { attempts, baseDelayMs: 1, maxDelayMs: 1 },
  timeoutMs,
  sleep: async () => {},
});
const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status });

describe("what the server receives", () => {
  it("a POST says its body is JSON; a GET says it accepts JSON", async () => {
    const seen: { method: string; headers: Record<string, string>; body: unknown }[] = [];
    const fetch: FetchFn = async (_url, init) => {
      seen.push({
        method: init?.method ?? "",
        headers: init?.headers as Record<string, string>,
        body: init?.body,
      });
      return json({ ok: true });
    };
    await requestJson({ method: "POST", url: "http://127.0.0.1:1/v1/ops", body: "{}" }, httpQuick(fetch));
    await requestJson({ method: "GET", url: "http://127.0.0.1:1/v1/replicas" }, httpQuick(fetch));
    expect(seen).toEqual([
      { method: "POST", headers: { "content-type": "application/json" }, body: "{}" },
      { method: "GET", headers: { accept: "application/json" }, body: undefined },
    ]);
  });
});

describe("retries", () => {
  it("a 503 replica_quarantined is not retried: the quarantine does not lift by asking again", async () => {
    let calls = 0;
    const fetch: FetchFn = async () => (
      calls++,
      json({ error: { code: "replica_quarantined", message: "weur is quarantined" } }, 503)
    );
    const e = await requestJson({ method: "GET", url: "http://127.0.0.1:1/v1/kv/k" }, httpQuick(fetch)).catch(
      (x: unknown) => x,
    );
    expect(e).toMatchObject({ name: "AspecError", code: "replica_quarantined" });
    expect(calls).toBe(1);
  });
});

describe("aborting", () => {
  it("a request whose signal is already aborted is never sent", async () => {
    let calls = 0;
    const fetch: FetchFn = async () => (calls++, json({}));
    const ctrl = new AbortController();
    ctrl.abort();
    const e = await requestJson(
      { method: "GET", url: "http://127.0.0.1:1/v1/ops/x", signal: ctrl.signal },
      httpQuick(fetch),
    ).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NetworkError);
    expect(calls).toBe(0);
  });

  it("aborting ends a request in flight, and the abort is the cause", async () => {
    const started: AbortSignal[] = [];
    const fetch: FetchFn = (_url, init) =>
      new Promise((_ok, fail) => {
        started.push(init!.signal!);
        init!.signal!.addEventListener("abort", () => fail(init!.signal!.reason));
      });
    const ctrl = new AbortController();
    const reason = new Error("closed by the app");
    const p = requestJson(
      { method: "GET", url: "http://127.0.0.1:1/v1/ops/x", signal: ctrl.signal },
      httpQuick(fetch, 1, 30_000),
    ).catch((x: unknown) => x);
    await new Promise((r) => setImmediate(r));
    expect(started).toHaveLength(1);
    ctrl.abort(reason);
    const e = await p;
    expect(e).toBeInstanceOf(NetworkError);
    expect((e as NetworkError).cause).toBe(reason);
  });
});

describe("what the errors say", () => {
  it("a network failure names the request, the attempts and the last error", async () => {
    const fetch: FetchFn = async () => {
      throw new TypeError("connection refused");
    };
    const e = await requestJson(
      { method: "GET", url: "http://127.0.0.1:1/v1/cluster" },
      httpQuick(fetch, 3),
    ).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NetworkError);
    expect((e as NetworkError).attempts).toBe(3);
    expect((e as Error).message).toBe(
      "GET http://127.0.0.1:1/v1/cluster failed after 3 attempts: connection refused",
    );
  });

  it("a thrown non-Error is still described", async () => {
    const fetch: FetchFn = () => Promise.reject("socket hang up");
    const e = await requestJson({ method: "GET", url: "http://127.0.0.1:1/v1/x" }, httpQuick(fetch, 1)).catch(
      (x: unknown) => x,
    );
    expect((e as Error).message).toContain("socket hang up");
  });

  it("a body that is not JSON, or JSON that is not the error shape, is a BadResponseError with the status", async () => {
    const html = await requestJson(
      { method: "GET", url: "http://127.0.0.1:1/v1/x" },
      httpQuick(async () => new Response("<html>bad gateway</html>", { status: 502 }), 1),
    ).catch((x: unknown) => x);
    expect(html).toBeInstanceOf(BadResponseError);
    expect(html).toMatchObject({ status: 502, message: "HTTP 502 with a body that is not JSON" });
    const shapeless = await requestJson(
      { method: "GET", url: "http://127.0.0.1:1/v1/x" },
      httpQuick(async () => json({ oops: 1 }, 418), 1),
    ).catch((x: unknown) => x);
    expect(shapeless).toBeInstanceOf(BadResponseError);
    expect(shapeless).toMatchObject({ status: 418, message: "HTTP 418 without the API's error shape" });
    expect(shapeless).not.toBeInstanceOf(AspecError);
  });
});
