/**
 * Browsers can call the API: CORS headers on every reply (errors included), preflights for
 * `POST /v1/ops` with `Content-Type: application/json`, origins from `CORS_ORIGINS`.
 */
import { SELF, createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../workers/app.js";
import { parseCorsOrigins } from "../../workers/cors.js";
import { TestClient, post } from "./helpers.js";

const PAGE = "https://app.example";

const preflight = (url: string, fetch: (r: Request) => Promise<Response>, origin = PAGE) =>
  fetch(
    new Request(url, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    }),
  );

/** The real app, in this runtime, with another `CORS_ORIGINS` than wrangler.jsonc's. */
function appWith(origins: string) {
  const app = createApp();
  return async (req: Request) => {
    const ctx = createExecutionContext();
    const res = await app.fetch(req, { ...env, CORS_ORIGINS: origins }, ctx);
    await waitOnExecutionContext(ctx);
    return res;
  };
}

describe('CORS with CORS_ORIGINS = "*" (wrangler.jsonc)', () => {
  it("answers a preflight for POST /v1/ops with Content-Type", async () => {
    const res = await preflight("https://edge.test/v1/ops", (r) => SELF.fetch(r));
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-methods")?.split(",")).toContain("POST");
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase().split(",")).toEqual(
      expect.arrayContaining(["content-type", "x-aspec-replica"]),
    );
    expect(Number(res.headers.get("access-control-max-age"))).toBeGreaterThan(0);
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
  });

  it("puts the headers on a write's reply and on an error's", async () => {
    const client = await TestClient.create();
    const ok = await post(await client.sign("cors-k", "counter", "add", { n: 1 }), "weur", {
      headers: { "content-type": "application/json", origin: PAGE },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("access-control-allow-origin")).toBe("*");
    expect(ok.headers.get("access-control-expose-headers")).toContain("Allow");

    const bad = await post("{", "weur", { headers: { "content-type": "application/json", origin: PAGE } });
    expect(bad.status).toBe(400);
    expect(bad.headers.get("access-control-allow-origin")).toBe("*");

    const missing = await SELF.fetch("https://edge.test/nowhere", { headers: { origin: PAGE } });
    expect(missing.status).toBe(404);
    expect(missing.headers.get("access-control-allow-origin")).toBe("*");
  });
});

describe("CORS with a list of origins", () => {
  const fetch = appWith(`${PAGE}, http://localhost:5173`);

  it("allows a listed origin, and says the answer varies by origin", async () => {
    const res = await preflight("https://edge.test/v1/ops", fetch);
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(PAGE);
    expect(res.headers.get("vary")).toContain("Origin");
    const read = await fetch(new Request("https://edge.test/v1/replicas", { headers: { origin: PAGE } }));
    expect(read.status).toBe(200);
    expect(read.headers.get("access-control-allow-origin")).toBe(PAGE);
    expect(read.headers.get("vary")).toContain("Origin");
    // GET / varies by Accept too (the dashboard or the JSON index)
    const index = await fetch(new Request("https://edge.test/", { headers: { origin: PAGE } }));
    expect(index.headers.get("vary")).toMatch(/Origin/);
    expect(index.headers.get("vary")).toMatch(/Accept/);
  });

  it("gives another origin no allow-origin header (the browser then blocks the call)", async () => {
    const res = await preflight("https://edge.test/v1/ops", fetch, "https://evil.example");
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    const read = await fetch(
      new Request("https://edge.test/v1/replicas", { headers: { origin: "https://evil.example" } }),
    );
    expect(read.status).toBe(200); // CORS is the browser's check: the server still answers
    expect(read.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("allows no other origin when CORS_ORIGINS is empty", async () => {
    const res = await preflight("https://edge.test/v1/ops", appWith(""));
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("refuses a CORS_ORIGINS entry that is not an origin, naming the variable", async () => {
    expect(parseCorsOrigins(" * ")).toBe("*");
    expect(parseCorsOrigins(undefined)).toEqual([]);
    expect(() => parseCorsOrigins("https://app.example/")).toThrow(/CORS_ORIGINS/);
    const res = await appWith("app.example")(new Request("https://edge.test/v1/replicas"));
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: string; details: unknown } };
    expect(body.error).toMatchObject({ code: "not_configured", details: { variable: "CORS_ORIGINS" } });
  });
});
