/**
 * The replicas' dev lies (durable-objects/replica-lies.ts) caught as evidence: each reply is the
 * lying replica's own signed reply, taken off the wire as a client would, turned into evidence by
 * the SDK's `evidenceFrom` (checked with the one verifier first) and submitted. `lieCertified` and
 * `forgeCertificate` are provable and quarantine the replica; `lieTentative` is not (a tentative
 * value may differ from the certified one), so nothing is built and a forced submission is refused.
 */
import { SELF, env } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AspecClient, type EvidenceReport } from "../../client/client.js";
import { ReplyVerificationError } from "../../client/errors.js";
import { evidenceFrom, evidencePins, submitEvidence } from "../../client/evidence.js";
import { clusterOf } from "../../shared/cluster-config.js";
import type { EvidencePins } from "../../shared/evidence.js";
import { opIdOf } from "../../shared/ops.js";
import { replicaInfos } from "../../platform/keys.js";
import { TestCluster, deliverCertified } from "./cert-helpers.js";
import { setFaults } from "./delivery-helpers.js";
import { TestClient, post } from "./helpers.js";

const BASE = "https://edge.test";
const ADMIN = "test-admin-token";
const get = async (path: string) => (await SELF.fetch(`${BASE}${path}`)).json();
const submit = async (evidence: unknown) => {
  const res = await SELF.fetch(`${BASE}/v1/evidence`, {
    method: "POST",
    body: JSON.stringify(evidence),
    headers: { "content-type": "application/json" },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const lift = (replica: string) =>
  SELF.fetch(`${BASE}/v1/admin/quarantine/${replica}/lift`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN}` },
  });

let pins: EvidencePins;
let opId: string;
beforeAll(async () => {
  const cluster = await TestCluster.create();
  const c = await TestClient.create();
  const op = await c.sign("lies/k", "counter", "add", { n: 5 });
  expect((await post(op, "enam")).status).toBe(200);
  await deliverCertified([(await cluster.certify([op])).message]);
  opId = opIdOf(op);
  pins = {
    cluster: (await clusterOf(env)).config,
    replicaKeys: new Map((await replicaInfos(env)).map((r) => [r.name, r.publicKey])),
  };
});

afterAll(async () => {
  for (const r of ["weur", "enam", "apac"]) {
    await setFaults(r, {});
    await lift(r);
  }
});

describe("a lying replica's own replies as evidence", () => {
  it("lieCertified: its certified read and its op's certified result are each provable", async () => {
    await setFaults("enam", { lieCertified: true });
    const read = await get("/v1/kv/lies%2Fk?replica=enam");
    const status = await get(`/v1/ops/${opId}?replica=enam`);
    await setFaults("enam", {});
    const fromRead = await evidenceFrom({ reason: "bad_read_proof", reply: read }, pins);
    const fromStatus = await evidenceFrom({ reason: "bad_result_proof", reply: status }, pins);
    expect(fromRead).toMatchObject({ kind: "bad_certified_read" });
    expect(fromStatus).toMatchObject({ kind: "bad_certified_result" });
    const first = await submit(fromRead);
    expect(first).toMatchObject({
      status: 200,
      body: { verdict: { kind: "bad_certified_read", replica: "enam" }, outcome: "quarantined" },
    });
    expect(await submit(fromStatus)).toMatchObject({ status: 200, body: { outcome: "already_quarantined" } });
    expect(
      ((await get("/v1/replicas")) as { quarantined: Record<string, unknown> }).quarantined.enam,
    ).toMatchObject({ kind: "bad_certified_read" });
    expect((await lift("enam")).status).toBe(200);
  });

  it("forgeCertificate: a reply carrying a certificate of a seq that does not exist is provable", async () => {
    await setFaults("apac", { forgeCertificate: true });
    const latest = await get("/v1/certificates/latest?replica=apac");
    await setFaults("apac", {});
    const e = await evidenceFrom({ reason: "bad_certificate", reply: latest }, pins);
    expect(e).toMatchObject({ kind: "bad_certificate" });
    expect(await submit(e)).toMatchObject({
      status: 200,
      body: { verdict: { kind: "bad_certificate", replica: "apac" }, outcome: "quarantined" },
    });
    expect((await lift("apac")).status).toBe(200);
  });

  it("lieTentative: not provable — no evidence is built, and a forced submission is refused", async () => {
    await setFaults("weur", { lieTentative: true });
    const read = await get("/v1/kv/lies%2Fk?replica=weur");
    await setFaults("weur", {});
    expect(await evidenceFrom({ reply: read }, pins)).toBeNull();
    for (const kind of ["bad_certificate", "bad_certified_read"])
      expect(await submit({ kind, reply: read })).toMatchObject({
        status: 422,
        body: { error: { code: "invalid_evidence", details: { reason: "consistent" } } },
      });
    expect(
      ((await get("/v1/replicas")) as { quarantined: Record<string, unknown> }).quarantined.weur,
    ).toBeNull();
  });

  it("the SDK's own ReplyVerificationError from a lying replica becomes evidence that lands", async () => {
    const fetch = (input: string, init?: RequestInit) => SELF.fetch(input, init);
    // reportEvidence off: this test submits by hand (the SDK's own submission is tested below)
    const client = await AspecClient.connect({
      endpoint: BASE,
      replica: "weur",
      fetch,
      failover: false,
      reportEvidence: false,
    });
    await setFaults("weur", { lieCertified: true });
    const caught = await client.get("lies/k").then(
      () => null,
      (e: unknown) => e,
    );
    await setFaults("weur", {});
    expect(caught).toBeInstanceOf(ReplyVerificationError);
    expect(caught).toMatchObject({ reason: "bad_read_proof", replica: "weur" });
    const e = await evidenceFrom(
      caught as ReplyVerificationError,
      evidencePins(client.replicas, client.cluster),
    );
    expect(e).toMatchObject({ kind: "bad_certified_read" });
    expect(await submitEvidence(BASE, e, fetch)).toMatchObject({
      verdict: { kind: "bad_certified_read", replica: "weur" },
      outcome: "quarantined",
    });
    expect((await lift("weur")).status).toBe(200);
  });

  it("the SDK submits it by itself (reportEvidence, the default): the replica is quarantined", async () => {
    const fetch = (input: string, init?: RequestInit) => SELF.fetch(input, init);
    const client = await AspecClient.connect({ endpoint: BASE, replica: "enam", fetch, failover: false });
    const reports: EvidenceReport[] = [];
    client.on("evidence", (r) => reports.push(r));
    await setFaults("enam", { lieCertified: true });
    await client.get("lies/k2").catch(() => undefined);
    await setFaults("enam", {});
    for (let i = 0; i < 200 && reports.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(reports).toHaveLength(1);
    expect(reports[0]!.submission).toMatchObject({
      verdict: { kind: "bad_certified_read", replica: "enam" },
      outcome: "quarantined",
    });
    const replicas = (await (await SELF.fetch(`${BASE}/v1/replicas`)).json()) as {
      quarantined: Record<string, unknown>;
    };
    expect(replicas.quarantined.enam).toMatchObject({ kind: "bad_certified_read" });
    expect((await lift("enam")).status).toBe(200);
  });
});
