// Where a client sends each request and when it fails over, against the in-test deployment (real
// Ed25519 replies and certificates): the URL it builds, the home replica it sticks to, the order in
// which it tries the others, which refusals are a replica's fault (fail over) and which are the
// caller's (thrown as they are), the seq resync only on a well-formed `seq_replayed`, and that a
// failed op hands its tolerance slot back.
import { describe, expect, it } from "vitest";
import { AspecClient, type ConnectOptions } from "../../../client/client.js";
import { retryPolicy } from "../../../client/backoff.js";
import type { FailoverEvent } from "../../../client/certify.js";
import {
  AspecClientError,
  BadResponseError,
  isAspecClientError,
  ReplyVerificationError,
} from "../../../client/errors.js";
import type { FetchFn } from "../../../client/transport.js";
import { AspecError } from "../../../shared/errors.js";
import { opIdOf, parseOp } from "../../../shared/ops.js";
import { signErrorReply } from "../../../shared/replies.js";
import { endedAfterEach } from "../../support/client-cleanup.js";
import { TestDeployment } from "../../support/sdk-deployment.js";

const ended = endedAfterEach();

/** A deployment whose fetch records every URL and lets a test answer a request itself. */
async function setup(over: Partial<ConnectOptions> = {}, names?: string[]) {
  const d = await TestDeployment.create(names);
  const urls: string[] = [];
  let answer: ((url: URL, init?: RequestInit) => Promise<Response | undefined>) | undefined;
  const fetch: FetchFn = async (input, init) => {
    urls.push(String(input));
    const own = answer ? await answer(new URL(input), init) : undefined;
    return own ?? d.fetch(input, init);
  };
  const c = ended(await AspecClient.connect(d.connectOptions({ fetch, ...over })));
  return { d, c, urls, setAnswer: (a: typeof answer) => void (answer = a) };
}

/** The request's nonce, which a replica signs back. */
const nonceOf = (init?: RequestInit): { nonce?: string } => {
  const n = new Headers(init?.headers).get("x-aspec-nonce");
  return n === null ? {} : { nonce: n };
};

/** A refusal signed by `replica`, as a replica signs it. */
async function signedRefusal(
  d: TestDeployment,
  replica: string,
  status: number,
  error: { code: string; message: string; details?: unknown },
  init?: RequestInit,
): Promise<Response> {
  const opId = init?.body === undefined ? undefined : opIdOf(parseOp(JSON.parse(String(init.body))));
  const body = await signErrorReply(d.replica(replica).key.secret, {
    error: error as never,
    kind: "error",
    replica,
    time: d.time,
    ...(opId === undefined ? {} : { opId }),
    ...nonceOf(init),
  });
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

const opsPosted = (urls: string[]) => urls.filter((u) => new URL(u).pathname === "/v1/ops");

describe("the URLs a client builds", () => {
  it("without a home replica the first request names none (no `?`), and the replica that answers becomes home", async () => {
    const { c, urls } = await setup();
    await c.counter("n").add(1);
    await c.counter("n").add(1);
    expect(opsPosted(urls)).toEqual([
      "http://deployment.test/v1/ops",
      "http://deployment.test/v1/ops?replica=weur",
    ]);
  });

  it("every trailing slash of the endpoint is dropped", async () => {
    const { c, urls } = await setup({ endpoint: "http://deployment.test///", replica: "weur" });
    expect(c.endpoint).toBe("http://deployment.test");
    await c.counter("n").add(1);
    expect(opsPosted(urls)).toEqual(["http://deployment.test/v1/ops?replica=weur"]);
  });

  it("opStatus without a wait asks once, with no long-poll parameters", async () => {
    // Plain EC with nobody listening: no certification polls of the SDK's own in between.
    const { c, urls } = await setup({ replica: "weur", maxUncertified: Infinity });
    const w = await c.counter("n").add(1);
    await c.opStatus(w.opId);
    await c.opStatus(w.opId, 0);
    const polls = urls.filter((u) => new URL(u).pathname.startsWith("/v1/ops/"));
    expect(polls).toHaveLength(2);
    for (const u of polls) expect(new URL(u).searchParams.has("wait")).toBe(false);
    await c.opStatus(w.opId, 1);
    expect(new URL(urls.at(-1)!).searchParams.get("wait")).toBe("certified");
    c.close();
  });
});

describe("failover order", () => {
  it("skips a replica left for lying and goes on to the next in directory order", async () => {
    const { d, c } = await setup({ replica: "enam", maxUncertified: Infinity });
    const to: (string | undefined)[] = [];
    c.on("failover", (e: FailoverEvent) => to.push(e.to));
    // enam lies once: it is left for good, and apac takes over.
    d.lie = (path, reply, replica) =>
      path === "op" && replica === "enam" ? { ...reply, key: "another-key" } : reply;
    await c.counter("n").add(1);
    d.lie = undefined;
    // apac goes down: weur (next after apac, wrapping round).
    d.replica("apac").down = true;
    await c.counter("n").add(1);
    d.replica("apac").down = false;
    // weur goes down: enam is next but was left, so apac.
    d.replica("weur").down = true;
    await c.counter("n").add(1);
    expect(to).toEqual(["apac", "weur", "apac"]);
  });

  it("with every replica down, each is asked once and the first failure is thrown", async () => {
    const { d, c, urls } = await setup({ replica: "weur" });
    for (const r of d.replicas) r.down = true;
    const err = await c
      .counter("n")
      .add(1)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AspecError);
    expect((err as AspecError).message).toContain("weur is down");
    expect(opsPosted(urls).map((u) => new URL(u).searchParams.get("replica"))).toEqual([
      "weur",
      "enam",
      "apac",
    ]);
  });
});

describe("which refusals fail over", () => {
  it("a 5xx `not_configured` is the deployment's, not the replica's: thrown, no other replica asked", async () => {
    const { d, c, urls, setAnswer } = await setup({ replica: "weur" });
    setAnswer(async (url, init) =>
      url.pathname === "/v1/ops"
        ? signedRefusal(d, "weur", 503, { code: "not_configured", message: "no secret" }, init)
        : undefined,
    );
    const err = await c
      .counter("n")
      .add(1)
      .catch((e: unknown) => e);
    expect((err as AspecError).code).toBe("not_configured");
    expect(opsPosted(urls)).toHaveLength(1);
  });

  it("a 4xx refusal is the caller's: thrown as it is, no other replica asked", async () => {
    const { d, c, urls, setAnswer } = await setup({ replica: "weur" });
    setAnswer(async (url, init) =>
      url.pathname === "/v1/ops"
        ? signedRefusal(d, "weur", 409, { code: "type_mismatch", message: "n is a register" }, init)
        : undefined,
    );
    const err = await c
      .counter("n")
      .add(1)
      .catch((e: unknown) => e);
    expect((err as AspecError).code).toBe("type_mismatch");
    expect(opsPosted(urls)).toHaveLength(1);
  });
});

describe("seq resync", () => {
  const replayedOnce = async (details: unknown, code = "seq_replayed") => {
    const s = await setup({ replica: "weur" });
    let first = true;
    s.setAnswer(async (url, init) => {
      if (url.pathname !== "/v1/ops" || !first) return undefined;
      first = false;
      return signedRefusal(s.d, "weur", 409, { code, message: "seq used", details }, init);
    });
    const out = await s.c
      .counter("n")
      .add(1)
      .then(
        (w) => ({ ok: w }),
        (e: unknown) => ({ err: e }),
      );
    return { ...s, out };
  };

  it("a well-formed lastSeq resyncs once: the op is re-signed past it", async () => {
    const { out, c } = await replayedOnce({ lastSeq: 41 });
    expect("ok" in out && out.ok.opId.endsWith(":42")).toBe(true);
    expect(c.nextSeq).toBe(43);
  });

  for (const [what, lastSeq] of [
    ["negative", -1],
    ["fractional", 1.5],
    ["a string", "41"],
    ["beyond a safe integer", 2 ** 53],
  ] as const)
    it(`a lastSeq that is ${what} is not trusted: the refusal is thrown and no seq is skipped`, async () => {
      const { out, c, urls } = await replayedOnce({ lastSeq });
      expect("err" in out && (out.err as AspecError).code).toBe("seq_replayed");
      expect(opsPosted(urls)).toHaveLength(1);
      expect(c.nextSeq).toBe(2);
    });

  it("another refusal carrying a lastSeq is not a resync", async () => {
    const { out, urls } = await replayedOnce({ lastSeq: 41 }, "seq_out_of_range");
    expect("err" in out && (out.err as AspecError).code).toBe("seq_out_of_range");
    expect(opsPosted(urls)).toHaveLength(1);
  });
});

describe("the tolerance slot of a failed op", () => {
  it("is handed back: with k = 1, an op that failed does not block the next one", async () => {
    const { d, c } = await setup({ replica: "weur", maxUncertified: 1, failover: false });
    d.replica("weur").down = true;
    await expect(c.counter("n").add(1)).rejects.toThrow(/down/);
    d.replica("weur").down = false;
    const next = await Promise.race([
      c.counter("n").add(1),
      new Promise<"blocked">((r) => setTimeout(() => r("blocked"), 2_000)),
    ]);
    expect(next).not.toBe("blocked");
    c.close();
  });
});

describe("events", () => {
  it("plain EC (k = Infinity) still follows certification when someone listens for `certified`", async () => {
    const { d, c } = await setup({ replica: "weur", maxUncertified: Infinity });
    const heard: string[] = [];
    c.on("certified", (o) => heard.push(o.opId));
    const w = await c.counter("n").add(1);
    await d.certify();
    d.autoCertify = true;
    await c.settled();
    expect(heard).toEqual([w.opId]);
    c.close();
  });

  it("a signed refusal is not an `unverified` reply, and reports no evidence", async () => {
    const { c } = await setup({ replica: "weur" });
    const unverified: unknown[] = [];
    const evidence: unknown[] = [];
    c.on("unverified", (e) => unverified.push(e));
    c.on("evidence", (e) => evidence.push(e));
    await expect(c.opStatus(`${"A".repeat(43)}:1`)).rejects.toThrow(AspecError);
    await c.reported();
    expect(unverified).toEqual([]);
    expect(evidence).toEqual([]);
  });

  it("a reply refused for a reason that proves nothing (a bad signature) submits no evidence", async () => {
    const { c, setAnswer, d } = await setup({ replica: "weur", failover: false });
    const evidence: unknown[] = [];
    const posts: string[] = [];
    c.on("evidence", (e) => evidence.push(e));
    setAnswer(async (url, init) => {
      if (url.pathname === "/v1/evidence") posts.push(String(init?.body));
      if (url.pathname !== "/v1/ops") return undefined;
      const honest = (await (await d.fetch(url.toString(), init)).json()) as Record<string, unknown>;
      return new Response(JSON.stringify({ ...honest, sig: "A".repeat(86) }), { status: 200 });
    });
    const err = await c
      .counter("n")
      .add(1)
      .catch((e: unknown) => e);
    expect((err as ReplyVerificationError).reason).toBe("bad_signature");
    await c.reported();
    expect(evidence).toEqual([]);
    expect(posts).toEqual([]);
  });
});

describe("connect's own refusals say what is wrong", () => {
  it("an unknown home replica lists the known ones", async () => {
    const d = await TestDeployment.create();
    await expect(AspecClient.connect(d.connectOptions({ replica: "mars" }))).rejects.toThrow(
      "no replica 'mars' (known: weur, enam, apac)",
    );
  });

  it("a key whose public half is another key's", async () => {
    const d = await TestDeployment.create();
    const a = d.replica("weur").key;
    const b = d.replica("enam").key;
    const err = await AspecClient.connect(
      d.connectOptions({ key: { secret: a.secret, publicKey: b.publicKey } }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AspecClientError);
    expect((err as AspecClientError).code).toBe("invalid_key");
    expect((err as AspecClientError).message).toBe("key.publicKey does not belong to key.secret");
  });
});

describe("the SDK's error classes", () => {
  it("carry their names and codes, and isAspecClientError tells them apart", () => {
    const e = new AspecClientError("invalid_key", "x");
    const b = new BadResponseError("HTTP 502 with a body that is not JSON", 502);
    expect(e.name).toBe("AspecClientError");
    expect(b.name).toBe("BadResponseError");
    expect(b.code).toBe("bad_response");
    expect(b.message).toBe("HTTP 502 with a body that is not JSON");
    expect(isAspecClientError(b)).toBe(true);
    expect(isAspecClientError(new Error("x"))).toBe(false);
  });

  it("retry delays of zero are allowed (no back-off), negative ones refused", () => {
    expect(retryPolicy({ baseDelayMs: 0, maxDelayMs: 0 })).toMatchObject({ baseDelayMs: 0, maxDelayMs: 0 });
    expect(() => retryPolicy({ baseDelayMs: -1 })).toThrow(RangeError);
  });

  it("AspecClient.rolledBack tells a changed outcome from a kept one", () => {
    expect(
      AspecClient.rolledBack({ status: "ok", value: 1 }, { opId: "x", status: "ok", value: 1 } as never),
    ).toBe(false);
    expect(
      AspecClient.rolledBack({ status: "ok", value: 1 }, { opId: "x", status: "ok", value: 2 } as never),
    ).toBe(true);
  });
});
