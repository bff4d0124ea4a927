// Freshness in the SDK against an in-test deployment (test/support/sdk-deployment.ts: real Ed25519,
// real certificates): every reply must carry the nonce its request was sent with (a replayed or
// backdated reply is `reply_replayed`, no evidence), a replica's certificate must not go back from
// what it showed before the request was sent (the client's order, not the reply's signed time), and
// a reply's newest certificate is at most 10 s old by default; a stale replica is failed over and
// tried again later, never left for good.
import { describe, expect, it } from "vitest";
import { AspecClient, type ConnectOptions, type EvidenceReport } from "../../../client/client.js";
import { ReplyVerificationError } from "../../../client/errors.js";
import { endedAfterEach } from "../../support/client-cleanup.js";
import { TestDeployment } from "../../support/sdk-deployment.js";

const ended = endedAfterEach();
async function setup(over: Partial<ConnectOptions> = {}) {
  const d = await TestDeployment.create();
  const c = ended(await AspecClient.connect(d.connectOptions({ replica: "weur", ...over })));
  return { d, c };
}

const refusal = async (p: Promise<unknown>): Promise<ReplyVerificationError> => {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ReplyVerificationError);
  return e as ReplyVerificationError;
};

describe("replies are bound to their request", () => {
  it("every request carries a fresh nonce", async () => {
    const { d, c } = await setup();
    await c.counter("n").add(1);
    await c.get("n");
    await c.get("n");
    const sent = d.nonces.slice(-3);
    expect(sent.every((n) => typeof n === "string" && /^[A-Za-z0-9_-]{22}$/.test(n))).toBe(true);
    expect(new Set(sent).size).toBe(3);
  });

  it("a replayed reply (an earlier request's, genuinely signed) is refused reply_replayed; no evidence, the replica is not left", async () => {
    const d = await TestDeployment.create();
    let kept: string | undefined;
    let replay = false;
    const c = ended(
      await AspecClient.connect(
        d.connectOptions({
          replica: "weur",
          failover: false,
          fetch: async (url, init) => {
            if (replay && kept !== undefined && new URL(url).pathname.startsWith("/v1/kv/"))
              return new Response(kept, { headers: { "content-type": "application/json" } });
            const res = await d.fetch(url, init);
            if (new URL(url).pathname.startsWith("/v1/kv/")) kept = await res.clone().text();
            return res;
          },
        }),
      ),
    );
    const evidence: EvidenceReport[] = [];
    c.on("evidence", (e) => evidence.push(e));
    await c.counter("r").add(1);
    await d.certify();
    expect((await c.get("r")).certified?.value?.value).toBe(1);
    replay = true;
    const e = await refusal(c.get("r"));
    expect(e.reason).toBe("reply_replayed");
    expect(e.replica).toBe("weur");
    await c.reported();
    expect(evidence).toEqual([]); // a replay proves nothing against the replica
    expect(c.leftReplicas).toEqual([]);
  });

  it("a backdated reply (fresh nonce, older certificate, earlier signed time) is a regression: the reply's time is not trusted", async () => {
    const { d, c } = await setup({ failover: false });
    await c.counter("b").add(1);
    await d.certify();
    await c.counter("b").add(1);
    await d.certify();
    expect((await c.get("b")).certificate?.body.seq).toBe(2);
    d.lie = (path, reply) => {
      if (path !== "read") return reply;
      return { ...reply, certificate: d.certificates[0], certified: null, time: d.time - 60_000 };
    };
    const e = await refusal(c.get("b"));
    expect(e.reason).toBe("certificate_regressed");
    expect(c.certifiedSeq).toBe(2);
  });

  it("a backdated reply without the request's nonce (signed for no request, or for another) is refused reply_replayed", async () => {
    const { d, c } = await setup({ failover: false });
    await c.counter("b").add(1);
    await d.certify();
    d.lie = (path, reply) => {
      if (path !== "read") return reply;
      const { nonce: _n, ...rest } = reply;
      return { ...rest, time: d.time - 60_000 };
    };
    expect((await refusal(c.get("b"))).reason).toBe("reply_replayed");
    d.lie = (path, reply) => (path === "op" ? { ...reply, nonce: "AAAAAAAAAAAAAAAAAAAAAA" } : reply);
    expect((await refusal(c.counter("b").add(1))).reason).toBe("reply_replayed");
  });

  it("a signed refusal that is not this request's (an earlier request's, replayed) is refused reply_replayed", async () => {
    const d = await TestDeployment.create();
    let kept: string | undefined;
    const c = ended(
      await AspecClient.connect(
        d.connectOptions({
          replica: "weur",
          failover: false,
          fetch: async (url, init) => {
            if (kept !== undefined) return new Response(kept, { status: 404 });
            const res = await d.fetch(url, init);
            if (res.status === 404) kept = await res.clone().text();
            return res;
          },
        }),
      ),
    );
    const opId = `${"A".repeat(43)}:1`;
    // the honest refusal, signed with this request's nonce: the server's word
    await expect(c.opStatus(opId)).rejects.toMatchObject({ name: "AspecError", code: "unknown_op_id" });
    expect((await refusal(c.opStatus(opId))).reason).toBe("reply_replayed");
  });

  it("a cached certified read (no nonce) is taken on its proof; one older than its replica showed before is reply_replayed", async () => {
    const { d, c } = await setup({ failover: false });
    d.cachedCertifiedReads = true;
    await c.counter("cr").add(1);
    await d.certify();
    const r = await c.getCertified("cr");
    expect(r.nonce).toBeUndefined();
    expect(r.certified.value?.value).toBe(1);
    await c.counter("cr").add(1);
    await d.certify();
    expect((await c.get("cr")).certificate?.body.seq).toBe(2);
    const old = d.certificates[0]!;
    d.lie = (path, reply) => {
      if (path !== "certified-read") return reply;
      // an honest reply of seq 1, as the cache held it: its own certificate and proof
      return { ...reply, certificate: old, certified: r.certified };
    };
    expect((await refusal(c.getCertified("cr"))).reason).toBe("reply_replayed");
  });
});

describe("certificate age: 10 s by default, stale means fail over and come back", () => {
  it("a stale replica is failed over, rests, and is tried again later: never left for good", async () => {
    const { d, c } = await setup({ maxUncertified: Infinity }); // no op followed: only reads move the home
    const events: string[] = [];
    c.on("failover", (e) => {
      if (e.opId === undefined) events.push(`${e.from}->${e.to}`); // reads' failovers, not the op tracker's
    });
    await c.counter("s").add(1);
    await d.certify();
    await c.get("s");
    d.time += 20_000;
    await d.heartbeat(); // the cluster goes on; weur stopped receiving certificates
    const stale = d.certificates[0]!;
    d.lie = (path, reply, replica) =>
      replica === "weur" && path === "read" ? { ...reply, certificate: stale, certified: null } : reply;
    const r = await c.get("s");
    expect(r.replica).toBe("enam");
    expect(events).toEqual(["weur->enam"]);
    expect(c.replica).toBe("enam");
    expect(c.leftReplicas).toEqual([]);
    expect(c.restingReplicas).toEqual(["weur"]);
    // while it rests, weur is not asked: enam and apac down → no replica
    d.lie = undefined; // weur catches up
    d.replica("enam").down = true;
    d.replica("apac").down = true;
    await expect(c.get("s")).rejects.toMatchObject({ code: "unavailable" });
    // its rest over, weur is asked again and answers
    d.time += 1_000;
    await d.heartbeat();
    const back = await c.get("s");
    expect(back.replica).toBe("weur");
    expect(c.restingReplicas).toEqual([]);
  });

  it("an idle deployment whose cluster heartbeats stays readable under the default bound; without heartbeats it goes stale", async () => {
    const { d, c } = await setup();
    await c.counter("idle").add(3);
    await d.certify();
    for (let i = 0; i < 30; i++) {
      d.time += 2_000; // a minute idle, a heartbeat certificate every 2 s
      await d.heartbeat();
      expect((await c.get("idle")).certified?.value?.value).toBe(3);
    }
    d.time += 12_000; // no heartbeat: every replica's newest certificate is 12 s old
    const e = await refusal(c.get("idle"));
    expect(e.reason).toBe("certificate_stale");
    expect(c.leftReplicas).toEqual([]);
  });

  it("maxCertificateAgeMs: Infinity opts out; 0, a negative or NaN bound is refused at connect", async () => {
    const { d, c } = await setup({ maxCertificateAgeMs: Infinity });
    await c.counter("inf").add(1);
    await d.certify();
    d.time += 3_600_000;
    expect((await c.get("inf")).certificate?.body.seq).toBe(1);
    for (const bad of [0, -1, Number.NaN])
      await expect(AspecClient.connect(d.connectOptions({ maxCertificateAgeMs: bad }))).rejects.toThrow(
        RangeError,
      );
  });

  it("a reply without a certificate is not judged by age (a deployment not certifying yet stays usable)", async () => {
    const { d, c } = await setup();
    d.time += 3_600_000;
    expect((await c.counter("none").add(1)).certificate).toBeNull();
    expect((await c.get("none")).certificate).toBeNull();
  });
});
