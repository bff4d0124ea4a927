// Seq handling: the counter itself, and the client's use of it (monotone seqs, one resync on
// seq_replayed, same op id on retry). The fetch below is a scripted responder that signs replies
// with a real replica key via signReply: it exercises the SDK's logic, it does not stand in for the
// server (test/e2e/ec.test.ts runs the SDK against the real one).
import { beforeEach, describe, expect, it } from "vitest";
import { AspecClient } from "../../../client/client.js";
import { SeqCounter } from "../../../client/seq.js";
import type { FetchFn } from "../../../client/transport.js";
import { devKeyPair, type KeyPair } from "../../../shared/crypto/keys.js";
import { AspecError } from "../../../shared/errors.js";
import { opIdOf, parseOp, SEQ_MAX, verifyOp, type SignedOp } from "../../../shared/ops.js";
import {
  signErrorReply,
  signReply,
  type OpReply,
  type ReplicaInfo,
  type Unsigned,
} from "../../../shared/replies.js";
import { sdkTestCluster } from "../../support/sdk-cluster.js";

describe("SeqCounter", () => {
  it("hands out increasing seqs and never goes back", () => {
    const s = new SeqCounter();
    expect([s.take(), s.take(), s.take()]).toEqual([1, 2, 3]);
    s.advancePast(10);
    expect(s.take()).toBe(11);
    s.advancePast(5);
    expect(s.next).toBe(12);
    s.advancePast(-1);
    s.advancePast(1.5);
    expect(s.next).toBe(12);
  });

  it("refuses a start outside [1, MAX_SAFE_INTEGER]", () => {
    expect(new SeqCounter(42).next).toBe(42);
    for (const bad of [0, -1, 1.5, Number.MAX_SAFE_INTEGER + 1, NaN])
      expect(() => new SeqCounter(bad)).toThrow(RangeError);
  });
});

let weur: KeyPair, replicas: ReplicaInfo[];
// Per test, not in beforeAll (test/support/lazy.ts says why).
beforeEach(async () => {
  weur = await devKeyPair("client-test", "weur");
  replicas = [{ name: "weur", region: "weur", publicKey: weur.publicKey }];
});

/** `nonce`: the request's, which a reply signs back. */
type Step = (op: SignedOp, nonce: string | undefined) => Response | Error | Promise<Response>;

const reply = (op: SignedOp, nonce: string | undefined) =>
  signReply<OpReply>(weur.secret, {
    kind: "op",
    opId: opIdOf(op),
    key: op.key,
    type: op.type,
    tentative: { status: "ok", value: 1 },
    replica: "weur",
    certificate: null,
    certification: "none",
    uncertified: 1,
    duplicate: false,
    time: op.ts,
    ...(nonce === undefined ? {} : { nonce }),
  } satisfies Unsigned<OpReply>);
const ok: Step = async (op, nonce) => Response.json(await reply(op, nonce));
const replayed =
  (lastSeq?: number): Step =>
  async (op, nonce) =>
    Response.json(
      await signErrorReply(weur.secret, {
        error: {
          code: "seq_replayed",
          message: "seen",
          ...(lastSeq === undefined ? {} : { details: { lastSeq } }),
        },
        kind: "error",
        replica: "weur",
        opId: opIdOf(op),
        time: op.ts,
        ...(nonce === undefined ? {} : { nonce }),
      }),
      { status: 409 },
    );
const netError: Step = () => new TypeError("fetch failed");

/** A client whose POSTs are answered by `steps` in order; records every op it sent. */
async function scriptedClient(steps: Step[], seq?: number) {
  const sent: SignedOp[] = [];
  const fetch: FetchFn = async (url, init) => {
    expect(url).toBe("http://127.0.0.1:1/v1/ops?replica=weur");
    const op = parseOp(JSON.parse(String(init?.body)));
    expect(await verifyOp(op)).toBe(true);
    sent.push(op);
    const step = steps.shift();
    if (!step) throw new Error("script exhausted");
    const r = await step(op, new Headers(init?.headers).get("x-aspec-nonce") ?? undefined);
    if (r instanceof Error) throw r;
    return r;
  };
  const c = await AspecClient.connect({
    cluster: await sdkTestCluster(),
    maxUncertified: Infinity,
    endpoint: "http://127.0.0.1:1/",
    replica: "weur",
    replicas,
    fetch,
    retry: { baseDelayMs: 1, maxDelayMs: 2 },
    ...(seq === undefined ? {} : { seq }),
  });
  return { c, sent };
}

describe("AspecClient seqs", () => {
  it("gives each op the next seq, concurrent ones included", async () => {
    const { c, sent } = await scriptedClient([ok, ok, ok, ok]);
    await c.counter("a").add(1);
    await Promise.all([c.set("s").add("x"), c.register("r").set("v"), c.account("m").deposit(2)]);
    expect(sent.map((o) => o.seq).sort()).toEqual([1, 2, 3, 4]);
    expect(c.nextSeq).toBe(5);
  });

  it("starts at the seq given", async () => {
    const { c, sent } = await scriptedClient([ok], 100);
    await c.counter("a").add(1);
    expect(sent[0]!.seq).toBe(100);
    expect(c.nextSeq).toBe(101);
  });

  it("on seq_replayed with lastSeq, moves past it and re-signs the op once", async () => {
    const { c, sent } = await scriptedClient([replayed(41), ok]);
    const r = await c.counter("a").add(3);
    expect(sent.map((o) => o.seq)).toEqual([1, 42]);
    expect(sent[1]!.args).toEqual({ n: 3 });
    expect(r.opId).toBe(opIdOf(sent[1]!));
    expect(c.nextSeq).toBe(43);
  });

  it("resyncs only once, and not without lastSeq", async () => {
    const twice = await scriptedClient([replayed(41), replayed(50)]);
    const e = await twice.c
      .counter("a")
      .add(1)
      .catch((x: unknown) => x);
    expect((e as AspecError).code).toBe("seq_replayed");
    expect(twice.sent).toHaveLength(2);

    const bare = await scriptedClient([replayed()]);
    await expect(bare.c.counter("a").add(1)).rejects.toBeInstanceOf(AspecError);
    expect(bare.sent).toHaveLength(1);
  });

  it("re-sends the same signed op (same op id) after a network error", async () => {
    const { c, sent } = await scriptedClient([netError, netError, ok]);
    const r = await c.counter("a").add(1);
    expect(sent).toHaveLength(3);
    expect(sent[1]).toEqual(sent[0]);
    expect(sent[2]).toEqual(sent[0]);
    expect(r.opId).toBe(opIdOf(sent[0]!));
    expect(c.nextSeq).toBe(2);
  });

  it("spends no seq on an op refused locally", async () => {
    const { c, sent } = await scriptedClient([ok]);
    await expect(c.account("m").withdraw(0)).rejects.toMatchObject({ code: "invalid_args" });
    await c.counter("a").add(1);
    expect(sent.map((o) => o.seq)).toEqual([1]);
  });
});

describe("AspecClient.connect", () => {
  it("refuses an unknown replica and a key whose halves don't match", async () => {
    await expect(
      AspecClient.connect({
        endpoint: "http://127.0.0.1:1",
        replica: "mars",
        replicas,
        cluster: await sdkTestCluster(),
      }),
    ).rejects.toMatchObject({
      code: "unknown_replica",
    });
    const other = await devKeyPair("client-test", "other");
    await expect(
      AspecClient.connect({
        endpoint: "http://127.0.0.1:1",
        replicas,
        cluster: await sdkTestCluster(),
        key: { secret: weur.secret, publicKey: other.publicKey },
      }),
    ).rejects.toMatchObject({ code: "invalid_key" });
  });
});

describe("the seq space of a key", () => {
  it("the last seq is handed out once; the next take says the space is exhausted", () => {
    const s = new SeqCounter(SEQ_MAX);
    expect(s.take()).toBe(SEQ_MAX);
    expect(() => s.take()).toThrow(RangeError);
    expect(() => s.take()).toThrow(/seq space exhausted/);
  });
});
