/**
 * `POST /v1/evidence` and quarantine, in workerd with the real Directory and replicas (SQLite) and
 * real Ed25519: evidence is built from real signed replies of a replica holding a real certified
 * batch; a lying reply is a real reply with a changed field, signed with the replica's dev key.
 * Bogus evidence changes nothing (every table of the Directory and of every replica); valid
 * evidence quarantines the replica, durably across a restart; routing skips it, an explicit route
 * to it is 503; the operator's lift restores it and is refused without the token. The tests of
 * this file share one history, in order.
 */
import { SELF, env, runInDurableObject } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toHex, utf8 } from "../../shared/bytes.js";
import { combineShares } from "../../shared/certified/certificate.js";
import type { Certificate } from "../../shared/certified/types.js";
import { generateKeyPair } from "../../shared/crypto/keys.js";
import { verifyEvidence, type Evidence } from "../../shared/evidence.js";
import { sha256 } from "../../shared/hash.js";
import { EVIDENCE_BYTES_MAX } from "../../shared/reply-limits.js";
import { opIdOf, type SignedOp } from "../../shared/ops.js";
import { clusterOf } from "../../shared/cluster-config.js";
import {
  signReply,
  type OpReply,
  type OpStatusReply,
  type ReadReply,
  type Unsigned,
} from "../../shared/replies.js";
import {
  evidenceListReply,
  evidenceVerdictReply,
  liftReply,
  replicasReply,
} from "../../workers/api-schemas.js";
import { replicaInfos, replicaKey } from "../../platform/keys.js";
import { TestCluster, deliverCertified } from "./cert-helpers.js";
import { TestClient, post } from "./helpers.js";
import { dumpTables, restartAll, settled } from "./state-digest.js";

const ADMIN = "test-admin-token";
const BASE = "https://edge.test";
const get = (path: string, init?: RequestInit) => SELF.fetch(`${BASE}${path}`, init);
const submit = (body: unknown, init: RequestInit = {}) =>
  SELF.fetch(`${BASE}/v1/evidence`, {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { "content-type": "application/json" },
    ...init,
  });
const lift = (replica: string, token?: string) =>
  SELF.fetch(`${BASE}/v1/admin/quarantine/${replica}/lift`, {
    method: "POST",
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });

/** Every row of every table of the Directory, as one digest. */
async function directoryDigest(): Promise<string> {
  const dir = env.DIRECTORY.get(env.DIRECTORY.idFromName("directory"));
  const dump = await runInDurableObject(dir, async (_i, state) => dumpTables(state.storage.sql));
  return toHex(sha256(utf8(dump)));
}

/** Every table of the Directory and (settled, so no drain lands inside a check) of every replica. */
const everything = async () => ({ directory: await directoryDigest(), replicas: await settled() });

async function resign<T extends ReadReply | OpStatusReply | OpReply>(
  reply: T,
  change: (r: T) => void,
): Promise<T> {
  const copy = JSON.parse(JSON.stringify(reply)) as T;
  change(copy);
  const { sig: _sig, ...body } = copy;
  const key = await replicaKey(env, copy.replica);
  return signReply<T>(key.secret, body as unknown as Unsigned<T>);
}

let cluster: TestCluster;
let written: SignedOp;
let honestRead: ReadReply;
let honestStatus: OpStatusReply;
let lie: Evidence;

beforeAll(async () => {
  cluster = await TestCluster.create();
  const c = await TestClient.create();
  written = await c.sign("ev/k", "counter", "add", { n: 5 });
  expect((await post(written, "weur")).status).toBe(200);
  await deliverCertified([(await cluster.certify([written])).message]);
  honestRead = (await (await get("/v1/kv/ev%2Fk?replica=weur")).json()) as ReadReply;
  expect(honestRead.certified?.value).toMatchObject({ value: 5 });
  honestStatus = (await (await get(`/v1/ops/${opIdOf(written)}?replica=weur`)).json()) as OpStatusReply;
  expect(honestStatus.certified?.result).toMatchObject({ value: 5 });
  // weur tells its client the certified value is 50; its own certificate's stateRoot says 5
  lie = {
    kind: "bad_certified_read",
    reply: await resign(honestRead, (r) => (r.certified!.value!.value = 50)),
  };
});

afterAll(async () => {
  await lift("weur", ADMIN); // leave the replicas routable for whatever runs after
});

describe("POST /v1/evidence: bogus evidence", () => {
  it("is refused with a stable code and changes nothing, in the Directory or any replica", async () => {
    const stranger = await generateKeyPair();
    const { sig: _s, ...unsigned } = (lie as { reply: ReadReply }).reply;
    const cases: [unknown, number, string, string?][] = [
      ["{", 400, "malformed_json"],
      [{ kind: "bad_certified_read", kind2: 1 }, 422, "invalid_evidence", "malformed"],
      [{ kind: "forged" }, 422, "invalid_evidence", "unknown_kind"],
      [{ kind: "bad_certified_read", reply: honestRead }, 422, "invalid_evidence", "consistent"],
      [{ kind: "bad_certificate", reply: honestStatus }, 422, "invalid_evidence", "consistent"],
      [{ kind: "bad_certified_result", reply: honestStatus }, 422, "invalid_evidence", "consistent"],
      [
        { kind: "bad_certified_read", reply: await signReply<ReadReply>(stranger.secret, unsigned) },
        422,
        "invalid_evidence",
        "bad_reply_signature",
      ],
      [
        { ...lie, reply: { ...(lie as { reply: ReadReply }).reply, time: 1 } },
        422,
        "invalid_evidence",
        "bad_reply_signature",
      ],
      [
        { kind: "cluster_equivocation", certificates: [honestRead.certificate, honestRead.certificate] },
        422,
        "invalid_evidence",
        "not_equivocation",
      ],
      [
        JSON.stringify({ kind: "bad_certificate", pad: "x".repeat(EVIDENCE_BYTES_MAX) }),
        413,
        "payload_too_large",
      ],
    ];
    const before = await everything();
    for (const [body, status, code, reason] of cases) {
      const res = await submit(body);
      const got = (await res.json()) as { error: { code: string; details?: { reason?: string } } };
      expect([res.status, got.error.code, got.error.details?.reason]).toEqual([status, code, reason]);
    }
    const wrongType = await submit(lie, { headers: { "content-type": "text/plain" } });
    expect(wrongType.status).toBe(415);
    expect(await everything()).toEqual(before);
    const replicas = (await (await get("/v1/replicas")).json()) as { quarantined: Record<string, unknown> };
    expect(replicas.quarantined).toEqual({ weur: null, enam: null, apac: null });
  });
});

/** Every leaf path of a JSON value. */
function leaves(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(v)) return v.flatMap((x, i) => leaves(x, [...at, i]));
  if (v !== null && typeof v === "object")
    return Object.entries(v).flatMap(([k, x]) => leaves(x, [...at, k]));
  return [at];
}

describe("POST /v1/evidence: every field of a valid evidence changed, the body truncated", () => {
  it("each is refused with a stable code and nothing changes", async () => {
    const before = await everything();
    const text = JSON.stringify(lie);
    let sent = 0;
    for (const path of leaves(lie)) {
      const m = JSON.parse(text) as Record<string | number, unknown>;
      let parent = m;
      for (const p of path.slice(0, -1)) parent = parent[p] as Record<string | number, unknown>;
      const last = path[path.length - 1]!;
      const old = parent[last];
      parent[last] =
        typeof old === "number" ? old + 1 : typeof old === "string" ? `${old}x` : old === null ? 0 : !old;
      const res = await submit(m);
      sent++;
      expect([path.join("."), res.status]).toEqual([path.join("."), 422]);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_evidence");
    }
    for (const cut of [1, 10, 100, Math.floor(text.length / 2), text.length - 1]) {
      const res = await submit(text.slice(0, cut));
      expect([cut, res.status, ((await res.json()) as { error: { code: string } }).error.code]).toEqual([
        cut,
        400,
        "malformed_json",
      ]);
    }
    expect(sent).toBeGreaterThan(20);
    expect(await everything()).toEqual(before);
  });
});

describe("POST /v1/evidence: a replica's lie", () => {
  it("quarantines the replica: GET /v1/replicas says so and why, and the evidence is served to re-verify", async () => {
    const res = await submit(lie);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { verdict: { digest: string }; outcome: string; quarantine: unknown };
    expect(evidenceVerdictReply.safeParse(body).success).toBe(true);
    expect(body).toMatchObject({
      verdict: { kind: "bad_certified_read", replica: "weur" },
      outcome: "quarantined",
      quarantine: { replica: "weur", kind: "bad_certified_read", digest: body.verdict.digest },
    });
    const replicas = (await (await get("/v1/replicas")).json()) as { quarantined: Record<string, unknown> };
    expect(replicasReply.safeParse(replicas).success).toBe(true);
    expect(replicas.quarantined).toEqual({
      weur: { kind: "bad_certified_read", at: expect.any(Number), digest: body.verdict.digest },
      enam: null,
      apac: null,
    });
    const served = await get(`/v1/evidence/${body.verdict.digest}`);
    expect(served.status).toBe(200);
    const { config } = await clusterOf(env);
    const keys = new Map((await replicaInfos(env)).map((r) => [r.name, r.publicKey]));
    expect(await verifyEvidence(await served.json(), { cluster: config, replicaKeys: keys })).toMatchObject({
      ok: true,
      digest: body.verdict.digest,
    });
    expect((await get(`/v1/evidence/${"0".repeat(64)}`)).status).toBe(404);
  });

  it("a replay changes nothing; new evidence against the quarantined replica neither", async () => {
    const before = await everything();
    const again = (await (await submit(lie)).json()) as { outcome: string };
    expect(again.outcome).toBe("replay");
    // another lie of weur's: an op status whose certified result says 50
    const other: Evidence = {
      kind: "bad_certified_result",
      reply: await resign(honestStatus, (r) => (r.certified!.result.value = 50)),
    };
    const second = await submit(other);
    expect(second.status).toBe(200);
    expect(await second.json()).toMatchObject({
      outcome: "already_quarantined",
      quarantine: { kind: "bad_certified_read" },
    });
    expect(await everything()).toEqual(before);
  });

  it("routing skips it; an explicit route to it is 503 replica_quarantined, naming where to go", async () => {
    const c = await TestClient.create();
    const res = await SELF.fetch(`${BASE}/v1/ops`, {
      method: "POST",
      body: JSON.stringify(await c.sign("ev/routed", "counter", "add", { n: 1 })),
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as OpReply).replica).not.toBe("weur");
    for (const r of [
      await post(await c.sign("ev/explicit", "counter", "add", { n: 1 }), "weur"),
      await get("/v1/kv/ev%2Fk", { headers: { "x-aspec-replica": "weur" } }),
      await get("/v1/certificates/latest?replica=weur"),
    ]) {
      expect(r.status).toBe(503);
      expect(await r.json()).toMatchObject({
        error: {
          code: "replica_quarantined",
          details: { replica: "weur", kind: "bad_certified_read", replicas: ["enam", "apac"] },
        },
      });
    }
  });

  it("is durable: after every Durable Object restarts, the Directory still holds it", async () => {
    await restartAll();
    const replicas = (await (await get("/v1/replicas")).json()) as { quarantined: Record<string, unknown> };
    expect(replicas.quarantined.weur).toMatchObject({ kind: "bad_certified_read" });
    expect((await get("/v1/kv/ev%2Fk?replica=weur")).status).toBe(503);
  });

  it("the operator's lift: refused without the token or with a wrong one; with it, weur is routed to again", async () => {
    const before = await everything();
    expect((await lift("weur")).status).toBe(401);
    const wrong = await lift("weur", "not-the-token");
    expect(wrong.status).toBe(403);
    expect(await wrong.json()).toMatchObject({ error: { code: "forbidden" } });
    expect((await lift("mars", ADMIN)).status).toBe(404);
    expect(await everything()).toEqual(before);

    const ok = await lift("weur", ADMIN);
    expect(ok.status).toBe(200);
    const lifted = await ok.json();
    expect(liftReply.safeParse(lifted).success).toBe(true);
    expect(lifted).toMatchObject({ lifted: { replica: "weur", kind: "bad_certified_read" } });
    expect((await get("/v1/kv/ev%2Fk?replica=weur")).status).toBe(200);
    const replicas = (await (await get("/v1/replicas")).json()) as { quarantined: Record<string, unknown> };
    expect(replicas.quarantined.weur).toBeNull();
    const again = await lift("weur", ADMIN);
    expect(again.status).toBe(404);
    expect(await again.json()).toMatchObject({ error: { code: "not_quarantined" } });
    // the lifted evidence replayed changes nothing (a lift is not undone by its own evidence)
    expect(await (await submit(lie)).json()).toMatchObject({ outcome: "replay" });
    expect((await get("/v1/kv/ev%2Fk?replica=weur")).status).toBe(200);
  });
});

describe("POST /v1/evidence: the cluster's equivocation", () => {
  it("is recorded against the nodes that signed both, and quarantines no replica", async () => {
    const a = honestRead.certificate as Certificate;
    const forked = { ...a.body, stateRoot: "ab".repeat(32) };
    const b = combineShares(await cluster.sign(forked, [1, 2, 3]), cluster.config)!;
    const res = await submit({ kind: "cluster_equivocation", certificates: [a, b] });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { verdict: { digest: string } };
    expect(body).toMatchObject({
      verdict: { kind: "cluster_equivocation", nodes: ["pbft-1", "pbft-2"], seq: a.body.seq },
      outcome: "recorded",
    });
    const list = (await (await get("/v1/evidence")).json()) as { quarantines: unknown[]; cluster: unknown[] };
    expect(evidenceListReply.safeParse(list).success).toBe(true);
    expect(list.quarantines).toEqual([]);
    expect(list.cluster).toEqual([
      { digest: body.verdict.digest, seq: a.body.seq, nodes: ["pbft-1", "pbft-2"], at: expect.any(Number) },
    ]);
    const swapped = await submit({ kind: "cluster_equivocation", certificates: [b, a] });
    expect(await swapped.json()).toMatchObject({ outcome: "replay" });
  });
});
