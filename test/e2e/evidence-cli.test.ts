// End to end against `wrangler dev` with the live PBFT cluster: an op certified for real, then weur
// made to lie about certified values (the dev fault `lieCertified`, over POST /v1/dev/faults): its
// own signed read is the evidence; `aspec evidence submit` lands it, weur is quarantined (routing
// skips it, an explicit route is 503), the quarantine survives a SIGKILL and restart of the whole
// server, and the operator's lift (bearer token) restores it.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyPair } from "../../shared/crypto/keys.js";
import { signOp } from "../../shared/ops.js";
import type { ReadReply } from "../../shared/replies.js";
import {
  DEV_FAULT_TOKEN,
  REPO_ROOT,
  startWranglerDev,
  stopAll,
  type DevServer,
} from "../support/wrangler-dev.js";

const ADMIN_TOKEN = "e2e-admin-token";
const CERTIFY_MS = 30_000;
const VARS = { ENVIRONMENT: "dev", ADMIN_TOKEN };

let server: DevServer;
let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "aspec-e2e-evidence-"));
  server = await startWranglerDev({ name: "evidence", readyPath: "/v1/replicas", vars: VARS });
});
afterAll(async () => {
  await stopAll();
  await rm(tmp, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function aspec(args: string[]) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [join(REPO_ROOT, "client", "bin", "aspec.js"), ...args],
      { env: { ...process.env, ASPEC_ENDPOINT: server.url }, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    );
  });
}

const replicasNow = async () =>
  (await (await fetch(`${server.url}/v1/replicas`)).json()) as { quarantined: Record<string, unknown> };

describe("aspec evidence submit against wrangler dev", () => {
  it("a lie lands, quarantines weur across a restart, and the operator's lift restores it", async () => {
    const key = `ev-${Date.now().toString(36)}`;
    const client = await generateKeyPair();
    const op = await signOp(client.secret, {
      client: client.publicKey,
      seq: 1,
      key,
      type: "counter",
      op: "add",
      args: { n: 5 },
      ts: Date.now(),
    });
    const wrote = await fetch(`${server.url}/v1/ops?replica=weur`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(op),
    });
    expect(wrote.status).toBe(200);
    let read: ReadReply | undefined;
    for (const start = Date.now(); Date.now() - start < CERTIFY_MS; await sleep(250)) {
      const r = (await (await fetch(`${server.url}/v1/kv/${key}?replica=weur`)).json()) as ReadReply;
      if ((r.certified?.value?.value ?? null) === 5) {
        read = r;
        break;
      }
    }
    expect(read, "weur holds a certified value of the op").toBeDefined();

    // weur lies about certified values: its certified read, as it signed it, is the evidence
    const faults = (f: object) =>
      fetch(`${server.url}/v1/dev/faults`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-aspec-fault-token": DEV_FAULT_TOKEN },
        body: JSON.stringify({ target: "weur", faults: f }),
      });
    expect((await faults({ lieCertified: true })).status).toBe(200);
    const lying = (await (await fetch(`${server.url}/v1/kv/${key}?replica=weur`)).json()) as ReadReply;
    expect((await faults({})).status).toBe(200);
    expect(lying.certified?.value?.value).not.toBe(5);
    const lie = { kind: "bad_certified_read", reply: lying };
    const lieFile = join(tmp, "lie.json");
    await writeFile(lieFile, JSON.stringify(lie));
    const honestFile = join(tmp, "honest.json");
    await writeFile(honestFile, JSON.stringify({ kind: "bad_certified_read", reply: read }));

    const refused = await aspec(["evidence", "submit", honestFile, "--json"]);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({
      error: { code: "invalid_evidence", details: { reason: "consistent" } },
    });
    expect((await replicasNow()).quarantined.weur).toBeNull();

    const landed = await aspec(["evidence", "submit", lieFile, "--json"]);
    expect(landed.code, landed.stderr).toBe(0);
    expect(JSON.parse(landed.stdout)).toMatchObject({
      verdict: { kind: "bad_certified_read", replica: "weur" },
      outcome: "quarantined",
    });
    const human = await aspec(["evidence", "submit", lieFile]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^accepted: bad_certified_read against replica weur: accepted before/);
    expect((await replicasNow()).quarantined.weur).toMatchObject({ kind: "bad_certified_read" });
    expect((await fetch(`${server.url}/v1/kv/${key}?replica=weur`)).status).toBe(503);
    const get = await aspec(["get", key, "--json"]);
    expect(JSON.parse(get.stdout)).not.toMatchObject({ replica: "weur" });

    // the whole server killed and restarted on the same state: the quarantine is in SQLite
    await server.crash();
    server = await startWranglerDev({
      name: "evidence",
      readyPath: "/v1/replicas",
      vars: VARS,
      persistDir: server.persistDir,
    });
    expect((await replicasNow()).quarantined.weur).toMatchObject({ kind: "bad_certified_read" });
    expect((await fetch(`${server.url}/v1/kv/${key}?replica=weur`)).status).toBe(503);

    const liftUrl = `${server.url}/v1/admin/quarantine/weur/lift`;
    expect((await fetch(liftUrl, { method: "POST" })).status).toBe(401);
    const wrong = await fetch(liftUrl, { method: "POST", headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(403);
    const ok = await fetch(liftUrl, { method: "POST", headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(ok.status).toBe(200);
    expect((await replicasNow()).quarantined.weur).toBeNull();
    expect((await fetch(`${server.url}/v1/kv/${key}?replica=weur`)).status).toBe(200);
  });
});
