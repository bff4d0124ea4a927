// End to end: the real Worker under `wrangler dev`, the real SDK and CLI over HTTP.
// Writes go to `weur`; the other replicas must converge through the replicate queue.
import { canonicalJson } from "../../shared/canonical.js";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AspecClient, AspecError, type Json, type ReadReply } from "../../client/index.js";
import { readKeyFile } from "../../client/node/keyfile.js";
import { generateKeyPair } from "../../shared/crypto/keys.js";
import { ERROR_STATUS, type ErrorCode } from "../../shared/errors.js";
import { signOp } from "../../shared/ops.js";
import { REPO_ROOT, startWranglerDev, type DevServer } from "../support/wrangler-dev.js";

const CONVERGE_MS = 20_000;
let server: DevServer;
let tmp: string;

beforeAll(async () => {
  // wrangler.jsonc says production; dev keys (from DEV_SEED) need this, as in `npm run dev`.
  server = await startWranglerDev({ name: "e2e", readyPath: "/v1/replicas", vars: { ENVIRONMENT: "dev" } });
  tmp = await mkdtemp(join(tmpdir(), "aspec-e2e-cli-"));
});
afterAll(async () => {
  await server?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** Read `key` at `c`'s replica until its value equals `want`, or fail after CONVERGE_MS. */
async function eventually(c: AspecClient, key: string, want: Json): Promise<ReadReply> {
  const deadline = Date.now() + CONVERGE_MS;
  let last: ReadReply | undefined;
  while (Date.now() < deadline) {
    last = await c.get(key);
    // key order means nothing in JSON: certified values are kept canonical (sorted keys)
    if (canonicalJson(last.value) === canonicalJson(want)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${c.replica}: ${key} = ${JSON.stringify(last?.value)}, wanted ${JSON.stringify(want)}`);
}

/** The API's error shape, with the status shared/errors.ts gives its code. */
async function expectErrorShape(res: Response, code: ErrorCode) {
  const body = (await res.json()) as { error?: { code?: unknown; message?: unknown } };
  expect(body.error?.code, JSON.stringify(body)).toBe(code);
  expect(typeof body.error?.message).toBe("string");
  expect(res.status).toBe(ERROR_STATUS[code]);
  expect(res.headers.get("content-type")).toMatch(/application\/json/);
}

describe("eventual consistency across replicas", () => {
  it("writes at weur through the SDK and reads the converged values at enam and apac", async () => {
    const u = `${Date.now().toString(36)}`;
    const k = { hits: `hits-${u}`, title: `title-${u}`, tags: `tags-${u}`, alice: `alice-${u}` };
    const weur = await AspecClient.connect({ endpoint: server.url, replica: "weur" });
    expect(weur.replicas.map((r) => r.name)).toEqual(["weur", "enam", "apac"]);

    const add1 = await weur.counter(k.hits).add(1);
    expect(add1).toMatchObject({
      kind: "op",
      replica: "weur",
      key: k.hits,
      type: "counter",
      duplicate: false,
    });
    expect(add1.tentative).toMatchObject({ status: "ok", value: 1 });
    expect((await weur.counter(k.hits).add(41)).tentative.value).toBe(42);

    expect((await weur.register(k.title).set({ text: "hi", n: [1, 2] })).tentative.value).toEqual({
      text: "hi",
      n: [1, 2],
    });

    await weur.set(k.tags).add("x");
    await weur.set(k.tags).add("y");
    expect((await weur.set(k.tags).remove("x")).tentative.value).toEqual(["y"]);

    expect((await weur.account(k.alice).deposit(5)).tentative).toMatchObject({ status: "ok", value: 5 });
    expect((await weur.account(k.alice).withdraw(3)).tentative).toMatchObject({ status: "ok", value: 2 });
    const overdraw = await weur.account(k.alice).withdraw(10);
    expect(overdraw.tentative).toMatchObject({ status: "rejected", reason: "insufficient_funds", value: 2 });
    expect(weur.nextSeq).toBe(10);

    const want: Record<string, Json> = {
      [k.hits]: 42,
      [k.title]: { text: "hi", n: [1, 2] },
      [k.tags]: ["y"],
      [k.alice]: 2,
    };
    const types: Record<string, string> = {
      [k.hits]: "counter",
      [k.title]: "register",
      [k.tags]: "set",
      [k.alice]: "account",
    };
    for (const name of ["weur", "enam", "apac"]) {
      const c = await AspecClient.connect({ endpoint: server.url, replica: name });
      for (const [key, value] of Object.entries(want)) {
        const r = await eventually(c, key, value);
        expect(r).toMatchObject({ kind: "read", replica: name, key, type: types[key] });
      }
    }
  });

  it("dedupes a re-sent op and lets a restored key resync its seq", async () => {
    const key = await generateKeyPair();
    const counter = `dedupe-${Date.now().toString(36)}`;
    const op = await signOp(key.secret, {
      client: key.publicKey,
      seq: 1,
      key: counter,
      type: "counter",
      op: "add",
      args: { n: 7 },
      ts: Date.now(),
    });
    const post = () =>
      fetch(`${server.url}/v1/ops?replica=weur`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(op),
      }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as { duplicate?: boolean; tentative?: { value?: Json } },
      }));
    const first = await post();
    const again = await post();
    expect(first).toMatchObject({ status: 200, body: { duplicate: false, tentative: { value: 7 } } });
    expect(again).toMatchObject({ status: 200, body: { duplicate: true, tentative: { value: 7 } } });

    // Same key, seq forgotten: the SDK starts at 1, is told seq_replayed, resyncs and re-signs once.
    const restored = await AspecClient.connect({ endpoint: server.url, replica: "weur", key });
    const r = await restored.counter(counter).add(1);
    expect(r.opId).toBe(`${key.publicKey}:2`);
    expect(r.tentative.value).toBe(8);
    expect(restored.nextSeq).toBe(3);
  });

  it("carries keys with URL-special characters intact", async () => {
    const c = await AspecClient.connect({ endpoint: server.url, replica: "weur" });
    const key = `a b/c?d#e%f&ü-${Date.now().toString(36)}`;
    expect((await c.register(key).set("odd")).key).toBe(key);
    expect(await c.get(key)).toMatchObject({ key, type: "register", value: "odd" });
  });

  it("refuses an op of another type on an existing key", async () => {
    const c = await AspecClient.connect({ endpoint: server.url, replica: "weur" });
    const key = `typed-${Date.now().toString(36)}`;
    await c.counter(key).add(1);
    const e = await c
      .account(key)
      .deposit(1)
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AspecError);
    expect((e as AspecError).code).toBe("type_mismatch");
  });
});

describe("bad input over HTTP gets the error shape", () => {
  const post = (body: string, query = "?replica=weur") =>
    fetch(`${server.url}/v1/ops${query}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });

  it("malformed JSON, bad shape, bad args, bad signature, unknown replica", async () => {
    await expectErrorShape(await post("{not json"), "malformed_json");
    await expectErrorShape(await post(JSON.stringify({ hello: 1 })), "invalid_request");

    const key = await generateKeyPair();
    const body = {
      client: key.publicKey,
      seq: 1,
      key: "k",
      type: "counter" as const,
      op: "add",
      args: { n: 1 },
      ts: Date.now(),
    };
    const signed = await signOp(key.secret, body);
    await expectErrorShape(await post(JSON.stringify({ ...signed, args: { n: "one" } })), "invalid_args");
    await expectErrorShape(await post(JSON.stringify({ ...signed, type: "queue" })), "unknown_type");
    await expectErrorShape(await post(JSON.stringify({ ...signed, args: { n: 2 } })), "bad_signature");
    await expectErrorShape(await post(JSON.stringify(signed), "?replica=mars"), "unknown_replica");
    await expectErrorShape(await fetch(`${server.url}/v1/kv/k?replica=mars`), "unknown_replica");
  });
});

describe("aspec CLI against the server", () => {
  const aspec = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [join(REPO_ROOT, "client", "bin", "aspec.js"), ...args],
        {
          env: { ...process.env, ASPEC_ENDPOINT: server.url, ASPEC_KEY_FILE: join(tmp, "key.json") },
          timeout: 60_000,
        },
        (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr }),
      );
    });

  it("adds through weur with a fresh key file, then reads at enam", async () => {
    const key = `cli-${Date.now().toString(36)}`;
    const add = await aspec(["counter", "add", key, "5", "--replica", "weur", "--json"]);
    expect(add, add.stderr).toMatchObject({ code: 0 });
    const reply = JSON.parse(add.stdout) as { replica: string; tentative: { value: number }; opId: string };
    expect(reply).toMatchObject({ replica: "weur", tentative: { status: "ok", value: 5 } });
    const file = await readKeyFile(join(tmp, "key.json"));
    expect(reply.opId).toBe(`${file!.publicKey}:1`);
    expect(file!.nextSeq).toBe(2);

    const sub = await aspec(["counter", "add", key, "-2", "--replica", "weur"]);
    expect(sub.code, sub.stderr).toBe(0);
    expect(sub.stdout).toMatch(
      /^ok: counter "cli-[a-z0-9]+" = 3 {2}\[replica weur, op .+:2, uncertified \d+\]\n$/,
    );

    const enam = await AspecClient.connect({ endpoint: server.url, replica: "enam" });
    await eventually(enam, key, 3);
    const get = await aspec(["get", key, "--replica", "enam"]);
    expect(get.code, get.stderr).toBe(0);
    expect(get.stdout).toMatch(new RegExp(`^"${key}" = 3 {2}\\[counter, replica enam, `));

    const bad = await aspec(["account", "deposit", key, "1", "--replica", "weur"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^aspec: type_mismatch: /);
  });
});
