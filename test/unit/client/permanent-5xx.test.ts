// The SDK does not retry a 503 `not_configured`: a missing secret stays missing, a retry only delays the error.
import { describe, expect, it } from "vitest";
import { requestJson, type FetchFn } from "../../../client/transport.js";
import { AspecError } from "../../../shared/errors.js";

function counting(status: number, body: string) {
  let calls = 0;
  const fetch: FetchFn = async () => (calls++, new Response(body, { status }));
  return { fetch, calls: () => calls };
}

const http = (fetch: FetchFn, delays: number[]) => ({
  fetch,
  retry: { attempts: 4, baseDelayMs: 100, maxDelayMs: 1000 },
  timeoutMs: 1000,
  sleep: async (ms: number) => void delays.push(ms),
});
const req = { method: "GET" as const, url: "http://127.0.0.1:1/v1/replicas" };
const notConfigured = JSON.stringify({
  error: {
    code: "not_configured",
    message: "no signing key for 'weur': the secret REPLICA_KEY_WEUR is not set",
    details: { secret: "REPLICA_KEY_WEUR", fix: "wrangler secret put REPLICA_KEY_WEUR" },
  },
});

describe("permanent 5xx", () => {
  it("throws not_configured after one attempt, details kept", async () => {
    const s = counting(503, notConfigured);
    const delays: number[] = [];
    const e = await requestJson(req, http(s.fetch, delays)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AspecError);
    expect((e as AspecError).code).toBe("not_configured");
    expect((e as AspecError).details).toEqual({
      secret: "REPLICA_KEY_WEUR",
      fix: "wrangler secret put REPLICA_KEY_WEUR",
    });
    expect([s.calls(), delays]).toEqual([1, []]);
  });

  it("still retries a transient 503 and a 5xx that is not the API's shape", async () => {
    for (const body of [
      JSON.stringify({ error: { code: "unavailable", message: "x" } }),
      "<html>502</html>",
    ]) {
      const s = counting(503, body);
      await requestJson(req, http(s.fetch, [])).catch(() => undefined);
      expect(s.calls()).toBe(4);
    }
  });
});
