/**
 * `register.cas` over HTTP in workerd with the real replicas (SQLite, Ed25519): a CAS that matches
 * writes; one that does not is accepted as `rejected` (`cas_failed`, the value it found, nothing
 * written), as an overdraft is; bad args are `400 invalid_args`, nothing written.
 */
import { describe, expect, it } from "vitest";
import type { OpReply } from "../../shared/replies.js";
import { post, read, TestClient } from "./helpers.js";

const send = async (op: unknown) => {
  const res = await post(op);
  return { status: res.status, body: (await res.json()) as OpReply & { error?: { code: string } } };
};

describe("register.cas over HTTP", () => {
  it("a CAS from the absent value (null) writes; one that expects the value held writes again", async () => {
    const c = await TestClient.create();
    const first = await send(await c.sign("cas/doc", "register", "cas", { expected: null, v: { rev: 1 } }));
    expect(first.status).toBe(200);
    expect(first.body.tentative).toEqual({ status: "ok", value: { rev: 1 } });
    const next = await send(
      await c.sign("cas/doc", "register", "cas", { expected: { rev: 1 }, v: { rev: 2 } }),
    );
    expect(next.body.tentative).toEqual({ status: "ok", value: { rev: 2 } });
    expect(await read("cas/doc")).toMatchObject({ type: "register", value: { rev: 2 } });
  });

  it("a CAS that does not match is answered 200 rejected cas_failed with the value held, nothing written", async () => {
    const c = await TestClient.create();
    await send(await c.sign("cas/miss", "register", "set", { v: "now" }));
    const op = await c.sign("cas/miss", "register", "cas", { expected: "before", v: "mine" });
    const r = await send(op);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      kind: "op",
      tentative: { status: "rejected", reason: "cas_failed", value: "now" },
    });
    expect(await read("cas/miss")).toMatchObject({ value: "now" });
    // recorded like an overdraft: a retry answers the same outcome, as a duplicate
    const again = await send(op);
    expect(again.body).toMatchObject({
      duplicate: true,
      tentative: { status: "rejected", reason: "cas_failed" },
    });
  });

  it.each([
    ["no expected", { v: 1 }],
    ["no v", { expected: null }],
    ["an extra field", { expected: null, v: 1, when: 2 }],
    ["a value over 4 KB", { expected: null, v: "x".repeat(5000) }],
  ])("bad args (%s): 400 invalid_args, nothing written", async (_why, args) => {
    const c = await TestClient.create();
    const r = await send(await c.sign("cas/bad", "register", "cas", args));
    expect(r.status).toBe(400);
    expect(r.body.error?.code).toBe("invalid_args");
    expect(await read("cas/bad")).toMatchObject({ type: null, value: null });
  });
});
