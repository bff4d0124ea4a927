// client.batch and client.list / listPages against the in-test deployment (real signatures,
// certificates, certified state): per-op outcomes in order, each followed to its certified outcome
// with rollback as single submits are, tolerance k counting a batch's ops, pages through a prefix,
// and replies that lie (a result, an order) refused.
import { describe, expect, it } from "vitest";
import { AspecClient } from "../../../client/client.js";
import { ReplyVerificationError } from "../../../client/errors.js";
import type { OpIntent } from "../../../client/build-op.js";
import type { FetchFn } from "../../../client/transport.js";
import { opIdOf, type SignedOp } from "../../../shared/ops.js";
import { signErrorReply } from "../../../shared/replies.js";
import { TestDeployment } from "../../support/sdk-deployment.js";
import { until, watch } from "../../support/settle.js";

const add = (key: string, n = 1): OpIntent => ({ key, type: "counter", op: "add", args: { n } });

describe("client.batch", () => {
  it("answers each op in order, a refused one in its place, and follows the rest to their certified outcome", async () => {
    const d = await TestDeployment.create();
    // weur refuses the second op of a batch, signed, as a replica refuses (here: a replayed seq)
    const refusing: FetchFn = async (url, init) => {
      const res = await d.fetch(url, init);
      if (new URL(url).pathname !== "/v1/ops/batch") return res;
      const sent = JSON.parse(String(init?.body)) as { ops: SignedOp[] };
      const body = (await res.json()) as { results: unknown[] };
      const nonce = new Headers(init?.headers).get("x-aspec-nonce")!;
      body.results[1] = await signErrorReply(d.replica("weur").key.secret, {
        error: { code: "seq_replayed", message: "seen" },
        kind: "error",
        replica: "weur",
        opId: opIdOf(sent.ops[1]!),
        time: d.time,
        nonce,
      });
      return new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });
    };
    const c = await AspecClient.connect(
      d.connectOptions({ replica: "weur", maxUncertified: Infinity, fetch: refusing }),
    );
    const out = await c.batch([add("b/a", 2), add("b/b", 1), add("b/a", 3)]);
    expect(out.map((o) => (o.ok ? o.reply.tentative.value : (o.error as { code?: string }).code))).toEqual([
      2,
      "seq_replayed",
      5,
    ]);
    expect(d.requests.filter((r) => r.path === "/v1/ops/batch")).toHaveLength(1);
    await d.certify();
    const first = out[0]!;
    if (!first.ok) throw new Error("first op refused");
    expect((await first.reply.certified).result).toMatchObject({ status: "ok", value: 2 });
    c.close();
  });

  it("a withdraw in a batch that the certified order decides otherwise emits rollback", async () => {
    const d = await TestDeployment.create();
    const a = await AspecClient.connect(d.connectOptions({ replica: "weur" }));
    const b = await AspecClient.connect(d.connectOptions({ replica: "enam" }));
    d.replicateTentative = false;
    const rollbacks: unknown[] = [];
    b.on("rollback", (r) => rollbacks.push(r));
    await a.account("acct").deposit(3);
    const [w] = await b.batch([{ key: "acct", type: "account", op: "withdraw", args: { n: 3 } }]);
    if (!w?.ok) throw new Error("refused");
    expect(w.reply.tentative).toMatchObject({ status: "rejected" });
    await d.certify();
    expect((await w.reply.certified).rolledBack).toBe(true);
    expect(rollbacks).toHaveLength(1);
    a.close();
    b.close();
  });

  it("goes out when a single op would, counts as its ops against k, and holds later ops until under k", async () => {
    const d = await TestDeployment.create();
    const c = await AspecClient.connect(d.connectOptions({ replica: "weur", maxUncertified: 2 }));
    await c.batch([add("t/1"), add("t/2"), add("t/3")]);
    expect(c.uncertified).toBe(3);
    const next = watch(c.counter("t/4").add(1));
    await new Promise((r) => setImmediate(r));
    expect(next.done).toBe(false);
    await d.certify();
    await until(() => next.done);
    expect(next.error).toBeUndefined();
    c.close();
  });

  it("checks every op before signing any, and refuses more than 100", async () => {
    const d = await TestDeployment.create();
    const c = await AspecClient.connect(d.connectOptions({ replica: "weur" }));
    await expect(
      c.batch([add("ok"), { key: "bad", type: "counter", op: "add", args: { n: 0.5 } }]),
    ).rejects.toMatchObject({
      code: "invalid_args",
    });
    await expect(c.batch(Array.from({ length: 101 }, (_, i) => add(`k${i}`)))).rejects.toThrow(RangeError);
    expect(c.nextSeq).toBe(1);
    expect(d.requests.filter((r) => r.path === "/v1/ops/batch")).toHaveLength(0);
    c.close();
  });

  it("a result that lies about its op refuses the whole batch reply", async () => {
    const d = await TestDeployment.create();
    const c = await AspecClient.connect(d.connectOptions({ replica: "weur", failover: false }));
    d.lie = (path, reply) => (path === "op" && reply.key === "l/2" ? { ...reply, key: "l/other" } : reply);
    await expect(c.batch([add("l/1"), add("l/2")])).rejects.toBeInstanceOf(ReplyVerificationError);
    c.close();
  });
});

describe("client.list", () => {
  it("pages through a prefix in byte order, each key once, with certified values as of the certificate", async () => {
    const d = await TestDeployment.create();
    const c = await AspecClient.connect(d.connectOptions({ replica: "weur", maxUncertified: Infinity }));
    const keys = Array.from({ length: 25 }, (_, i) => `p/${String(i).padStart(2, "0")}`);
    await c.batch(keys.map((k) => add(k)));
    await c.counter("q/other").add(1);
    await d.certify();
    const seen: string[] = [];
    let pages = 0;
    for await (const page of c.listPages("p/", { limit: 10 })) {
      pages++;
      for (const e of page.entries) {
        seen.push(e.key);
        expect(e.certified).toEqual({ seq: 1, value: 1 });
      }
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(keys);
    c.close();
  });

  it("refuses a page whose entries are out of byte order, or outside the prefix", async () => {
    const d = await TestDeployment.create();
    const c = await AspecClient.connect(d.connectOptions({ replica: "weur", failover: false }));
    await c.batch([add("o/a"), add("o/b")]);
    d.lie = (path, reply) =>
      path === "list" ? { ...reply, entries: [...(reply.entries as unknown[])].reverse() } : reply;
    await expect(c.list("o/")).rejects.toMatchObject({ reason: "malformed" });
    d.lie = (path, reply) =>
      path === "list"
        ? { ...reply, entries: [{ key: "x", type: "counter", value: 1, certified: null }] }
        : reply;
    await expect(c.list("o/")).rejects.toMatchObject({ reason: "wrong_subject" });
    c.close();
  });
});
