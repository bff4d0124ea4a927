/** A known path asked with a method it does not answer: `405 method_not_allowed` with `Allow`. */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ERROR_STATUS } from "../../shared/errors.js";

const CASES: [method: string, path: string, allow: string][] = [
  ["GET", "/v1/ops", "POST, OPTIONS"],
  ["PUT", "/v1/ops", "POST, OPTIONS"],
  ["GET", "/v1/ops/batch", "POST, OPTIONS"],
  ["PUT", "/v1/ops/batch", "POST, OPTIONS"],
  ["POST", "/v1/kv", "GET, HEAD, OPTIONS"],
  ["DELETE", "/v1/kv/some/key", "GET, HEAD, OPTIONS"],
  ["POST", "/v1/kv/k", "GET, HEAD, OPTIONS"],
  ["POST", "/v1/replicas", "GET, HEAD, OPTIONS"],
  ["PATCH", "/v1/clients/abc/evidence", "GET, HEAD, OPTIONS"],
  ["POST", "/", "GET, HEAD, OPTIONS"],
  ["POST", "/health", "GET, HEAD, OPTIONS"],
  ["DELETE", "/openapi.json", "GET, HEAD, OPTIONS"],
  ["POST", "/v1/cluster", "GET, HEAD, OPTIONS"],
  ["PUT", "/v1/cluster/status", "GET, HEAD, OPTIONS"],
  ["PUT", "/v1/certificates/latest", "GET, HEAD, OPTIONS"],
  ["DELETE", "/v1/certificates/7", "GET, HEAD, OPTIONS"],
];

describe("405 method_not_allowed", () => {
  it.each(CASES)("%s %s", async (method, path, allow) => {
    const res = await SELF.fetch(`https://edge.test${path}`, { method });
    expect(res.status).toBe(405);
    expect(ERROR_STATUS.method_not_allowed).toBe(405);
    expect(res.headers.get("allow")).toBe(allow);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(["error"]);
    expect(body.error).toEqual({
      code: "method_not_allowed",
      message: `${method} is not allowed here: use ${allow}`,
      details: { allow: allow.split(", ") },
    });
  });

  it("is not given for an unknown path, nor for HEAD where GET is answered", async () => {
    expect((await SELF.fetch("https://edge.test/v1/nothing", { method: "POST" })).status).toBe(404);
    expect((await SELF.fetch("https://edge.test/v1/%6Bv/k", { method: "POST" })).status).toBe(404);
    expect((await SELF.fetch("https://edge.test/v1/replicas", { method: "HEAD" })).status).toBe(200);
    // HEAD where only POST is answered: the GET it stands for is not allowed either
    const head = await SELF.fetch("https://edge.test/v1/ops", { method: "HEAD" });
    expect([head.status, head.headers.get("allow")]).toEqual([405, "POST, OPTIONS"]);
  });
});
