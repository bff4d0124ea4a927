/**
 * Dev fault injection: `POST /v1/dev/faults` (workers/dev-routes.ts) and the replicas' lies
 * (durable-objects/replica-lies.ts). The route answers as an unknown route without the gate and
 * then changes nothing (a digest of every replica's and node's tables); with it, each lie shows in
 * the replica's signed reply and `{}` takes it back.
 */
import { SELF, createExecutionContext, env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { toHex, utf8 } from "../../shared/bytes.js";
import { PBFT_NODES } from "../../shared/cluster-config.js";
import { sha256 } from "../../shared/hash.js";
import type { Env } from "../../workers/env.js";
import worker from "../../workers/index.js";
import { FAULT_TOKEN } from "./delivery-helpers.js";
import { REPLICAS } from "./helpers.js";
import { digestAll } from "./state-digest.js";

const FAULTS_URL = "https://edge.test/v1/dev/faults";

function faultsRequest(body: unknown, token: string | null = FAULT_TOKEN, contentType = "application/json") {
  const headers: Record<string, string> = { "content-type": contentType };
  if (token !== null) headers["x-aspec-fault-token"] = token;
  return new Request(FAULTS_URL, {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

const setFaultsHttp = (target: string, faults: unknown, token: string | null = FAULT_TOKEN) =>
  SELF.fetch(faultsRequest({ target, faults }, token));

/** Every PBFT node's stored faults (raw rows, whatever the gate says). */
async function nodeFaultRows(): Promise<string> {
  const rows: string[] = [];
  for (const n of PBFT_NODES) {
    const s = env.PBFT_NODE.get(env.PBFT_NODE.idFromName(n.id));
    rows.push(
      await runInDurableObject(s, (_i, state) => {
        const sql = state.storage.sql;
        const has = sql
          .exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'pbft_faults'")
          .toArray().length;
        return has ? JSON.stringify(sql.exec("SELECT * FROM pbft_faults ORDER BY 1").toArray()) : "none";
      }),
    );
  }
  return toHex(sha256(utf8(rows.join("\n"))));
}

const snapshot = async () => ({ replicas: await digestAll(), nodes: await nodeFaultRows() });

async function expectNotFound(res: Response) {
  expect(res.status).toBe(404);
  expect(await res.json()).toEqual({
    error: { code: "not_found", message: "no route for POST /v1/dev/faults" },
  });
}

describe("POST /v1/dev/faults", () => {
  it("without the right token answers as an unknown route and changes nothing", async () => {
    const before = await snapshot();
    const unknown = await SELF.fetch("https://edge.test/v1/dev/nothing-here", { method: "POST" });
    const unknownBody = (await unknown.json()) as { error: { code: string } };
    expect(unknown.status).toBe(404);
    expect(unknownBody.error.code).toBe("not_found");
    for (const token of [null, "", "wrong-token", FAULT_TOKEN + "x"]) {
      await expectNotFound(await setFaultsHttp("weur", { lieTentative: true }, token));
      await expectNotFound(await setFaultsHttp("pbft-0", { silent: true }, token));
    }
    // bad bodies too: the gate comes before the body
    await expectNotFound(await SELF.fetch(faultsRequest("{not json", "wrong-token")));
    // other methods: as for any unknown path (no 405 telling the route exists)
    const get = await SELF.fetch(FAULTS_URL, { headers: { "x-aspec-fault-token": FAULT_TOKEN } });
    expect(get.status).toBe(404);
    expect(((await get.json()) as { error: { code: string } }).error.code).toBe("not_found");
    expect(await snapshot()).toEqual(before);
  });

  it("outside dev answers 404 even with the configured token, and changes nothing", async () => {
    const before = await snapshot();
    for (const ENVIRONMENT of ["production", "staging", ""]) {
      const e: Env = { ...(env as unknown as Env), ENVIRONMENT };
      const res = await worker.fetch(
        faultsRequest({ target: "weur", faults: { lieTentative: true } }),
        e,
        createExecutionContext(),
      );
      await expectNotFound(res);
    }
    const noToken: Env = { ...(env as unknown as Env), FAULT_TOKEN: "" };
    await expectNotFound(
      await worker.fetch(
        faultsRequest({ target: "weur", faults: {} }, ""),
        noToken,
        createExecutionContext(),
      ),
    );
    expect(await snapshot()).toEqual(before);
  });

  it("refuses a bad body with a stable code and changes nothing", async () => {
    const before = await snapshot();
    const cases: [RequestInit | Request, number, string][] = [
      [faultsRequest("{not json"), 400, "malformed_json"],
      [faultsRequest('{"target":"weur","target":"enam","faults":{}}'), 400, "duplicate_field"],
      [
        faultsRequest({ target: "weur", faults: {} }, FAULT_TOKEN, "text/plain"),
        415,
        "unsupported_media_type",
      ],
      [faultsRequest({ target: "weur" }), 400, "invalid_request"],
      [faultsRequest({ target: "weur", faults: [] }), 400, "invalid_request"],
      [faultsRequest({ target: 7, faults: {} }), 400, "invalid_request"],
      [faultsRequest({ target: "weur", faults: {}, extra: 1 }), 400, "invalid_request"],
      [faultsRequest({ target: "mars", faults: {} }), 400, "invalid_request"],
      [faultsRequest({ target: "weur", faults: { noSuchFault: true } }), 400, "invalid_request"],
      [faultsRequest({ target: "weur", faults: { lieTentative: "yes" } }), 400, "invalid_request"],
      [faultsRequest({ target: "weur", faults: { x: "a".repeat(5000) } }), 413, "payload_too_large"],
    ];
    for (const [req, status, code] of cases) {
      const res = await SELF.fetch(req as Request);
      expect(res.status, code).toBe(status);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
    }
    expect(await snapshot()).toEqual(before);
  });

  it("sets a replica's and a node's faults, answers them as stored, and `{}` switches them off", async () => {
    const res = await setFaultsHttp("enam", { lieTentative: true, dropOps: false });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ target: "enam", faults: { lieTentative: true } });
    const node = await setFaultsHttp("pbft-2", { silent: true, notAMode: true });
    expect(node.status).toBe(200);
    expect(await node.json()).toEqual({ target: "pbft-2", faults: { silent: true } });
    for (const target of ["enam", "pbft-2"]) {
      const off = await setFaultsHttp(target, {});
      expect(await off.json()).toEqual({ target, faults: {} });
    }
    expect(REPLICAS).toContain("enam");
  });
});
