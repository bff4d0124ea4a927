/** Dev keys only in dev: anything else with no secret refuses to serve rather than sign with a known key. */
import { createExecutionContext, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { toB64u } from "../../shared/bytes.js";
import { devKeyPair, keyPairFromSeed } from "../../shared/crypto/keys.js";
import worker from "../../workers/index.js";
import { TestClient } from "./helpers.js";

const call = (e: typeof env, path: string, init?: RequestInit) =>
  worker.fetch(new Request(`https://edge.test${path}`, init), e, createExecutionContext());

describe("replica keys", () => {
  it("dev derives keys from the dev seed", async () => {
    const body = (await (await call(env, "/v1/replicas")).json()) as {
      replicas: { name: string; publicKey: string }[];
    };
    expect(body.replicas.map((r) => r.name)).toEqual(["weur", "enam", "apac"]);
    expect(body.replicas[0]!.publicKey).toBe((await devKeyPair(env.DEV_SEED, "weur")).publicKey);
  });

  it("production without secrets refuses reads of the key set and writes (503 not_configured)", async () => {
    const prod = { ...env, ENVIRONMENT: "production" };
    const r1 = await call(prod, "/v1/replicas");
    expect(r1.status).toBe(503);
    expect(await r1.json()).toMatchObject({ error: { code: "not_configured" } });
    const c = await TestClient.create();
    const r2 = await call(prod, "/v1/ops?replica=weur", {
      method: "POST",
      body: JSON.stringify(await c.sign("k/prod", "counter", "add", { n: 1 })),
      headers: { "content-type": "application/json" }, // else 415 comes first
    });
    expect(r2.status).toBe(503);
    expect(await r2.json()).toMatchObject({ error: { code: "not_configured" } });
  });

  it("production with secrets uses them", async () => {
    const seeds = ["weur", "enam", "apac"].map((_, i) => new Uint8Array(32).fill(i + 1));
    const prod = {
      ...env,
      ENVIRONMENT: "production",
      REPLICA_KEY_WEUR: toB64u(seeds[0]!),
      REPLICA_KEY_ENAM: toB64u(seeds[1]!),
      REPLICA_KEY_APAC: toB64u(seeds[2]!),
    };
    const body = (await (await call(prod, "/v1/replicas")).json()) as { replicas: { publicKey: string }[] };
    expect(body.replicas.map((r) => r.publicKey)).toEqual(
      await Promise.all(seeds.map(async (s) => (await keyPairFromSeed(s)).publicKey)),
    );
  });
});
