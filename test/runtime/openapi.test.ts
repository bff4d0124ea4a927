/**
 * `GET /openapi.json`: a well-formed OpenAPI 3.1 document, generated from the schemas the edge
 * validates with, covering every route and every error code with its status; real replies, answers
 * and errors, conform to it (checked against the served document's JSON Schemas and against the zod
 * schemas it was generated from).
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type {
  BatchReply,
  EvidenceReply,
  ListReply,
  OpReply,
  ReadReply,
  ReplicaInfo,
} from "../../shared/replies.js";
import { ERROR_STATUS } from "../../shared/errors.js";
import type { OpBody } from "../../shared/ops.js";
import * as z from "../../shared/zod.js";
import {
  certificateReply,
  clusterReply,
  clusterStatusReply,
  errorReply,
  evidenceReply,
  healthReply,
  indexReply,
  batchReply,
  listReply,
  opReply,
  readReply,
  replicasReply,
} from "../../workers/api-schemas.js";
import { OPERATIONS, jsonSchemaOf, openApiDocument } from "../../workers/openapi.js";
import { ROUTES } from "../../workers/routes.js";
import { schemaProblems } from "../support/json-schema-check.js";
import { TestClient, post } from "./helpers.js";

// The reply schemas and shared/replies.ts describe the same bodies (a compile-time check).
type Both<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const inStep: [
  Both<z.output<typeof opReply>, OpReply>,
  Both<z.output<typeof readReply>, ReadReply>,
  Both<z.output<typeof evidenceReply>, EvidenceReply>,
  Both<z.output<typeof replicasReply>["replicas"][number], ReplicaInfo>,
  Both<z.output<typeof listReply>, ListReply>,
  [z.output<typeof batchReply>] extends [BatchReply] ? true : false,
] = [true, true, true, true, true, true];

type Doc = {
  openapi: string;
  info: { title: string; version: string };
  components: { schemas: Record<string, Record<string, unknown>> };
  paths: Record<string, Record<string, { responses: Record<string, Response200> }>>;
};
type Response200 = {
  description: string;
  content?: { "application/json": { schema: Record<string, unknown> } };
};

const doc = async (): Promise<Doc> => {
  const res = await SELF.fetch("https://edge.test/openapi.json");
  expect(res.status).toBe(200);
  return (await res.json()) as Doc;
};

/** A named body (`$ref` to `#/components/schemas/…`) as its schema; an inline schema as it is. */
function deref(d: Doc, schema: Record<string, unknown>): Record<string, unknown> {
  const ref = schema.$ref;
  if (typeof ref !== "string") return schema;
  const found = d.components.schemas[ref.replace("#/components/schemas/", "")];
  expect(found, ref).toBeDefined();
  return found!;
}

/** Check a real reply against the served document and against the zod schema it came from. */
async function conforms(d: Doc, path: string, method: string, res: Response, schema: z.ZodMiniType) {
  const body: unknown = await res.json();
  const response = d.paths[path]?.[method]?.responses[String(res.status)];
  expect(response, `${method} ${path} ${res.status} is documented`).toBeDefined();
  expect(schemaProblems(deref(d, response!.content!["application/json"].schema), body)).toEqual([]);
  expect(schema.safeParse(body).success, JSON.stringify(body).slice(0, 300)).toBe(true);
  return body;
}

describe("GET /openapi.json", () => {
  it("is OpenAPI 3.1 with every route, each with responses", async () => {
    expect(inStep).toEqual([true, true, true, true, true, true]);
    const d = await doc();
    expect(d.openapi).toMatch(/^3\.1\.\d+$/);
    expect(typeof d.info.title).toBe("string");
    expect(typeof d.info.version).toBe("string");
    for (const route of ROUTES)
      for (const method of route.methods) {
        const op = OPERATIONS.find((o) => o.route === route.path && o.method === method.toLowerCase());
        expect(op, `${method} ${route.path}`).toBeDefined();
        const responses = d.paths[op!.path]?.[op!.method]?.responses;
        expect(responses?.["200"]?.description).toBeTruthy();
        expect(responses?.["405"]).toBeDefined();
        for (const r of Object.values(responses!)) expect(typeof r.description).toBe("string");
      }
    expect(Object.values(d.paths).flatMap((p) => Object.keys(p)).length).toBe(
      ROUTES.reduce((n, r) => n + r.methods.length, 0),
    );
  });

  it("lists every error code under its status", async () => {
    const d = await doc();
    const seen = new Map<string, Set<number>>();
    for (const ops of Object.values(d.paths))
      for (const op of Object.values(ops))
        for (const [status, r] of Object.entries(op.responses)) {
          if (status === "200") continue;
          const schema = r.content!["application/json"].schema as {
            anyOf: { properties: Record<string, any> }[];
          };
          for (const alt of schema.anyOf)
            for (const code of alt.properties.error.properties.code.enum as string[])
              seen.set(code, (seen.get(code) ?? new Set()).add(Number(status)));
        }
    for (const [code, status] of Object.entries(ERROR_STATUS))
      expect([code, [...(seen.get(code) ?? [])]]).toEqual([code, [status]]);
    expect([...seen.keys()].sort()).toEqual(Object.keys(ERROR_STATUS).sort());
  });

  it("is the document generated from the zod schemas", async () => {
    const d = await doc();
    expect(d).toEqual(openApiDocument());
    const ops = d.paths["/v1/ops"]!.post!;
    expect(deref(d, ops.responses["200"]!.content!["application/json"].schema)).toEqual(
      jsonSchemaOf(opReply),
    );
    expect(ops.responses["409"]!.content!["application/json"].schema).toEqual(
      jsonSchemaOf(errorReply(["seq_replayed", "op_expired", "type_mismatch"])),
    );
  });
});

describe("real replies conform to the document", () => {
  it("answers: index, health, replicas, write, read, evidence", async () => {
    const d = await doc();
    const get = (p: string) => SELF.fetch(`https://edge.test${p}`);
    await conforms(d, "/", "get", await get("/"), indexReply);
    await conforms(d, "/health", "get", await get("/health"), healthReply);
    await conforms(d, "/v1/replicas", "get", await get("/v1/replicas"), replicasReply);
    const client = await TestClient.create();
    for (const [type, op, args] of [
      ["counter", "add", { n: 2 }],
      ["register", "set", { v: { a: [1, "x", null] } }],
      ["set", "add", { x: "e" }],
      ["account", "withdraw", { n: 5 }],
    ] as [OpBody["type"], string, OpBody["args"]][]) {
      const res = await post(await client.sign(`oa-${type}`, type, op, args));
      expect(res.status).toBe(200);
      await conforms(d, "/v1/ops", "post", res, opReply);
      await conforms(d, "/v1/kv/{key}", "get", await get(`/v1/kv/oa-${type}?replica=weur`), readReply);
    }
    await conforms(d, "/v1/kv/{key}", "get", await get("/v1/kv/never-written"), readReply);
    const evidence = await get(`/v1/clients/${client.key.publicKey}/evidence?replica=weur`);
    await conforms(d, "/v1/clients/{client}/evidence", "get", evidence, evidenceReply);
    await conforms(d, "/v1/cluster", "get", await get("/v1/cluster"), clusterReply);
    const status = (await conforms(
      d,
      "/v1/cluster/status",
      "get",
      await get("/v1/cluster/status"),
      clusterStatusReply,
    )) as z.output<typeof clusterStatusReply>;
    expect(Object.keys(status.nodes)).toEqual(["pbft-0", "pbft-1", "pbft-2", "pbft-3"]);
    expect(status.primary).toBe(`pbft-${status.view! % 4}`);
    await conforms(
      d,
      "/v1/certificates/latest",
      "get",
      await get("/v1/certificates/latest"),
      certificateReply,
    );
  });

  it("answers: a batch (replies and refusals in place) and a page of keys", async () => {
    const d = await doc();
    const c = await TestClient.create();
    const ops = [
      await c.sign("oa-list/a", "counter", "add", { n: 1 }),
      { ...(await c.sign("oa-list/b", "counter", "add", { n: 1 })), args: { n: 9 } }, // bad signature
      { ...(await c.sign("oa-list/c", "counter", "add", { n: 1 })), type: "queue" }, // unknown type
    ];
    const batch = await SELF.fetch("https://edge.test/v1/ops/batch?replica=weur", {
      method: "POST",
      body: JSON.stringify({ ops }),
      headers: { "content-type": "application/json" },
    });
    const body = (await conforms(d, "/v1/ops/batch", "post", batch, batchReply)) as BatchReply;
    expect(body.results.map((r) => ("kind" in r ? r.kind : "edge-error"))).toEqual([
      "op",
      "error",
      "edge-error",
    ]);
    const list = await SELF.fetch("https://edge.test/v1/kv?prefix=oa-list%2F&limit=1&replica=weur");
    const page = (await conforms(d, "/v1/kv", "get", list, listReply)) as ListReply;
    expect(page.entries.map((e) => e.key)).toEqual(["oa-list/a"]);
  });

  it("GET / is the dashboard for a browser, the JSON index otherwise", async () => {
    const d = await doc();
    const browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    const html = await SELF.fetch("https://edge.test/", { headers: { accept: browser } });
    expect(html.status).toBe(200);
    expect(html.headers.get("content-type")).toMatch(/^text\/html/);
    expect(html.headers.get("vary")).toMatch(/Accept/);
    expect(await html.text()).toContain("/v1/cluster/status");
    expect(d.paths["/"]!.get!.responses["200"]!.content).toHaveProperty(["text/html"]);
    for (const accept of [
      "*/*",
      "application/json",
      "application/json, text/html;q=0.5",
      "text/*, application/json",
    ]) {
      const res = await SELF.fetch("https://edge.test/", { headers: { accept } });
      await conforms(d, "/", "get", res, indexReply);
    }
  });

  it("errors: the edge's and a replica's signed refusal", async () => {
    const d = await doc();
    const errors = errorReply(Object.keys(ERROR_STATUS) as (keyof typeof ERROR_STATUS)[]);
    const cases: [string, string, Response][] = [
      ["/v1/ops", "post", await post("{")],
      ["/v1/ops", "post", await post({ nope: 1 })],
      [
        "/v1/ops",
        "post",
        await post(await (await TestClient.create()).sign("k", "counter", "add", { n: 1 }), "mars"),
      ],
      ["/v1/ops", "post", await SELF.fetch("https://edge.test/v1/ops", { method: "POST", body: "{}" })],
      // a 405 is documented beside the path's operations (the method asked has none)
      ["/v1/ops", "post", await SELF.fetch("https://edge.test/v1/ops")],
      ["/v1/kv/{key}", "get", await SELF.fetch("https://edge.test/v1/kv/%00")],
      ["/v1/certificates/{seq}", "get", await SELF.fetch("https://edge.test/v1/certificates/1")],
      ["/v1/certificates/{seq}", "get", await SELF.fetch("https://edge.test/v1/certificates/x")],
    ];
    const client = await TestClient.create();
    const first = await client.sign("oa-replay", "counter", "add", { n: 1 });
    expect((await post(first)).status).toBe(200);
    const replay = await client.sign("oa-replay", "counter", "add", { n: 2 }, { seq: first.seq });
    cases.push(["/v1/ops", "post", await post(replay)]);
    // sizes (docs/api.md "Sizes"): a body over 16 KiB is 413; a 9 KB register value is its own 400
    cases.push(["/v1/ops", "post", await post(JSON.stringify({ pad: "x".repeat(17 * 1024) }))]);
    const big = await client.sign("oa-big", "register", "set", { v: "x".repeat(9 * 1024) });
    cases.push(["/v1/ops", "post", await post(big)]);
    const statuses = [];
    for (const [path, method, res] of cases) {
      statuses.push(res.status);
      await conforms(d, path, method, res, errors);
    }
    expect(statuses).toEqual([400, 400, 404, 415, 405, 400, 404, 400, 409, 413, 400]);
  });
});
