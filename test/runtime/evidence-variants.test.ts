/**
 * Evidence judged on signed content only, in workerd with the real Directory and replicas:
 *
 * - a lie that its replica padded itself (a member 40 deep, the reply past 256 KiB), which the SDK
 *   accepts, is accepted as evidence and quarantines;
 * - padded, nested and re-ordered submissions of one lie (unsigned members beside the reply and in
 *   the truth, keys in another order, the truth's certificate with another set of valid signatures,
 *   the same reply shown as another kind) have one digest: replays, also after a lift;
 * - the largest reply the SDK accepts (bytes and depth) fits the evidence route;
 * - `POST /v1/evidence` past its rate per address is `429 rate_limited` with `Retry-After`, and
 *   changes nothing.
 *
 * The tests of this file share one history, in order.
 */
import { SELF, createExecutionContext, env, runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { toHex, utf8 } from "../../shared/bytes.js";
import type { Certificate } from "../../shared/certified/types.js";
import { clusterOf } from "../../shared/cluster-config.js";
import { verifyEvidence, type EvidencePins } from "../../shared/evidence.js";
import { sha256 } from "../../shared/hash.js";
import { opIdOf } from "../../shared/ops.js";
import { signReply, type OpStatusReply, type ReadReply, type Unsigned } from "../../shared/replies.js";
import {
  EVIDENCE_BYTES_MAX,
  REPLY_BYTES_MAX,
  REPLY_DEPTH_MAX,
  parseReplyText,
} from "../../shared/reply-limits.js";
import { evidenceFrom } from "../../client/evidence.js";
import { replicaInfos, replicaKey } from "../../platform/keys.js";
import worker from "../../workers/index.js";
import { TestCluster, deliverCertified } from "./cert-helpers.js";
import { TestClient, post } from "./helpers.js";
import { dumpTables, settled } from "./state-digest.js";

const ADMIN = "test-admin-token";
const BASE = "https://edge.test";
const get = (path: string) => SELF.fetch(`${BASE}${path}`);
const submit = (body: unknown) =>
  SELF.fetch(`${BASE}/v1/evidence`, {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { "content-type": "application/json" },
  });
const lift = (replica: string) =>
  SELF.fetch(`${BASE}/v1/admin/quarantine/${replica}/lift`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN}` },
  });
const answer = async (res: Response) =>
  (await res.json()) as {
    outcome?: string;
    verdict?: { digest: string; kind: string };
    error?: { code: string };
  };

/** `n` nested arrays around 0. */
const nested = (n: number): unknown => (n === 0 ? 0 : [nested(n - 1)]);

async function directoryDigest(): Promise<string> {
  const dir = env.DIRECTORY.get(env.DIRECTORY.idFromName("directory"));
  return toHex(sha256(utf8(await runInDurableObject(dir, async (_i, s) => dumpTables(s.storage.sql)))));
}
const everything = async () => ({ directory: await directoryDigest(), replicas: await settled() });

/** A reply changed and signed again with its replica's own key: a lie as a lying replica tells it. */
async function resign<T extends ReadReply | OpStatusReply>(
  reply: T,
  change: (r: Record<string, unknown>) => void,
) {
  const copy = JSON.parse(JSON.stringify(reply)) as Record<string, unknown>;
  change(copy);
  const { sig: _sig, ...body } = copy;
  return signReply<T>((await replicaKey(env, reply.replica)).secret, body as unknown as Unsigned<T>);
}

let cluster: TestCluster;
let pins: EvidencePins;
let honestRead: ReadReply;
let honestStatus: OpStatusReply;
let allFour: Certificate;

beforeAll(async () => {
  cluster = await TestCluster.create();
  const c = await TestClient.create();
  const written = await c.sign("var/k", "counter", "add", { n: 5 });
  expect((await post(written, "weur")).status).toBe(200);
  const made = await cluster.certify([written]);
  await deliverCertified([made.message]);
  allFour = { body: made.body, sigs: made.sigs }; // every node's signature, not just a quorum
  honestRead = (await (await get("/v1/kv/var%2Fk?replica=weur")).json()) as ReadReply;
  honestStatus = (await (await get(`/v1/ops/${opIdOf(written)}?replica=weur`)).json()) as OpStatusReply;
  expect(honestStatus.certified?.result).toMatchObject({ value: 5 });
  const { config } = await clusterOf(env);
  pins = {
    cluster: config,
    replicaKeys: new Map((await replicaInfos(env)).map((r) => [r.name, r.publicKey])),
  };
});

describe("a lie its replica padded, which the SDK accepts", () => {
  it("is accepted as evidence (a member 40 deep, the reply past 256 KiB) and quarantines", async () => {
    const padded = await resign(honestRead, (r) => {
      (r.certified as { value: { value: number } }).value.value = 50;
      r.deep = nested(40);
      r.pad = "x".repeat(300 * 1024);
    });
    const text = JSON.stringify(padded);
    expect(parseReplyText(text).ok).toBe(true); // the SDK reads it …
    const evidence = await evidenceFrom({ reason: "bad_read_proof", reply: JSON.parse(text) }, pins);
    expect(evidence).not.toBeNull(); // … and builds evidence of it
    const res = await submit(evidence);
    expect(res.status).toBe(200);
    expect(await answer(res)).toMatchObject({
      outcome: "quarantined",
      verdict: { kind: "bad_certified_read" },
    });
    expect((await lift("weur")).status).toBe(200);
  });
});

describe("one lie, one digest", () => {
  let lying: OpStatusReply;
  let digest: string;

  it("the first submission quarantines; the Directory keeps its normal form", async () => {
    lying = await resign(
      honestStatus,
      (r) => ((r.certified as { result: { value: number } }).result.value = 50),
    );
    const res = await submit({ kind: "contradicted_result", reply: lying, truth: honestStatus.certified });
    const first = await answer(res);
    expect(first).toMatchObject({ outcome: "quarantined", verdict: { kind: "contradicted_result" } });
    digest = first.verdict!.digest;
    const stored = await (await get(`/v1/evidence/${digest}`)).json();
    expect(await verifyEvidence(stored, pins)).toMatchObject({ ok: true, digest });
  });

  const variants = (): [string, unknown][] => {
    const truth = honestStatus.certified!;
    const reversedKeys = (v: unknown) => JSON.parse(JSON.stringify(v, allKeys(v).reverse()));
    return [
      [
        "padded beside the reply",
        { kind: "contradicted_result", reply: lying, truth, pad: "y".repeat(64 * 1024) },
      ],
      [
        "nested 40 deep beside the reply",
        { kind: "contradicted_result", reply: lying, truth, deep: nested(40) },
      ],
      [
        "padded inside the truth",
        { kind: "contradicted_result", reply: lying, truth: { ...truth, note: [1, { a: 2 }] } },
      ],
      [
        "its truth's certificate with all four signatures, reversed, and a stray member",
        {
          kind: "contradicted_result",
          reply: lying,
          truth: { ...truth, certificate: { ...allFour, sigs: [...allFour.sigs].reverse(), x: 1 } },
        },
      ],
      ["re-ordered keys", reversedKeys({ kind: "contradicted_result", reply: lying, truth })],
      ["the same reply as bad_certified_result", { kind: "bad_certified_result", reply: lying }],
    ];
  };

  it("padded, nested and re-ordered variants are replays: nothing changes", async () => {
    const before = await everything();
    for (const [what, v] of variants()) {
      const got = await answer(await submit(v));
      expect([what, got.outcome, got.verdict?.digest]).toEqual([what, "replay", digest]);
    }
    expect(await everything()).toEqual(before);
  });

  it("after a lift, every variant is still a replay: the replica stays routable", async () => {
    expect((await lift("weur")).status).toBe(200);
    const before = await everything();
    for (const [what, v] of variants())
      expect([what, (await answer(await submit(v))).outcome]).toEqual([what, "replay"]);
    expect(await everything()).toEqual(before);
    const replicas = (await (await get("/v1/replicas")).json()) as { quarantined: Record<string, unknown> };
    expect(replicas.quarantined.weur).toBeNull();
  });
});

describe("the largest reply the SDK accepts", () => {
  it("fits the evidence route: REPLY_BYTES_MAX re-encoded bytes, REPLY_DEPTH_MAX deep", async () => {
    const shaped = async (padBytes: number) =>
      resign(honestStatus, (r) => {
        (r.certified as { result: { value: number } }).result.value = 51;
        r.deep = nested(REPLY_DEPTH_MAX - 1); // the reply is level 1
        r.pad = "z".repeat(padBytes);
      });
    const probe = await shaped(0);
    const largest = (await shaped(REPLY_BYTES_MAX - utf8(JSON.stringify(probe)).length)) as OpStatusReply & {
      pad: string;
      deep: unknown;
    };
    expect(utf8(JSON.stringify(largest)).length).toBe(REPLY_BYTES_MAX);
    expect(parseReplyText(JSON.stringify(largest)).ok).toBe(true);
    // one more byte, or one more level, and the SDK refuses it (so it never needs to be evidence)
    expect(parseReplyText(JSON.stringify({ ...largest, pad: largest.pad + "z" })).ok).toBe(false);
    // (one level deeper costs 2 bytes: take them from the pad, so depth alone is what is refused)
    expect(
      parseReplyText(JSON.stringify({ ...largest, pad: largest.pad.slice(2), deep: [largest.deep] })),
    ).toMatchObject({ problem: "too_deep" });

    const evidence = { kind: "contradicted_result", reply: largest, truth: honestStatus.certified };
    expect(utf8(JSON.stringify(evidence)).length).toBeLessThanOrEqual(EVIDENCE_BYTES_MAX);
    const res = await submit(evidence);
    expect(res.status).toBe(200);
    expect(await answer(res)).toMatchObject({ outcome: "quarantined" });
    expect((await lift("weur")).status).toBe(200);
  });
});

describe("POST /v1/evidence: rate limited per client address", () => {
  const from = (address: string, limit: string) =>
    worker.fetch(
      new Request(`${BASE}/v1/evidence`, {
        method: "POST",
        body: JSON.stringify({ kind: "bad_certificate" }),
        headers: { "content-type": "application/json", "cf-connecting-ip": address },
      }),
      { ...env, EVIDENCE_RATE_PER_MIN: limit },
      createExecutionContext(),
    );

  it("is 429 rate_limited with Retry-After past the limit, for that address only, and changes nothing", async () => {
    const before = await everything();
    for (let i = 0; i < 3; i++) expect((await from("203.0.113.7", "3")).status).toBe(422);
    const limited = await from("203.0.113.7", "3");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await answer(limited)).toMatchObject({ error: { code: "rate_limited" } });
    expect((await from("203.0.113.8", "3")).status).toBe(422); // another address has its own bucket
    expect(await everything()).toEqual(before);
  });
});

/** Every key name in a value (a JSON.stringify replacer list puts keys in its order). */
function allKeys(v: unknown, out = new Set<string>()): string[] {
  if (Array.isArray(v)) v.forEach((x) => allKeys(x, out));
  else if (v !== null && typeof v === "object")
    for (const [k, x] of Object.entries(v)) {
      out.add(k);
      allKeys(x, out);
    }
  return [...out];
}
