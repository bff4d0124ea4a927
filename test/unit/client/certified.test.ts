// The verifying SDK against an in-test deployment (test/support/sdk-deployment.ts): real Ed25519,
// real certificates and proofs. Certified outcomes, tolerance k, rollback, failover, and the
// certificate order and freshness checks.
import { describe, expect, it } from "vitest";
import {
  AspecClient,
  type ConnectOptions,
  type EvidenceReport,
  type FailoverEvent,
  type RollbackEvent,
} from "../../../client/client.js";
import { AspecClientError, ReplyVerificationError } from "../../../client/errors.js";
import { verifyEvidence } from "../../../shared/evidence.js";
import { endedAfterEach } from "../../support/client-cleanup.js";
import { TestDeployment } from "../../support/sdk-deployment.js";

const ended = endedAfterEach();
async function setup(over: Partial<ConnectOptions> = {}) {
  const d = await TestDeployment.create();
  const c = ended(await AspecClient.connect(d.connectOptions({ replica: "weur", ...over })));
  return { d, c };
}

/** Let ready callbacks run (a bounded number of macrotask turns); nothing asserted depends on how many. */
const turns = async (n = 20) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

/** Turn the event loop until `cond` holds (bounded: fails rather than hangs). */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 100_000 && !cond(); i++) await new Promise((r) => setImmediate(r));
  expect(cond()).toBe(true);
}

describe("certified outcomes", () => {
  it("w.certified is the proven certified result; reads carry a proven certified value", async () => {
    const { d, c } = await setup();
    await c.account("alice").deposit(10);
    const w = await c.account("alice").withdraw(7);
    expect(w.tentative).toEqual({ status: "ok", value: 3 });
    expect(JSON.parse(JSON.stringify(w))).not.toHaveProperty("certified"); // the JSON is the signed reply
    expect(c.uncertified).toBe(2);
    d.autoCertify = true;
    const final = await w.certified;
    expect(final.result).toMatchObject({ status: "ok", value: 3 });
    expect(final.rolledBack).toBe(false);
    expect(final.seq).toBe(1);
    expect(final.certificate.sigs).toHaveLength(3);
    await c.settled();
    expect(c.uncertified).toBe(0);
    expect(c.certifiedSeq).toBe(1);
    const r = await c.get("alice");
    expect(r.certified?.value?.value).toBe(3);
    expect((await c.getCertified("alice")).certified.value?.value).toBe(3);
    const status = await c.opStatus(w.opId);
    expect(status.certified?.result.value).toBe(3);
    c.close();
  });

  it("emits rollback when the certified order decides otherwise (two withdraws of the last funds)", async () => {
    const d = await TestDeployment.create();
    const a = await AspecClient.connect(d.connectOptions({ replica: "weur" }));
    const b = await AspecClient.connect(d.connectOptions({ replica: "enam" }));
    await a.account("acct").deposit(10); // reaches both replicas
    d.replicateTentative = false; // then a partition: each replica sees only its own withdraw
    const rollbacks: RollbackEvent[] = [];
    a.on("rollback", (e) => rollbacks.push(e));
    b.on("rollback", (e) => rollbacks.push(e));
    const wa = await a.account("acct").withdraw(10);
    const wb = await b.account("acct").withdraw(10);
    expect([wa.tentative.status, wb.tentative.status]).toEqual(["ok", "ok"]);
    await d.certify();
    const [fa, fb] = await Promise.all([wa.certified, wb.certified]);
    expect([fa.result.status, fb.result.status]).toEqual(["ok", "rejected"]);
    expect(fb.rolledBack).toBe(true);
    expect(rollbacks).toHaveLength(1);
    expect(rollbacks[0]).toMatchObject({
      opId: wb.opId,
      tentative: { status: "ok", value: 0 },
      certified: { status: "rejected", reason: "insufficient_funds" },
    });
    a.close();
    b.close();
  });
});

describe("register.cas through the SDK", () => {
  it("two CASes from the same value race: both ok tentatively, one certified ok, the other's client gets rollback (cas_failed)", async () => {
    const d = await TestDeployment.create();
    const a = await AspecClient.connect(d.connectOptions({ replica: "weur" }));
    const b = await AspecClient.connect(d.connectOptions({ replica: "enam" }));
    await a.register("doc").set({ rev: 1 }); // reaches both replicas
    d.replicateTentative = false; // then a partition: each replica sees only its own CAS
    const rollbacks: RollbackEvent[] = [];
    a.on("rollback", (e) => rollbacks.push(e));
    b.on("rollback", (e) => rollbacks.push(e));
    const ca = await a.register("doc").cas({ rev: 1 }, { rev: 2, by: "a" });
    const cb = await b.register("doc").cas({ rev: 1 }, { rev: 2, by: "b" });
    expect([ca.tentative.status, cb.tentative.status]).toEqual(["ok", "ok"]);
    await d.certify();
    const [fa, fb] = await Promise.all([ca.certified, cb.certified]);
    expect([fa.result.status, fb.result.status]).toEqual(["ok", "rejected"]);
    expect(fb.rolledBack).toBe(true);
    expect(rollbacks).toHaveLength(1);
    expect(rollbacks[0]).toMatchObject({
      opId: cb.opId,
      certified: { status: "rejected", reason: "cas_failed", value: { rev: 2, by: "a" } },
    });
    // a CAS the home replica finds failed is answered rejected at once
    const late = await a.register("doc").cas({ rev: 1 }, { rev: 3 });
    expect(late.tentative).toMatchObject({ status: "rejected", reason: "cas_failed" });
    a.close();
    b.close();
  });
});

describe("tolerance k", () => {
  it("k = 2: the third op waits (an event and a promise) until one is certified", async () => {
    const { d, c } = await setup({ maxUncertified: 2 });
    const events: string[] = [];
    c.on("blocked", () => events.push("blocked"));
    c.on("unblocked", () => events.push("unblocked"));
    await c.counter("n").add(1);
    await c.counter("n").add(1);
    let third = false;
    const p = c
      .counter("n")
      .add(1)
      .then((r) => ((third = true), r));
    await turns();
    expect(third).toBe(false);
    expect(events).toEqual(["blocked"]);
    expect(d.pending).toHaveLength(2); // the third was not even sent
    await d.certify();
    const r = await p;
    expect(events).toEqual(["blocked", "unblocked"]);
    expect(r.tentative.value).toBe(3);
    c.close();
  });

  it("k = 0: each op resolves only once certified", async () => {
    const { d, c } = await setup({ maxUncertified: 0 });
    let done = false;
    const p = c
      .counter("z")
      .add(5)
      .then((r) => ((done = true), r));
    // accepted, and its certification asked for: still unresolved
    await until(() => d.requests.some((r) => r.path.startsWith("/v1/ops/")));
    expect(done).toBe(false);
    expect(d.pending).toHaveLength(1);
    await d.certify();
    await p;
    expect(c.uncertified).toBe(0);
    expect((await (await p).certified).result.value).toBe(5);
    c.close();
  });

  it("k = Infinity with no listener: nothing waits and nothing is polled unless asked", async () => {
    const { d, c } = await setup({ maxUncertified: Infinity });
    for (let i = 0; i < 10; i++) await c.counter("e").add(1);
    expect(c.uncertified).toBe(0);
    expect(d.requests.filter((r) => r.path.startsWith("/v1/ops/"))).toEqual([]);
    c.close();
  });

  it("close() rejects the pending certified promises with `closed`", async () => {
    const { c } = await setup();
    const w = await c.counter("q").add(1);
    c.close();
    await expect(w.certified).rejects.toMatchObject({ code: "closed" });
  });
});

describe("failover", () => {
  it("a replica that is down: the same signed op goes to the next replica", async () => {
    const { d, c } = await setup();
    const seen: FailoverEvent[] = [];
    c.on("failover", (e) => seen.push(e));
    d.replica("weur").down = true;
    const w = await c.counter("f").add(1);
    expect(w.replica).toBe("enam");
    expect(c.replica).toBe("enam");
    expect(seen).toMatchObject([{ from: "weur", to: "enam", opId: w.opId }]);
    c.close();
  });

  it("reads fail over too: a replica that is down, then one whose certified value its proof refutes", async () => {
    const { d, c } = await setup({ reportEvidence: false });
    const w = await c.counter("r").add(4);
    await d.certify();
    await w.certified; // its poll is over: a poll of the downed replica would fail over too (a race)
    const seen: FailoverEvent[] = [];
    c.on("failover", (e) => seen.push(e));
    d.replica("weur").down = true;
    const r1 = await c.get("r");
    expect([r1.replica, r1.value]).toEqual(["enam", 4]);
    expect(seen).toMatchObject([{ from: "weur", to: "enam", opId: undefined }]);
    d.replica("weur").down = false;
    d.lie = (path, reply, replica) => {
      if ((path === "read" || path === "certified-read") && replica === "enam") {
        const v = (reply.certified as { value: { value: number } }).value;
        v.value = 40;
      }
      return reply;
    };
    const r2 = await c.getCertified("r");
    expect(r2.replica).toBe("apac");
    expect(r2.certified.value).toMatchObject({ value: 4 });
    expect(c.leftReplicas).toEqual(["enam"]);
    expect(seen.at(-1)).toMatchObject({ from: "enam", to: "apac" });
    c.close();
  });

  it("a quarantined replica (503 replica_quarantined) is left for the next, for writes and for polls", async () => {
    const { d, c } = await setup({ now: Date.now });
    const seen: FailoverEvent[] = [];
    c.on("failover", (e) => seen.push(e));
    const w = await c.counter("qq").add(1); // accepted at weur
    d.replica("weur").quarantined = true; // then quarantined: its polls fail
    d.autoCertify = true;
    const final = await w.certified;
    expect(final.replica).toBe("enam");
    const next = await c.counter("qq").add(1); // the home moved on
    expect(next.replica).toBe("enam");
    expect(seen.map((s) => [s.from, s.to])).toEqual([["weur", "enam"]]);
    c.close();
  });

  it("a replica that lies about the certified result is left; the op is certified through the next", async () => {
    const { d, c } = await setup({ now: Date.now });
    const seen: FailoverEvent[] = [];
    c.on("failover", (e) => seen.push(e));
    const unverified: ReplyVerificationError[] = [];
    c.on("unverified", (e) => unverified.push(e));
    const w = await c.counter("g").add(2);
    d.lie = (path, reply, replica) => {
      if (path === "op-status" && replica === "weur" && reply.certified)
        (reply.certified as { result: { value: number } }).result.value = 999;
      return reply;
    };
    d.autoCertify = true;
    const final = await w.certified;
    expect(final.replica).toBe("enam");
    expect(final.result.value).toBe(2);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.reason).toBeInstanceOf(ReplyVerificationError);
    expect((seen[0]!.reason as ReplyVerificationError).reason).toBe("bad_result_proof");
    expect(c.leftReplicas).toEqual(["weur"]);
    // the lie, as the replica signed it, is handed to listeners (evidence)
    expect(unverified.map((e) => [e.reason, e.replica])).toEqual([["bad_result_proof", "weur"]]);
    expect(
      (unverified[0]!.reply as { certified: { result: { value: number } } }).certified.result.value,
    ).toBe(999);
    // dedupe: enam got the same op id again, applied once
    expect(d.results.size).toBe(1);
    c.close();
  });

  it("a lie its own proof refutes is submitted as evidence (POST /v1/evidence), reported as an event", async () => {
    const { d, c } = await setup({ now: Date.now });
    const reports: EvidenceReport[] = [];
    c.on("evidence", (r) => reports.push(r));
    const w = await c.counter("g").add(2);
    d.lie = (path, reply, replica) => {
      if (path === "op-status" && replica === "weur" && reply.certified)
        (reply.certified as { result: { value: number } }).result.value = 999;
      return reply;
    };
    d.autoCertify = true;
    await w.certified;
    await c.reported(); // resolves once the submission is over, whatever it answered
    expect(reports).toHaveLength(1);
    expect(reports[0]!.evidence.kind).toBe("bad_certified_result");
    expect(reports[0]!.error.replica).toBe("weur");
    // the evidence is checked by the one verifier against the client's pins before it is sent
    expect((await verifyEvidence(reports[0]!.evidence, c.pins)).ok).toBe(true);
    expect(d.requests.filter((r) => r.method === "POST" && r.path === "/v1/evidence")).toHaveLength(1);
    // this in-test deployment has no evidence route: the failure is reported, nothing throws
    expect(reports[0]!.submission).toBeUndefined();
    expect(reports[0]!.failure).toBeDefined();
    c.close();
  });

  it("reportEvidence: false: the lie is refused and failed over, and nothing is submitted", async () => {
    const quiet = await setup({ now: Date.now, reportEvidence: false });
    quiet.d.lie = (path, reply, replica) => {
      if (path === "op-status" && replica === "weur" && reply.certified)
        (reply.certified as { result: { value: number } }).result.value = 999;
      return reply;
    };
    const w = await quiet.c.counter("g").add(2);
    quiet.d.autoCertify = true;
    expect((await w.certified).replica).toBe("enam");
    await turns();
    expect(quiet.d.requests.some((r) => r.path === "/v1/evidence")).toBe(false);
    quiet.c.close();
  });

  it("a re-send the next replica refuses moves on at once, with that refusal as the reason", async () => {
    const { d, c } = await setup({ now: Date.now });
    const seen: FailoverEvent[] = [];
    c.on("failover", (e) => seen.push(e));
    const w = await c.counter("rs").add(1);
    d.replica("weur").quarantined = true;
    d.replica("enam").down = true;
    d.autoCertify = true;
    expect((await w.certified).replica).toBe("apac");
    expect(seen.map((s) => [s.from, s.to, s.reason instanceof Error])).toEqual([
      ["weur", "enam", true],
      ["enam", "apac", true],
    ]);
    expect((seen[1]!.reason as { code?: string }).code).toBe("unavailable");
    c.close();
  });

  it("an op not certified by the deadline is re-sent through the next replica, then given up", async () => {
    const { d, c } = await setup({ now: Date.now, certifyDeadlineMs: 20 });
    const seen: FailoverEvent[] = [];
    c.on("failover", (e) => seen.push(e));
    const w = await c.counter("h").add(1);
    const e = await w.certified.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AspecClientError);
    expect((e as AspecClientError).code).toBe("not_certified");
    expect(seen.map((s) => [s.from, s.to, s.reason])).toEqual([
      ["weur", "enam", "deadline"],
      ["enam", "apac", "deadline"],
    ]);
    const posts = d.requests.filter((r) => r.method === "POST").map((r) => r.replica);
    expect(posts).toEqual(["weur", "enam", "apac"]);
    expect(d.pending).toHaveLength(1); // one op, sent three times
    c.close();
  });
});

describe("certificate order and freshness", () => {
  it("maxCertificateAgeMs: an old certificate is refused as stale", async () => {
    const { d, c } = await setup({ maxCertificateAgeMs: 1_000 });
    await c.counter("s").add(1);
    await d.certify();
    await c.get("s");
    d.time += 5_000;
    const e = await c.get("s").catch((x: unknown) => x);
    expect((e as ReplyVerificationError).reason).toBe("certificate_stale");
    c.close();
  });

  it("a cluster whose digest is not its own, or not the pinned one, is refused at connect", async () => {
    const d = await TestDeployment.create();
    const bad = { ...d.cluster.info, configDigest: "0".repeat(64) };
    await expect(AspecClient.connect(d.connectOptions({ cluster: bad }))).rejects.toMatchObject({
      code: "invalid_cluster",
    });
    await expect(
      AspecClient.connect(d.connectOptions({ configDigest: "1".repeat(64) })),
    ).rejects.toMatchObject({ code: "invalid_cluster" });
    const { cluster: _c, ...fetched } = d.connectOptions({ configDigest: d.cluster.info.configDigest });
    const c = await AspecClient.connect(fetched); // fetched from GET /v1/cluster, digest pinned
    expect(c.cluster.configDigest).toBe(d.cluster.info.configDigest);
  });
});
