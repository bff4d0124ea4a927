/**
 * Bad input: each case gets the one error shape with a stable code and a fitting status, and leaves
 * no trace — checked by comparing a digest of every replica's tables and the key's value before
 * and after.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { TS_SKEW_MAX_MS, SEQ_WINDOW } from "../../shared/admission.js";
import { fromHex, toB64u, utf8 } from "../../shared/bytes.js";
import type { OpBody } from "../../shared/ops.js";
import { signOp } from "../../shared/ops.js";
import { REPLICAS, eventually, post, read, stub, TestClient } from "./helpers.js";
import { settled } from "./state-digest.js";

async function snapshot() {
  const digests = await settled(); // first: an earlier case's write may still be draining
  return { stats: await Promise.all(REPLICAS.map((r) => stub(r).stats())), digests };
}

/** The identity point as a public key, and R = identity, S = 0: "valid" for every message. */
const IDENTITY_KEY = toB64u(fromHex("01" + "00".repeat(31)));
const IDENTITY_SIG = toB64u(fromHex("01" + "00".repeat(63)));

/** `n` nested arrays around 0, as JSON text. */
const nested = (n: number) => "[".repeat(n) + "0" + "]".repeat(n);

/** POST with an explicit Content-Type (or none: a bytes body gets none from fetch). */
const postAs = async (contentType: string | null, body: unknown) =>
  SELF.fetch("https://edge.test/v1/ops?replica=weur", {
    method: "POST",
    body: utf8(JSON.stringify(body)),
    headers: contentType === null ? {} : { "content-type": contentType },
  });

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe("string");
}

describe("bad input is refused and changes nothing", async () => {
  const c = await TestClient.create();
  const KEY = "bad/k";

  it("setup: a counter with one op, replicated everywhere", async () => {
    expect((await post(await c.sign(KEY, "counter", "add", { n: 1 }))).status).toBe(200);
    // Settle propagation first, so the before/after comparisons below see only the refused request.
    await eventually(async () => {
      for (const r of REPLICAS) expect(await read(KEY, r)).toMatchObject({ value: 1 });
      expect((await stub("weur").stats()).outbox).toBe(0);
    });
  });

  const cases: [string, () => Promise<Response>, number, string][] = [
    ["malformed JSON", () => post("{not json"), 400, "malformed_json"],
    ["a non-object body", () => post("[1,2]"), 400, "invalid_request"],
    [
      "a missing field",
      async () => {
        const { ts: _ts, ...op } = await c.sign(KEY, "counter", "add", { n: 1 });
        return post(op);
      },
      400,
      "invalid_request",
    ],
    [
      "an extra field",
      async () => post({ ...(await c.sign(KEY, "counter", "add", { n: 1 })), extra: 1 }),
      400,
      "invalid_request",
    ],
    [
      "an unknown type",
      async () => post({ ...(await c.sign(KEY, "counter", "add", { n: 1 })), type: "queue" }),
      400,
      "unknown_type",
    ],
    ["an unknown op", async () => post(await c.sign(KEY, "counter", "mul", { n: 2 })), 400, "unknown_op"],
    [
      "an inherited op name",
      async () => post(await c.sign(KEY, "counter", "toString", {})),
      400,
      "unknown_op",
    ],
    [
      "wrong argument types",
      async () => post(await c.sign(KEY, "counter", "add", { n: "1" })),
      400,
      "invalid_args",
    ],
    [
      "a non-integer amount",
      async () => post(await c.sign(KEY, "counter", "add", { n: 1.5 })),
      400,
      "invalid_args",
    ],
    [
      "an op on a key of another type",
      async () => post(await c.sign(KEY, "register", "set", { v: 1 })),
      409,
      "type_mismatch",
    ],
    [
      "a missing signature",
      async () => {
        const { sig: _s, ...op } = await c.sign(KEY, "counter", "add", { n: 1 });
        return post(op);
      },
      400,
      "invalid_request",
    ],
    [
      "a wrong signature",
      async () => {
        const a = await c.sign(KEY, "counter", "add", { n: 1 });
        return post({ ...a, args: { n: 100 } });
      },
      401,
      "bad_signature",
    ],
    [
      "another key's signature",
      async () => {
        const other = await TestClient.create();
        const op = await other.sign(KEY, "counter", "add", { n: 1 });
        return post({ ...op, client: c.key.publicKey });
      },
      401,
      "bad_signature",
    ],
    [
      "a replayed seq with other content",
      async () =>
        post(
          await signOp(c.key.secret, {
            client: c.key.publicKey,
            seq: 1,
            key: KEY,
            type: "counter",
            op: "add",
            args: { n: 50 },
            ts: Date.now(),
          }),
        ),
      409,
      "seq_replayed",
    ],
    [
      "a seq far beyond the window",
      async () => post(await c.sign(KEY, "counter", "add", { n: 1 }, { seq: SEQ_WINDOW + 10 })),
      422,
      "seq_out_of_range",
    ],
    [
      "a ts far in the future",
      async () =>
        post(await c.sign(KEY, "counter", "add", { n: 1 }, { ts: Date.now() + TS_SKEW_MAX_MS + 60_000 })),
      422,
      "ts_out_of_range",
    ],
    [
      "a ts far in the past",
      async () =>
        post(await c.sign(KEY, "counter", "add", { n: 1 }, { ts: Date.now() - TS_SKEW_MAX_MS - 60_000 })),
      422,
      "ts_out_of_range",
    ],
    [
      "an oversized body",
      async () => post(JSON.stringify({ pad: "x".repeat(64 * 1024) })),
      413,
      "payload_too_large",
    ],
    [
      "an oversized key",
      async () => post(await c.sign("k".repeat(300), "counter", "add", { n: 1 })),
      400,
      "invalid_key",
    ],
    [
      "an oversized register value",
      async () => post(await c.sign("bad/reg", "register", "set", { v: "x".repeat(5000) })),
      400,
      "invalid_args",
    ],
    [
      "an unknown replica",
      async () => post(await c.sign(KEY, "counter", "add", { n: 1 }), "mars"),
      404,
      "unknown_replica",
    ],
    ["an unknown route", () => SELF.fetch("https://edge.test/v2/ops", { method: "POST" }), 404, "not_found"],
    // issue 6, item 1: names inherited from Object.prototype used to reach `in` and answer 500
    ...["toString", "__proto__", "constructor", "valueOf", "hasOwnProperty"].map(
      (t): [string, () => Promise<Response>, number, string] => [
        `type '${t}' (an Object.prototype name)`,
        async () => post(await c.sign(KEY, t as OpBody["type"], "add", { n: 1 })),
        400,
        "unknown_type",
      ],
    ),
    [
      "op '__proto__' (an Object.prototype name)",
      async () => post(await c.sign(KEY, "counter", "__proto__", {})),
      400,
      "unknown_op",
    ],
    // item 2: a register value ~2,050 deep overflowed zod's stack (500)
    [
      "a register value nested 2,050 deep",
      async () =>
        post(
          JSON.stringify(await c.sign("bad/deep", "register", "set", { v: 0 })).replace(
            '"v":0',
            `"v":${nested(2050)}`,
          ),
        ),
      400,
      "invalid_args",
    ],
    [
      "a register value nested 33 deep (one past JSON_DEPTH_MAX), honestly signed",
      async () => post(await c.sign("bad/deep", "register", "set", { v: JSON.parse(nested(33)) })),
      400,
      "invalid_args",
    ],
    // item 3: a `__proto__` member was dropped: stored and signed values differed
    [
      "args with a __proto__ member (was accepted as {n:1})",
      async () =>
        post(
          JSON.stringify(await c.sign(KEY, "counter", "add", { n: 1 })).replace(
            '"n":1',
            '"n":1,"__proto__":{"x":1}',
          ),
        ),
      400,
      "reserved_name",
    ],
    [
      "a register value with __proto__, honestly signed (was 401 bad_signature)",
      async () =>
        post(await c.sign("bad/reg", "register", "set", JSON.parse('{"v":{"n":1,"__proto__":{"x":1}}}'))),
      400,
      "reserved_name",
    ],
    [
      "a register value with __proto__ the signature does not cover (was accepted)",
      async () =>
        post(
          JSON.stringify(await c.sign("bad/reg", "register", "set", { v: { n: 1 } })).replace(
            '"v":{"n":1}',
            '"v":{"n":1,"__proto__":{"x":1}}',
          ),
        ),
      400,
      "reserved_name",
    ],
    [
      "a register value with a lone surrogate",
      async () => post(await c.sign("bad/reg", "register", "set", { v: "a\ud800" })),
      400,
      "invalid_args",
    ],
    // item 4: the identity point verified every message (accepted and replicated everywhere)
    [
      "an op under the identity point with R = identity, S = 0",
      async () =>
        post({
          client: IDENTITY_KEY,
          seq: 1,
          key: "bad/identity",
          type: "counter",
          op: "add",
          args: { n: 1 },
          ts: Date.now(),
          sig: IDENTITY_SIG,
        }),
      401,
      "bad_signature",
    ],
    // item 5: duplicate members (last one won) and any Content-Type were accepted
    [
      "a duplicate top-level field",
      async () => {
        const op = await c.sign(KEY, "counter", "add", { n: 1 });
        return post(JSON.stringify(op).replace(`"seq":${op.seq}`, `"seq":${op.seq},"seq":${op.seq}`));
      },
      400,
      "duplicate_field",
    ],
    [
      "a duplicate field inside args",
      async () =>
        post(JSON.stringify(await c.sign(KEY, "counter", "add", { n: 1 })).replace('"n":1', '"n":1,"n":1')),
      400,
      "duplicate_field",
    ],
    ...[
      null,
      "text/plain",
      "application/x-www-form-urlencoded",
      "application/json; charset=latin1",
      "application/jsonx",
    ].map((ct): [string, () => Promise<Response>, number, string] => [
      `Content-Type ${ct ?? "(none)"}`,
      async () => postAs(ct, await c.sign(KEY, "counter", "add", { n: 1 })),
      415,
      "unsupported_media_type",
    ]),
    // item 6: keys that can never be read back
    ["key '.'", async () => post(await c.sign(".", "counter", "add", { n: 1 })), 400, "invalid_key"],
    ["key '..'", async () => post(await c.sign("..", "counter", "add", { n: 1 })), 400, "invalid_key"],
    [
      "key with DEL",
      async () => post(await c.sign("a\u007f", "counter", "add", { n: 1 })),
      400,
      "invalid_key",
    ],
  ];

  for (const [name, send, status, code] of cases) {
    it(`${name} → ${status} ${code}`, async () => {
      const before = await snapshot();
      const valueBefore = await read(KEY);
      await expectError(await send(), status, code);
      expect(await snapshot()).toEqual(before);
      expect(await read(KEY)).toMatchObject({ type: valueBefore.type, value: valueBefore.value });
    });
  }

  it("the client can go on after all that (seqs burned by refused ops are not reserved)", async () => {
    const res = await post(await c.sign(KEY, "counter", "add", { n: 1 }));
    expect(res.status).toBe(200);
    expect(await read(KEY)).toMatchObject({ value: 2 });
  });
});
