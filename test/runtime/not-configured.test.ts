/** Deployed without a replica's secret: `503 not_configured` names the secret and the command that sets it. */
import { createExecutionContext, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { toB64u } from "../../shared/bytes.js";
import worker from "../../workers/index.js";

const call = (e: typeof env, path: string) =>
  worker.fetch(new Request(`https://edge.test${path}`), e, createExecutionContext());

describe("not_configured", () => {
  // Only WEUR's secret is missing: the refusal must name that one.
  const prod = {
    ...env,
    ENVIRONMENT: "production",
    REPLICA_KEY_ENAM: toB64u(new Uint8Array(32).fill(2)),
    REPLICA_KEY_APAC: toB64u(new Uint8Array(32).fill(3)),
  };

  it.each(["/health", "/v1/replicas"])("%s names REPLICA_KEY_WEUR and the fix", async (path) => {
    const res = await call(prod, path);
    expect(res.status).toBe(503);
    const { error } = (await res.json()) as { error: { code: string; message: string; details: unknown } };
    expect(error.code).toBe("not_configured");
    expect(error.message).toContain("REPLICA_KEY_WEUR");
    expect(error.message).toContain("wrangler secret put REPLICA_KEY_WEUR");
    expect(error.details).toEqual({
      secret: "REPLICA_KEY_WEUR",
      fix: "wrangler secret put REPLICA_KEY_WEUR",
    });
  });

  it("health is ok once every secret is set", async () => {
    const res = await call({ ...prod, REPLICA_KEY_WEUR: toB64u(new Uint8Array(32).fill(1)) }, "/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      status: "ok",
      environment: "production",
      replicas: ["weur", "enam", "apac"],
    });
  });
});
