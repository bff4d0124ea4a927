// client/transport.ts requestJson, seen from the server and from the caller: what headers a request
// carries, that a quarantine is not retried, that an aborted request is never sent and an abort
// ends one in flight (with the abort as the cause), and what the errors say.
import { describe, expect, it } from "vitest";
import { BadResponseError, NetworkError } from "../../client/errors.js";
import { requestJson, type FetchFn, type HttpOptions } from "../../client/transport.js";
import { AspecError } from "../../shared/errors.js";

const http = (fetch: FetchFn, attempts = 4, timeoutMs = 5_000): HttpOptions => ({
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
    await requestJson({ method: "POST", url: "http://127.0.0.1:1/v1/ops", body: "{}" }, http(fetch));
    await requestJson({ method: "GET", url: "http://127.0.0.1:1/v1/replicas" }, http(fetch));
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
    const e = await requestJson({ method: "GET", url: "http://127.0.0.1:1/v1/kv/k" }, http(fetch)).catch(
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
      http(fetch),
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
      http(fetch, 1, 30_000),
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
      http(fetch, 3),
    ).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NetworkError);
    expect((e as NetworkError).attempts).toBe(3);
    expect((e as Error).message).toBe(
      "GET http://127.0.0.1:1/v1/cluster failed after 3 attempts: connection refused",
    );
  });

  it("a thrown non-Error is still described", async () => {
    const fetch: FetchFn = () => Promise.reject("socket hang up");
    const e = await requestJson({ method: "GET", url: "http://127.0.0.1:1/v1/x" }, http(fetch, 1)).catch(
      (x: unknown) => x,
    );
    expect((e as Error).message).toContain("socket hang up");
  });

  it("a body that is not JSON, or JSON that is not the error shape, is a BadResponseError with the status", async () => {
    const html = await requestJson(
      { method: "GET", url: "http://127.0.0.1:1/v1/x" },
      http(async () => new Response("<html>bad gateway</html>", { status: 502 }), 1),
    ).catch((x: unknown) => x);
    expect(html).toBeInstanceOf(BadResponseError);
    expect(html).toMatchObject({ status: 502, message: "HTTP 502 with a body that is not JSON" });
    const shapeless = await requestJson(
      { method: "GET", url: "http://127.0.0.1:1/v1/x" },
      http(async () => json({ oops: 1 }, 418), 1),
    ).catch((x: unknown) => x);
    expect(shapeless).toBeInstanceOf(BadResponseError);
    expect(shapeless).toMatchObject({ status: 418, message: "HTTP 418 without the API's error shape" });
    expect(shapeless).not.toBeInstanceOf(AspecError);
  });
});
