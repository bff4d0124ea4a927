/**
 * `POST /v1/ops/batch` in workerd: each op answered as if sent alone (signed replies that verify as
 * single ones, refusals in place), an over-bound batch refused whole with nothing written, and the
 * batch's ops replicated as the op log's entries always are (one queue message for all of them).
 */
import { SELF, runInDurableObject, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { checkErrorReply, verifyOpReply } from "../../client/verify.js";
import { AspecError, type ErrorBody } from "../../shared/errors.js";
import { BATCH_OPS_MAX } from "../../shared/op-limits.js";
import { opIdOf, type SignedOp } from "../../shared/ops.js";
import type { BatchReply, ErrorReply, OpReply } from "../../shared/replies.js";
import { packMessages } from "../../shared/replication.js";
import type { ReplicaParts } from "../../durable-objects/replica-parts.js";
import { setFaults, tick } from "./delivery-helpers.js";
import { eventually, post, read, stub, TestClient } from "./helpers.js";

async function pins(): Promise<Map<string, string>> {
  const r = (await (await SELF.fetch("https://edge.test/v1/replicas")).json()) as {
    replicas: { name: string; publicKey: string }[];
  };
  return new Map(r.replicas.map((x) => [x.name, x.publicKey]));
}

const NONCE = "AAAAAAAAAAAAAAAAAAAAAA";

function postBatch(body: unknown, replica = "weur"): Promise<Response> {
  return SELF.fetch(`https://edge.test/v1/ops/batch?replica=${replica}`, {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { "content-type": "application/json", "x-aspec-nonce": NONCE },
  });
}

describe("POST /v1/ops/batch", () => {
  it("answers a batch of 100 ops with 100 replies, each verifying as a single op's reply", async () => {
    const c = await TestClient.create();
    const ops = await Promise.all(
      Array.from({ length: BATCH_OPS_MAX }, (_, i) => c.sign(`b/k${i % 10}`, "counter", "add", { n: i })),
    );
    const res = await postBatch({ ops });
    expect(res.status).toBe(200);
    const { results } = (await res.json()) as BatchReply;
    expect(results.length).toBe(BATCH_OPS_MAX);
    const pinned = await pins();
    const sums = new Map<string, number>();
    for (const [i, op] of ops.entries()) {
      const expect_ = { replica: "weur", opId: opIdOf(op), key: op.key, type: op.type, nonce: NONCE };
      const reply = await verifyOpReply(results[i], expect_, pinned);
      sums.set(op.key, (sums.get(op.key) ?? 0) + i);
      // decided in order: each reply holds the key's value right after its own op
      expect(reply.tentative).toEqual({ status: "ok", value: sums.get(op.key) });
      expect(reply.uncertified).toBe(i + 1);
    }
    for (let k = 0; k < 10; k++) expect(await read(`b/k${k}`)).toMatchObject({ value: sums.get(`b/k${k}`) });
    // the very op sent alone again: the stored outcome, as for any retry
    const again = (await (await post(ops[99]!)).json()) as OpReply;
    expect(again).toMatchObject({ duplicate: true, tentative: (results[99] as OpReply).tentative });
  });

  it("a bad op is refused in its place, exactly as alone, and the others are applied", async () => {
    const c = await TestClient.create();
    const good1 = await c.sign("bb/a", "counter", "add", { n: 1 });
    const forged = { ...(await c.sign("bb/b", "counter", "add", { n: 1 })), args: { n: 1000 } };
    const unknownType = { ...(await c.sign("bb/c", "counter", "add", { n: 1 })), type: "queue" };
    const mismatch = await c.sign("bb/a", "set", "add", { x: "y" });
    const good2 = await c.sign("bb/d", "register", "set", { v: "ok" });
    const res = await postBatch({ ops: [good1, forged, unknownType, mismatch, good2] });
    expect(res.status).toBe(200);
    const { results } = (await res.json()) as BatchReply;
    const pinned = await pins();
    expect((results[0] as OpReply).tentative).toEqual({ status: "ok", value: 1 });
    expect((results[4] as OpReply).tentative).toEqual({ status: "ok", value: "ok" });
    const codeOf = async (i: number, opId?: string) => {
      const e = AspecError.fromBody(results[i])!;
      await checkErrorReply(
        results[i],
        e,
        { replica: "weur", nonce: NONCE, ...(opId ? { opId } : {}) },
        pinned,
      );
      return e.code;
    };
    // a replica's refusals are signed and name the op; the edge's parse error is unsigned
    expect(await codeOf(1, opIdOf(forged))).toBe("bad_signature");
    expect((results[1] as ErrorReply).sig).toEqual(expect.any(String));
    expect(await codeOf(2)).toBe("unknown_type");
    expect(results[2]).not.toHaveProperty("sig");
    expect(await codeOf(3, opIdOf(mismatch))).toBe("type_mismatch");
    // each error body is what a single POST /v1/ops of that op answers (but its time and sig)
    const alone = (await (await post(unknownType)).json()) as ErrorBody;
    expect(results[2]).toEqual(alone);
    expect(await read("bb/b")).toMatchObject({ type: null });
  });

  it("a batch over the bound is refused whole (413) and writes nothing", async () => {
    const c = await TestClient.create();
    const ops = await Promise.all(
      Array.from({ length: BATCH_OPS_MAX + 1 }, (_, i) => c.sign(`bo/k${i}`, "counter", "add", { n: 1 })),
    );
    const res = await postBatch({ ops });
    expect(res.status).toBe(413);
    expect(((await res.json()) as ErrorBody).error).toMatchObject({
      code: "payload_too_large",
      details: { opsMax: BATCH_OPS_MAX, ops: BATCH_OPS_MAX + 1 },
    });
    expect(await read("bo/k0")).toMatchObject({ type: null });
    // no seq was spent: the first op is still new alone
    expect(((await (await post(ops[0]!)).json()) as OpReply).duplicate).toBe(false);
  });

  it.each([
    ["not an object", "[]"],
    ["no ops", "{}"],
    ["ops not an array", '{"ops":{}}'],
    ["an empty batch", '{"ops":[]}'],
    ["another member", '{"ops":[1],"more":1}'],
  ])("%s is 400 invalid_request", async (_what, body) => {
    const res = await postBatch(body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error.code).toBe("invalid_request");
  });

  it("a batch's ops reach every other replica by themselves (the write schedules the drain)", async () => {
    const c = await TestClient.create();
    const ops = await Promise.all(["bq/a", "bq/b", "bq/c"].map((k) => c.sign(k, "set", "add", { x: k })));
    expect((await postBatch({ ops }, "enam")).status).toBe(200);
    await eventually(async () => {
      for (const r of ["weur", "apac"])
        for (const k of ["bq/a", "bq/b", "bq/c"]) expect(await read(k, r)).toMatchObject({ value: [k] });
    });
  });

  it("the batch's ops replicate as log entries: one queue message carries them all", async () => {
    const c = await TestClient.create();
    const ops: SignedOp[] = await Promise.all(
      Array.from({ length: BATCH_OPS_MAX }, (_, i) => c.sign(`br/k${i}`, "counter", "add", { n: 2 })),
    );
    // hold the drain (apac's queue sends fail), so the outbox is looked at before it is sent
    await setFaults("apac", { failQueueSends: true });
    const before = await stub("apac").stats();
    expect((await postBatch({ ops }, "apac")).status).toBe(200);
    // what the next drain sends: the outbox's entries packed into queue messages
    const messages = await runInDurableObject(
      env.EDGE_REPLICA.get(env.EDGE_REPLICA.idFromName("apac")),
      (instance) => {
        const store = (instance as unknown as { parts: ReplicaParts }).parts.store;
        const sent = Number(store.getMeta("sent_pos") ?? "0");
        return packMessages("apac", store.logs.page("apac", sent, 2000));
      },
    );
    expect((await stub("apac").stats()).outbox - before.outbox).toBe(BATCH_OPS_MAX);
    expect(messages.length).toBe(1);
    expect(JSON.parse(messages[0]!.entries).length).toBe(BATCH_OPS_MAX);
    await setFaults("apac", {});
    await tick("apac", ["drain"]);
    expect((await stub("apac").stats()).outbox).toBe(0);
    await eventually(async () => {
      for (const r of ["weur", "enam"]) {
        expect(await read("br/k0", r)).toMatchObject({ value: 2 });
        expect(await read("br/k99", r)).toMatchObject({ value: 2 });
      }
    });
  });
});
