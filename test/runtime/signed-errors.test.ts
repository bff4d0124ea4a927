/**
 * A replica's refusals are signed like its answers (the one error shape plus signed fields beside
 * it); the edge's own errors, before any replica saw the request, are not.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { opIdOf } from "../../shared/ops.js";
import { verifyErrorReply, type ErrorReply, type ReplicaInfo } from "../../shared/replies.js";
import { post, TestClient } from "./helpers.js";

async function publicKeyOf(name: string): Promise<string> {
  const r = (await (await SELF.fetch("https://edge.test/v1/replicas")).json()) as { replicas: ReplicaInfo[] };
  return r.replicas.find((x) => x.name === name)!.publicKey;
}

describe("signed error replies", () => {
  it("a replayed seq and a type mismatch are refused with the replica's signature, naming the op", async () => {
    const c = await TestClient.create();
    const first = await c.sign("err/k", "counter", "add", { n: 1 });
    expect((await post(first, "enam")).status).toBe(200);
    const replay = await c.sign("err/k", "counter", "add", { n: 2 }, { seq: first.seq });
    const mismatch = await c.sign("err/k", "set", "add", { x: "a" });
    const key = await publicKeyOf("enam");
    for (const [op, status, code] of [
      [replay, 409, "seq_replayed"],
      [mismatch, 409, "type_mismatch"],
    ] as const) {
      const res = await post(op, "enam");
      expect(res.status).toBe(status);
      const body = (await res.json()) as ErrorReply;
      expect(body).toMatchObject({ error: { code }, kind: "error", replica: "enam", opId: opIdOf(op) });
      expect(await verifyErrorReply(key, body)).toBe(true);
      expect(await verifyErrorReply(key, { ...body, time: body.time + 1 })).toBe(false);
    }
  });

  it("the edge's parse errors stay unsigned", async () => {
    const res = await post("{not json", "weur");
    expect(res.status).toBe(400);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({ error: { code: "malformed_json", message: expect.any(String) } });
  });
});
