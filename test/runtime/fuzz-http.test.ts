/**
 * Fuzzing the HTTP API inside workerd (issue 6): mutated bodies, headers, methods and paths sent
 * to the real Worker. Invariants, for every request:
 * - never a 5xx;
 * - every refusal is the one error shape `{error: {code, message, details?}}`, with a documented
 *   code (ERROR_STATUS, listed in docs/api.md) and that code's status;
 * - a refused request changes nothing: a digest of every table of every replica is the same after.
 * A failing case prints its fast-check seed and path, and replays with them.
 */
import { SELF } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { utf8 } from "../../shared/bytes.js";
import { ERROR_STATUS } from "../../shared/errors.js";
import type { OpBody } from "../../shared/ops.js";
import { REPLICAS, eventually, post, read, stub, TestClient } from "./helpers.js";
import { digestAll, settled } from "./state-digest.js";

const URL_BASE = "https://edge.test";
/** Hundreds of requests, each digesting every replica's tables: ~10 s quiet, far more on a loaded machine. */
const FUZZ_TIMEOUT_MS = 300_000;

async function checkReply(res: Response): Promise<{ ok: boolean; code?: string }> {
  expect(res.status).toBeLessThan(500);
  const text = await res.text();
  const body = JSON.parse(text) as Record<string, unknown>; // every reply is JSON
  if (res.status === 200) return { ok: true };
  // The edge's own refusals are `{error}`; a replica's carry its signature beside it (replies.ts).
  const signed = ["error", "kind", "replica", "opId", "key", "time", "sig"];
  expect(Object.keys(body).filter((k) => !signed.includes(k))).toEqual([]);
  expect(Object.keys(body)).toContain("error");
  if (body.kind !== undefined) expect([body.kind, typeof body.sig]).toEqual(["error", "string"]);
  const e = body.error as Record<string, unknown>;
  expect(Object.keys(e).filter((k) => k !== "details")).toEqual(["code", "message"]);
  expect(typeof e.message).toBe("string");
  const code = e.code as string;
  expect(Object.hasOwn(ERROR_STATUS, code), `undocumented code ${code}`).toBe(true);
  expect(res.status, code).toBe(ERROR_STATUS[code as keyof typeof ERROR_STATUS]);
  return { ok: false, code };
}

type TextMutation =
  { kind: "drop"; at: number } | { kind: "double"; at: number } | { kind: "insert"; at: number; s: string };
type StructMutation =
  | { kind: "replace"; field: string; v: unknown }
  | { kind: "remove" | "duplicate"; field: string }
  | { kind: "deep"; depth: number }
  | { kind: "proto"; inArgs: boolean }
  | { kind: "key"; key: string };

/** Text-level damage to a JSON body. */
const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({ kind: fc.constant("drop" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("double" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    s: fc.oneof(
      fc.string({ maxLength: 3 }),
      fc.constantFrom(
        '"__proto__":{},',
        '"seq":1,',
        '"n":1,',
        "[".repeat(40),
        "\\u0000",
        "\ud800",
        "\u00a0",
        ",",
        "}",
        "]",
        '"',
      ),
    ),
  }),
);

function mutateText(s: string, m: TextMutation): string {
  const k = m.at % (s.length + 1);
  if (m.kind === "drop") return s.slice(0, k) + s.slice(k + 1);
  if (m.kind === "double") return s.slice(0, k + 1) + s.slice(k);
  return s.slice(0, k) + m.s + s.slice(k);
}

/** Structural damage to a signed op: fields replaced, removed, added, duplicated. */
const FIELDS = ["client", "seq", "key", "type", "op", "args", "ts", "sig"] as const;
const fieldValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(
    "toString",
    "__proto__",
    "constructor",
    ".",
    "..",
    "",
    "a\nb",
    "k".repeat(300),
    -1,
    0,
    2 ** 53,
    1e400,
  ),
);
const structMutation: fc.Arbitrary<StructMutation> = fc.oneof(
  fc.record({
    kind: fc.constant("replace" as const),
    field: fc.constantFrom(...FIELDS, "args.n", "args.v", "x"),
    v: fieldValue,
  }),
  fc.record({ kind: fc.constant("remove" as const), field: fc.constantFrom(...FIELDS) }),
  fc.record({ kind: fc.constant("duplicate" as const), field: fc.constantFrom(...FIELDS) }),
  fc.record({ kind: fc.constant("deep" as const), depth: fc.integer({ min: 30, max: 3000 }) }),
  fc.record({ kind: fc.constant("proto" as const), inArgs: fc.boolean() }),
  fc.record({
    kind: fc.constant("key" as const),
    key: fc.constantFrom(
      ".",
      "..",
      "",
      "a\nb",
      "a\u0000",
      "a\u007f",
      "k".repeat(257),
      "\ud800",
      "é".repeat(129),
    ),
  }),
);

function mutateOp(op: Record<string, unknown>, m: StructMutation): string {
  const o = structuredClone(op) as Record<string, unknown>;
  switch (m.kind) {
    case "replace":
      if (m.field.startsWith("args.")) (o.args as Record<string, unknown>)[m.field.slice(5)] = m.v;
      else o[m.field] = m.v;
      return JSON.stringify(o);
    case "remove":
      delete o[m.field];
      return JSON.stringify(o);
    case "duplicate": {
      const text = JSON.stringify(o);
      return text.slice(0, -1) + `,${JSON.stringify(m.field)}:${JSON.stringify(o[m.field] ?? null)}}`;
    }
    case "proto": {
      const text = JSON.stringify(o);
      return m.inArgs
        ? text.replace('"args":{', '"args":{"__proto__":{"n":1},')
        : `{"__proto__":null,${text.slice(1)}`;
    }
    case "key":
      return JSON.stringify({ ...o, key: m.key });
    case "deep":
      return JSON.stringify({ ...o, args: { v: 0 } }).replace(
        '"v":0',
        `"v":${"[".repeat(m.depth)}${"]".repeat(m.depth)}`,
      );
  }
}

const isText = (m: TextMutation | StructMutation): m is TextMutation =>
  m.kind === "drop" || m.kind === "double" || m.kind === "insert";

const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constant("application/json") },
  fc.constantFrom(
    null,
    "text/plain",
    "application/json; charset=utf-8",
    "application/json; charset=iso-8859-1",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "application/jsonp",
    "",
  ),
);

describe("HTTP API under fuzzing", async () => {
  const c = await TestClient.create();

  it("setup: a few keys of every type, replicated everywhere", async () => {
    const ops = [
      await c.sign("fz/c", "counter", "add", { n: 3 }),
      await c.sign("fz/r", "register", "set", { v: { a: [1, "x"] } }),
      await c.sign("fz/s", "set", "add", { x: "toString" }),
      await c.sign("fz/a", "account", "deposit", { n: 10 }),
    ];
    for (const op of ops) expect((await post(op)).status).toBe(200);
    await settled();
    expect(await read("fz/c", "apac")).toMatchObject({ value: 3 });
  });

  it(
    "mutated POST /v1/ops bodies and headers: no 5xx, one error shape, refusals change nothing",
    async () => {
      let before = await settled();
      const codes = new Map<string, number>();
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom("fz/c", "fz/r", "fz/s", "fz/a", "fz/new"),
          fc.oneof(structMutation, textMutation),
          fc.boolean(),
          contentType,
          async (key, mutation, both, ct) => {
            const type: OpBody["type"] =
              key === "fz/r" ? "register" : key === "fz/s" ? "set" : key === "fz/a" ? "account" : "counter";
            const [op, args] =
              type === "register"
                ? ["set", { v: 1 }]
                : type === "set"
                  ? ["add", { x: "y" }]
                  : type === "account"
                    ? ["withdraw", { n: 1 }]
                    : ["add", { n: 1 }];
            const signed = (await c.sign(key, type, op, args)) as unknown as Record<string, unknown>;
            let body = isText(mutation)
              ? mutateText(JSON.stringify(signed), mutation)
              : mutateOp(signed, mutation);
            if (both) body = mutateText(body, { kind: "insert", at: body.length >> 1, s: " " }); // whitespace: harmless
            const res = await SELF.fetch(`${URL_BASE}/v1/ops?replica=weur`, {
              method: "POST",
              body: utf8(body),
              headers: ct === null ? {} : { "content-type": ct },
            });
            const r = await checkReply(res);
            if (r.ok) {
              before = await settled(); // a mutation that left a valid op: it counts, and replicates
              return;
            }
            codes.set(r.code!, (codes.get(r.code!) ?? 0) + 1);
            expect(await digestAll()).toEqual(before);
          },
        ),
        { numRuns: 200 },
      );
      console.log({ event: "fuzz_http_codes", codes: Object.fromEntries(codes) });
      expect(codes.size).toBeGreaterThan(5);
    },
    FUZZ_TIMEOUT_MS,
  );

  it(
    "mutated methods and paths (GET /v1/kv/… with random segments): no 5xx, one error shape, nothing changes",
    async () => {
      const before = await settled();
      const segment = fc.oneof(
        fc.string({ maxLength: 12 }).map(encodeURIComponent),
        fc.string({ unit: "binary", maxLength: 8 }).map((s) => s.replace(/[\ud800-\udfff]/g, "%ED%A0%80")),
        fc.constantFrom(
          ".",
          "..",
          "%2e",
          "%",
          "%zz",
          "%00",
          "%0A",
          "a%2Fb",
          "fz/c",
          "fz%2Fc",
          "k".repeat(300),
          "%C0%80",
          "?x",
          "#y",
        ),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom("GET", "GET", "GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"),
          fc.constantFrom(
            "/v1/kv/",
            "/v1/kv",
            "/v1/",
            "/v1/ops",
            "/v1/ops/",
            "/v1/replicas",
            "/v1/cluster",
            "/v1/certificates/",
            "/",
            "/v2/kv/",
            "/v1/%6Bv/",
          ),
          fc.array(segment, { maxLength: 3 }),
          fc.constantFrom("weur", "enam", "apac", "mars", "", "toString"),
          async (method, prefix, segs, replica) => {
            const url = `${URL_BASE}${prefix}${segs.join("/")}?replica=${encodeURIComponent(replica)}`;
            const res = await SELF.fetch(url, {
              method,
              ...(method === "POST" ? { body: "{}", headers: { "content-type": "application/json" } } : {}),
            });
            if (method === "HEAD") expect(res.status).toBeLessThan(500);
            else await checkReply(res);
          },
        ),
        { numRuns: 100 },
      );
      expect(await digestAll()).toEqual(before);
    },
    FUZZ_TIMEOUT_MS,
  );
});
