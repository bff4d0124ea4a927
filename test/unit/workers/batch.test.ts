// workers/batch.ts: a batch body's shape and count bound (refused whole), each op parsed alone
// (a bad one refused in its place), and the replica's answers merged back in the ops' order.
import { describe, expect, it } from "vitest";
import { generateKeyPair } from "../../../shared/crypto/keys.js";
import { AspecError } from "../../../shared/errors.js";
import { BATCH_OPS_MAX } from "../../../shared/op-limits.js";
import { signOp, type SignedOp } from "../../../shared/ops.js";
import type { OpReply } from "../../../shared/replies.js";
import { batchOps, batchReply, parseBatch } from "../../../workers/batch.js";

async function ops(n: number): Promise<SignedOp[]> {
  const k = await generateKeyPair();
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      signOp(k.secret, {
        client: k.publicKey,
        seq: i + 1,
        key: `k${i}`,
        type: "counter",
        op: "add",
        args: { n: 1 },
        ts: 1,
      }),
    ),
  );
}
const refusal = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (e instanceof AspecError) return { code: e.code, status: e.status };
    throw e;
  }
  return null;
};

describe("a batch's body", () => {
  it("takes 1 to BATCH_OPS_MAX ops", async () => {
    expect(parseBatch({ ops: await ops(1) })).toHaveLength(1);
    expect(parseBatch({ ops: await ops(BATCH_OPS_MAX) })).toHaveLength(BATCH_OPS_MAX);
  });

  it("refuses more ops whole, 413", async () => {
    const many = await ops(BATCH_OPS_MAX + 1);
    expect(refusal(() => parseBatch({ ops: many }))).toEqual({ code: "payload_too_large", status: 413 });
  });

  it.each([
    ["null", null],
    ["an array", []],
    ["no ops", {}],
    ["ops not an array", { ops: "x" }],
    ["no op", { ops: [] }],
    ["another member", { ops: [], x: 1 }],
  ])("refuses %s whole, 400 invalid_request", (_what, body) => {
    expect(refusal(() => parseBatch(body))).toEqual({ code: "invalid_request", status: 400 });
  });

  it("parses each op alone: a bad one is its own error, in its place", async () => {
    const [a, b] = await ops(2);
    const parsed = parseBatch({ ops: [a, { ...b, type: "queue" }, "x"] });
    expect(parsed[0]).toEqual({ op: a });
    expect(parsed[1]).toMatchObject({ error: { error: { code: "unknown_type" } } });
    expect(parsed[2]).toMatchObject({ error: { error: { code: "invalid_request" } } });
    expect(batchOps(parsed)).toEqual([a]);
  });
});

describe("the batch's reply", () => {
  it("puts the replica's answers back between the edge's refusals, in order", async () => {
    const [a, b] = await ops(2);
    const parsed = parseBatch({ ops: [a, 1, b] });
    const ok = { kind: "op", opId: "x" } as unknown as OpReply;
    const refused = { ok: false as const, error: { code: "seq_replayed" as const, message: "m" } };
    const reply = batchReply(parsed, [{ ok: true, value: ok }, refused]);
    expect(reply.results).toEqual([ok, (parsed[1] as { error: unknown }).error, { error: refused.error }]);
  });

  it("a replica that answers another number of results than ops is a bug, not a reply", async () => {
    const parsed = parseBatch({ ops: await ops(2) });
    const ok = { ok: true as const, value: {} as OpReply };
    expect(() => batchReply(parsed, [ok])).toThrow(/fewer/);
    expect(() => batchReply(parsed, [ok, ok, ok])).toThrow(/more/);
  });
});
