import { describe, expect, it } from "vitest";
import { verifyReply, type OpReply } from "../../shared/replies.js";
import { tick } from "./delivery-helpers.js";
import { eventually, post, read, stub, TestClient } from "./helpers.js";

async function replicaKey(name: string): Promise<string> {
  const { SELF } = await import("cloudflare:test");
  const r = (await (await SELF.fetch("https://edge.test/v1/replicas")).json()) as {
    replicas: { name: string; publicKey: string }[];
  };
  return r.replicas.find((x) => x.name === name)!.publicKey;
}

describe("write path", () => {
  it("applies a signed op at once and replies signed by the replica", async () => {
    const c = await TestClient.create();
    const res = await post(await c.sign("w/hits", "counter", "add", { n: 3 }));
    expect(res.status).toBe(200);
    const reply = (await res.json()) as OpReply;
    expect(reply).toMatchObject({
      kind: "op",
      key: "w/hits",
      replica: "weur",
      tentative: { status: "ok", value: 3 },
      duplicate: false,
      uncertified: 1,
    });
    expect(await verifyReply(await replicaKey("weur"), reply)).toBe(true);
    expect(await verifyReply(await replicaKey("enam"), reply)).toBe(false);
    expect(await read("w/hits")).toMatchObject({ type: "counter", value: 3 });
  });

  it("every data type answers with its tentative value", async () => {
    const c = await TestClient.create();
    const val = async (p: Promise<unknown>) => ((await (await post(await p)).json()) as OpReply).tentative;
    expect(await val(c.sign("w/reg", "register", "set", { v: { a: [1, "x"] } }))).toEqual({
      status: "ok",
      value: { a: [1, "x"] },
    });
    expect(await val(c.sign("w/set", "set", "add", { x: "a" }))).toEqual({ status: "ok", value: ["a"] });
    expect(await val(c.sign("w/set", "set", "add", { x: "b" }))).toEqual({ status: "ok", value: ["a", "b"] });
    expect(await val(c.sign("w/set", "set", "remove", { x: "a" }))).toEqual({ status: "ok", value: ["b"] });
    expect(await val(c.sign("w/acct", "account", "deposit", { n: 10 }))).toEqual({ status: "ok", value: 10 });
    expect(await val(c.sign("w/acct", "account", "withdraw", { n: 11 }))).toEqual({
      status: "rejected",
      reason: "insufficient_funds",
      value: 10,
    });
    expect(await val(c.sign("w/acct", "account", "withdraw", { n: 4 }))).toEqual({ status: "ok", value: 6 });
  });

  it("a retry of the same signed op is idempotent: same outcome, applied once", async () => {
    const c = await TestClient.create();
    const op = await c.sign("w/idem", "counter", "add", { n: 7 });
    const first = (await (await post(op)).json()) as OpReply;
    const again = (await (await post(op)).json()) as OpReply;
    expect(again).toMatchObject({ opId: first.opId, duplicate: true, tentative: first.tentative });
    expect(await read("w/idem")).toMatchObject({ value: 7 });
  });

  it("the alarm drains the outbox to the queue, and the op reaches every other replica", async () => {
    const c = await TestClient.create();
    await post(await c.sign("w/fan", "set", "add", { x: "q" }));
    // the drain's deadline made due (an alarm run early does only what is due)
    await tick("weur", ["drain"]);
    expect((await stub("weur").stats()).outbox).toBe(0);
    await eventually(async () => {
      expect(await read("w/fan", "enam")).toMatchObject({ type: "set", value: ["q"] });
      expect(await read("w/fan", "apac")).toMatchObject({ type: "set", value: ["q"] });
    });
  });
});
