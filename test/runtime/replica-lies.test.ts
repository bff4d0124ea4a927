/**
 * Dev fault injection: `POST /v1/dev/faults` (platform/dev-faults/routes.ts) and the replicas' lies
 * (platform/dev-faults/replica-lies.ts). The route answers as an unknown route without the gate and
 * then changes nothing (a digest of every replica's and node's tables); with it, each lie shows in
 * the replica's signed reply and `{}` takes it back.
 */
import { SELF, createExecutionContext, env, runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { FORGED_SEQ_OFFSET, LIE_DELTA, LIE_ELEMENT } from "../../platform/dev-faults/replica-lies.js";
import { toHex, utf8 } from "../../shared/bytes.js";
import { verifyCertificate } from "../../shared/certified/certificate.js";
import { verifyResultProof, verifyStateProof } from "../../shared/certified/proofs.js";
import { PBFT_NODES } from "../../shared/cluster-config.js";
import { sha256 } from "../../shared/hash.js";
import { opIdOf, type SignedOp } from "../../shared/ops.js";
import {
  verifyReply,
  type CertificateReply,
  type CertifiedReadReply,
  type OpReply,
  type OpStatusReply,
  type ReadReply,
  type ReplicaInfo,
  type ReplicaReply,
} from "../../shared/replies.js";
import type { EdgeReplica } from "../../durable-objects/edge-replica.js";
import { FAULT_INJECTION_OFF } from "../../shared/config.js";
import type { Env } from "../../platform/env.js";
import worker from "../../workers/index.js";
import { deliverCertified, TestCluster } from "./cert-helpers.js";
import { FAULT_TOKEN, ownLog, tick } from "./delivery-helpers.js";
import { REPLICAS, TestClient, eventually, post, read, stub } from "./helpers.js";
import { digestAll, dumpTables, settled } from "./state-digest.js";

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

const snapshot = async () => ({ replicas: await settled(), nodes: await nodeFaultRows() });

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

  it("POST /v1/dev/submit: the same gate (404 as an unknown route, no node touched); past it, a bad body is 400", async () => {
    const nodeTables = () =>
      Promise.all(
        PBFT_NODES.map((n) =>
          runInDurableObject(env.PBFT_NODE.get(env.PBFT_NODE.idFromName(n.id)), (_i, state) =>
            dumpTables(state.storage.sql),
          ),
        ),
      );
    const before = { ...(await snapshot()), tables: await nodeTables() };
    const submit = (token: string | null, body: string) =>
      SELF.fetch("https://edge.test/v1/dev/submit", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(token === null ? {} : { "x-aspec-fault-token": token }),
        },
        body,
      });
    const c = await TestClient.create();
    const op = JSON.stringify([await c.sign("dev/submit", "counter", "add", { n: 1 })]);
    for (const token of [null, "", "wrong-token"]) {
      const res = await submit(token, op);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({
        error: { code: "not_found", message: "no route for POST /v1/dev/submit" },
      });
    }
    expect({ ...(await snapshot()), tables: await nodeTables() }).toEqual(before);
    const bad = await submit(FAULT_TOKEN, "[1]");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("invalid_request");
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

const getJson = async <T>(path: string): Promise<{ res: Response; body: T }> => {
  const res = await SELF.fetch(`https://edge.test${path}`);
  return { res, body: (await res.json()) as T };
};

async function setOk(target: string, faults: Record<string, boolean>) {
  const res = await setFaultsHttp(target, faults);
  expect(res.status).toBe(200);
}

describe("a lying replica (weur): each lie in its signed reply, gone again with {}", () => {
  let cluster: TestCluster;
  let keys: Record<string, string>;
  let certified: SignedOp; // certified at seq 1: counter lie/c = 5
  const signedBy = async (r: ReplicaReply) => expect(await verifyReply(keys[r.replica]!, r)).toBe(true);

  const kv = (key: string) => getJson<ReadReply>(`/v1/kv/${key}?replica=weur`).then((x) => x.body);
  const certifiedKv = (key: string) =>
    getJson<CertifiedReadReply>(`/v1/kv/${key}?replica=weur&view=certified`);
  const status = (op: SignedOp) =>
    getJson<OpStatusReply>(`/v1/ops/${opIdOf(op)}?replica=weur`).then((x) => x.body);
  const latest = () => getJson<CertificateReply>("/v1/certificates/latest?replica=weur").then((x) => x.body);

  beforeAll(async () => {
    cluster = await TestCluster.create();
    const { body } = await getJson<{ replicas: ReplicaInfo[] }>("/v1/replicas");
    keys = Object.fromEntries(body.replicas.map((r) => [r.name, r.publicKey]));
    const c = await TestClient.create();
    certified = await c.sign("lie/c", "counter", "add", { n: 5 });
    expect((await post(certified, "weur")).status).toBe(200);
    for (const op of [
      await c.sign("lie/r", "register", "set", { v: "truth" }),
      await c.sign("lie/s", "set", "add", { x: "a" }),
    ])
      expect((await post(op, "weur")).status).toBe(200);
    const made = await cluster.certify([certified]);
    const r = await deliverCertified([made.message]);
    expect(r.explicitAcks.length).toBe(1);
  });

  it("lieTentative: wrong tentative values (counter + 1000, register replaced, set + 1), still signed", async () => {
    const truth = {
      c: (await kv("lie/c")).value,
      r: (await kv("lie/r")).value,
      s: (await kv("lie/s")).value,
    };
    expect(truth).toEqual({ c: 5, r: "truth", s: ["a"] });
    await setOk("weur", { lieTentative: true });
    try {
      const c = await kv("lie/c");
      await signedBy(c);
      expect(c.value).toBe(5 + LIE_DELTA);
      expect((await kv("lie/r")).value).not.toEqual("truth");
      expect((await kv("lie/s")).value).toEqual(["a", LIE_ELEMENT]);
      const w = await TestClient.create();
      const res = await post(await w.sign("lie/c2", "counter", "add", { n: 2 }), "weur");
      const reply = (await res.json()) as OpReply;
      await signedBy(reply);
      expect(reply.tentative.value).toBe(2 + LIE_DELTA);
      const st = await status(certified);
      await signedBy(st);
      expect(st.tentative!.value).toBe(5 + LIE_DELTA);
      // the other replicas tell the truth
      expect(await read("lie/c2", "enam").catch(() => null)).not.toMatchObject({ value: 2 + LIE_DELTA });
    } finally {
      await setOk("weur", {});
    }
    expect((await kv("lie/c")).value).toBe(5);
    expect((await status(certified)).tentative!.value).toBe(5);
  });

  it("lieCertified: wrong certified values beside the real proof and certificate (the proof fails)", async () => {
    const honest = await kv("lie/c");
    const cert = honest.certificate!;
    expect(await verifyCertificate(cert, cluster.config)).toEqual({ ok: true });
    expect(honest.certified!.value).toMatchObject({ value: 5 });
    const proves = (r: { certified: ReadReply["certified"] }, key: string) =>
      verifyStateProof(r.certified!.stateRoot, key, r.certified!.value, r.certified!.proof);
    expect(proves(honest, "lie/c")).toBe(true);
    expect(proves(await kv("lie/r"), "lie/r")).toBe(true); // absent from the certified state: proven absent
    await setOk("weur", { lieCertified: true });
    try {
      const lying = await kv("lie/c");
      await signedBy(lying);
      expect(lying.value).toBe(5); // the tentative value is true
      expect(lying.certified!.value).toMatchObject({ value: 5 + LIE_DELTA });
      expect(lying.certificate).toEqual(cert);
      expect(lying.certified!.proof).toEqual(honest.certified!.proof);
      expect(proves(lying, "lie/c")).toBe(false);
      const absent = await kv("lie/r");
      expect(absent.certified!.value).not.toBeNull(); // claims a key the certified state lacks
      expect(proves(absent, "lie/r")).toBe(false);
      const view = await certifiedKv("lie/c");
      expect(view.res.headers.get("x-aspec-cache")).toBe("bypass");
      await signedBy(view.body);
      expect(view.body.certified.value).toMatchObject({ value: 5 + LIE_DELTA });
      expect(proves(view.body, "lie/c")).toBe(false);
      const st = await status(certified);
      await signedBy(st);
      expect(st.certified!.result.value).toBe(5 + LIE_DELTA);
      const { result, proof, certificate } = st.certified!;
      expect(verifyResultProof(certificate.body.resultsRoot, result, proof)).toBe(false);
    } finally {
      await setOk("weur", {});
    }
    const view = await certifiedKv("lie/c");
    expect(view.body.certified.value).toMatchObject({ value: 5 }); // the lie was not cached
    expect(proves(view.body, "lie/c")).toBe(true);
    const st = (await status(certified)).certified!;
    expect(verifyResultProof(st.certificate.body.resultsRoot, st.result, st.proof)).toBe(true);
  });

  it("forgeCertificate: replies carry the certificate with seq + 1000, whose signatures fail", async () => {
    const real = (await latest()).certificate!;
    expect(real.body.seq).toBe(1);
    await setOk("weur", { forgeCertificate: true });
    try {
      const replies: { certificate: CertificateReply["certificate"] }[] = [
        await latest(),
        await kv("lie/c"),
        (await certifiedKv("lie/c")).body,
        await status(certified),
      ];
      for (const r of replies) {
        await signedBy(r as ReplicaReply);
        expect(r.certificate!.body).toEqual({ ...real.body, seq: real.body.seq + FORGED_SEQ_OFFSET });
        expect(r.certificate!.sigs).toEqual(real.sigs);
        expect(await verifyCertificate(r.certificate!, cluster.config)).toMatchObject({ ok: false });
      }
    } finally {
      await setOk("weur", {});
    }
    expect((await latest()).certificate).toEqual(real);
    expect((await kv("lie/c")).certificate).toEqual(real);
  });

  it("the replica refuses a wrong token, and stored lies are not in force outside dev", async () => {
    await setOk("weur", { lieTentative: true });
    try {
      const before = await settled();
      const weur = env.EDGE_REPLICA.get(env.EDGE_REPLICA.idFromName("weur"));
      await runInDurableObject(weur, async (instance: EdgeReplica) => {
        const refused = await instance.setFaults("weur", "wrong", {}).then(
          () => null,
          (e: unknown) => String(e),
        );
        expect(refused).toContain(FAULT_INJECTION_OFF);
        const e = (instance as unknown as { env: Env }).env;
        const was = e.ENVIRONMENT;
        e.ENVIRONMENT = "production";
        try {
          const r = await instance.read("weur", "lie/c");
          expect(r.ok && r.value.value).toBe(5); // the truth: the stored lie is not in force
        } finally {
          e.ENVIRONMENT = was;
        }
      });
      expect(await digestAll()).toEqual(before);
      expect((await kv("lie/c")).value).toBe(5 + LIE_DELTA); // back in dev: in force again
    } finally {
      await setOk("weur", {});
    }
  });
});

describe("dropOps (apac): acknowledged, never propagated while on; propagated once off", () => {
  it("a peer never gets the op while the fault is on, and gets it after {}", async () => {
    const c = await TestClient.create();
    const before = (await ownLog("apac")).length;
    await setOk("apac", { dropOps: true });
    const res = await post(await c.sign("drop/k", "counter", "add", { n: 7 }), "apac");
    expect(res.status).toBe(200);
    expect(((await res.json()) as OpReply).tentative.value).toBe(7);
    await tick("apac", ["drain", "resend"]); // through the real queue, if it sent anything
    expect((await stub("apac").stats()).outbox).toBe(0);
    // a control op through the real queue from weur arrives at enam: the queue works meanwhile
    const control = await c.sign("drop/control", "counter", "add", { n: 1 });
    expect((await post(control, "weur")).status).toBe(200);
    await eventually(async () => expect(await read("drop/control", "enam")).toMatchObject({ value: 1 }));
    for (const peer of ["enam", "weur"]) {
      await tick(peer, ["antiEntropy"]);
      expect(await read("drop/k", peer)).toMatchObject({ value: null });
    }
    expect(JSON.parse(await stub("apac").opsSince("apac", "enam", 0, 500))).toMatchObject({ entries: [] });
    expect((await stub("apac").stats()).ops).toBeGreaterThan(0); // the row is kept
    await setOk("apac", {});
    expect((await ownLog("apac")).length).toBe(before + 1);
    for (const peer of ["enam", "weur"]) {
      await tick(peer, ["antiEntropy"]);
      expect(await read("drop/k", peer)).toMatchObject({ value: 7 });
    }
  });
  it("nor submits them to the PBFT nodes in its certify task while on; after {} it does", async () => {
    const accepted = async () =>
      Promise.all(
        PBFT_NODES.map(async (n) => {
          const st = await env.PBFT_NODE.get(env.PBFT_NODE.idFromName(n.id)).status(n.id);
          return st.stats["op.accepted"] ?? 0;
        }),
      );
    const c = await TestClient.create();
    await setOk("apac", { dropOps: true });
    // old enough for the certify task (it submits ops uncertified `certifyAfterMs` after their ts)
    const op = await c.sign("drop/cert", "counter", "add", { n: 1 }, { ts: Date.now() - 60_000 });
    expect((await post(op, "apac")).status).toBe(200);
    const before = await accepted();
    // this file runs with CERTIFY=off and hour-long periods: the certify task on, 2 s after ts
    const apac = env.EDGE_REPLICA.get(env.EDGE_REPLICA.idFromName("apac"));
    const certifyOn = async (run: () => Promise<void>) => {
      let e: Env | undefined;
      let was: Pick<Env, "CERTIFY" | "ANTI_ENTROPY_MS"> | undefined;
      await runInDurableObject(apac, (instance: EdgeReplica) => {
        e = (instance as unknown as { env: Env }).env;
        was = { CERTIFY: e.CERTIFY, ANTI_ENTROPY_MS: e.ANTI_ENTROPY_MS };
        Object.assign(e, { CERTIFY: "on", ANTI_ENTROPY_MS: "1000" });
      });
      try {
        await run();
      } finally {
        Object.assign(e!, was);
      }
    };
    await certifyOn(() => tick("apac", ["certify"]));
    expect(await accepted()).toEqual(before);
    await setOk("apac", {});
    await certifyOn(() => tick("apac", ["certify"]));
    const after = await accepted();
    for (const [i, n] of after.entries()) expect(n, PBFT_NODES[i]!.id).toBeGreaterThan(before[i]!);
    // let the live nodes certify it and post it before the file ends (no work left at teardown)
    await eventually(async () => {
      for (const n of PBFT_NODES) {
        const st = await env.PBFT_NODE.get(env.PBFT_NODE.idFromName(n.id)).status(n.id);
        expect(st).toMatchObject({ pool: 0, fallbacksPending: 0 });
        expect(st.lastExecuted).toBeGreaterThan(0);
      }
    }, 20_000);
  });
});
