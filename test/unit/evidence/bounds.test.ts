/**
 * The reply bound (shared/reply-limits.ts) on the SDK's side, the evidence digest's normal form,
 * and the evidence route's token buckets (shared/rate-limit.ts). Real Ed25519; a stand-in `fetch`
 * plays a replica that pads its own signed replies.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { AspecClient } from "../../../client/client.js";
import { ReplyVerificationError } from "../../../client/errors.js";
import { requestJson } from "../../../client/transport.js";
import { utf8 } from "../../../shared/bytes.js";
import { devKeyPair, type KeyPair } from "../../../shared/crypto/keys.js";
import { evidenceDigest, verifyEvidence, type Evidence } from "../../../shared/evidence.js";
import { TokenBuckets, ratePerMinute } from "../../../shared/rate-limit.js";
import { signReply, type OpStatusReply, type ReadReply, type Unsigned } from "../../../shared/replies.js";
import {
  EVIDENCE_BYTES_MAX,
  EVIDENCE_DEPTH_MAX,
  REPLY_BYTES_MAX,
  REPLY_DEPTH_MAX,
  parseReplyText,
} from "../../../shared/reply-limits.js";
import { clone, evidenceWorld, type EvidenceWorld } from "../../support/evidence-fixtures.js";
import { sdkTestCluster } from "../../support/sdk-cluster.js";

const nested = (n: number): unknown => (n === 0 ? 0 : [nested(n - 1)]);
const http = {
  fetch: (_u: string) => Promise.reject(new Error("unused")),
  retry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 },
  timeoutMs: 5000,
};

/** A 200 whose body is `text`, served lazily in 4 KiB chunks, counting what the SDK read. */
function served(text: string) {
  const bytes = utf8(text);
  const read = { bytes: 0 };
  const body = new ReadableStream<Uint8Array>(
    {
      pull(ctl) {
        if (read.bytes >= bytes.length) return ctl.close();
        const chunk = bytes.subarray(read.bytes, read.bytes + 4096);
        read.bytes += chunk.length;
        ctl.enqueue(chunk);
      },
    },
    { highWaterMark: 0 },
  );
  return { response: new Response(body, { status: 200 }), read };
}

const fetchOnce = (text: string) => {
  const s = served(text);
  return {
    ...s,
    get: () =>
      requestJson({ method: "GET", url: "http://x.test/" }, { ...http, fetch: async () => s.response }),
  };
};

async function refusal(p: Promise<unknown>): Promise<ReplyVerificationError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ReplyVerificationError);
  return e as ReplyVerificationError;
}

describe("the SDK's reply bound", () => {
  it("a reply of exactly REPLY_BYTES_MAX bytes and REPLY_DEPTH_MAX deep is read", async () => {
    const base = JSON.stringify({ deep: nested(REPLY_DEPTH_MAX - 1), pad: "" });
    const text = JSON.stringify({
      deep: nested(REPLY_DEPTH_MAX - 1),
      pad: "x".repeat(REPLY_BYTES_MAX - base.length),
    });
    expect(utf8(text).length).toBe(REPLY_BYTES_MAX);
    expect(await fetchOnce(text).get()).toMatchObject({ pad: expect.any(String) });
  });

  it("one byte more is refused as out_of_bounds (not evidence: no reply kept), and reading stops there", async () => {
    const huge = JSON.stringify({ pad: "x".repeat(8 * REPLY_BYTES_MAX) });
    const f = fetchOnce(huge);
    const e = await refusal(f.get());
    expect([e.reason, e.reply]).toEqual(["out_of_bounds", null]);
    expect(f.read.bytes).toBeLessThan(REPLY_BYTES_MAX + 64 * 1024);
    const justOver = JSON.stringify({ pad: "x".repeat(REPLY_BYTES_MAX - 10 + 1) });
    expect(utf8(justOver).length).toBe(REPLY_BYTES_MAX + 1);
    expect((await refusal(fetchOnce(justOver).get())).reason).toBe("out_of_bounds");
  });

  it("one level deeper, or what the evidence route's parser refuses, is out_of_bounds", async () => {
    expect((await refusal(fetchOnce(JSON.stringify({ deep: nested(REPLY_DEPTH_MAX) })).get())).reason).toBe(
      "out_of_bounds",
    );
    for (const text of ['{"a":1,"a":2}', '{"__proto__":{"x":1}}'])
      expect((await refusal(fetchOnce(text).get())).reason).toBe("out_of_bounds");
  });

  it("a reply whose re-encoding (what evidence carries) is past the bound is refused, though it arrived smaller", async () => {
    // `1e20` is 4 bytes received, 21 re-encoded by JSON.stringify
    const n = Math.ceil(REPLY_BYTES_MAX / 22) + 10;
    const text = `[${Array(n).fill("1e20").join(",")}]`;
    expect(utf8(text).length).toBeLessThan(REPLY_BYTES_MAX);
    expect(parseReplyText(text)).toMatchObject({ ok: false, problem: "too_large" });
    expect((await refusal(fetchOnce(text).get())).reason).toBe("out_of_bounds");
  });

  it("the evidence bound holds a reply and a truth at the reply bound, one level deeper", () => {
    expect(EVIDENCE_BYTES_MAX).toBeGreaterThanOrEqual(2 * REPLY_BYTES_MAX + 64);
    expect(EVIDENCE_DEPTH_MAX).toBe(REPLY_DEPTH_MAX + 1);
  });
});

describe("a client fails over from a replica padding its replies past the bound", () => {
  let weur: KeyPair, enam: KeyPair;
  beforeEach(async () => {
    weur = await devKeyPair("bounds-test", "weur");
    enam = await devKeyPair("bounds-test", "enam");
  });

  it("reads through enam, leaves weur, and submits no evidence", async () => {
    const read = (replica: string, over: Record<string, unknown>): Unsigned<ReadReply> =>
      ({
        kind: "read",
        key: "k",
        type: "counter",
        value: 1,
        replica,
        certificate: null,
        certification: "none",
        certified: null,
        time: 1,
        ...over,
      }) as Unsigned<ReadReply>;
    const posted: string[] = [];
    const client = await AspecClient.connect({
      cluster: await sdkTestCluster(),
      endpoint: "http://replica.test",
      replica: "weur",
      replicas: [
        { name: "weur", region: "weur", publicKey: weur.publicKey },
        { name: "enam", region: "enam", publicKey: enam.publicKey },
      ],
      retry: { attempts: 1 },
      fetch: async (url, init) => {
        if (init?.method === "POST") posted.push(url);
        const padded = new URL(url).searchParams.get("replica") === "weur";
        const n = new Headers(init?.headers).get("x-aspec-nonce"); // signed back, as a replica does
        const nonce = n === null ? {} : { nonce: n };
        const reply = padded
          ? await signReply<ReadReply>(weur.secret, read("weur", { ...nonce, pad: nested(REPLY_DEPTH_MAX) }))
          : await signReply<ReadReply>(enam.secret, read("enam", nonce));
        return new Response(JSON.stringify(reply), { status: 200 });
      },
    });
    try {
      expect(await client.get("k")).toMatchObject({ replica: "enam", value: 1 });
      expect(posted).toEqual([]);
    } finally {
      await client.close();
    }
  });
});

describe("evidence: one lie, one digest, judged on signed content only", () => {
  let w: EvidenceWorld;
  let lies: Record<Evidence["kind"], Evidence>;
  beforeEach(async () => {
    w = await evidenceWorld();
    lies = await w.lies();
  });

  it("unsigned members beside the reply, in the truth, in a certificate, and another valid quorum: one digest, one normal form", async () => {
    const lie = lies.contradicted_result as Extract<Evidence, { kind: "contradicted_result" }>;
    const first = await verifyEvidence(lie, w.pins);
    if (!first.ok) throw new Error("the lie must verify");
    const quorum = lie.truth.certificate;
    const variants: unknown[] = [
      { ...lie, pad: "p".repeat(10_000), deep: nested(40) },
      { ...lie, truth: { ...lie.truth, note: { x: [1] } } },
      {
        ...lie,
        truth: { ...lie.truth, certificate: { ...quorum, sigs: [...quorum.sigs].reverse(), extra: 1 } },
      },
      { ...lie, truth: { ...lie.truth, proof: { ...lie.truth.proof, stray: true } } },
      { ...lie, truth: { ...lie.truth, result: { ...lie.truth.result, stray: "s" } } },
      { kind: "bad_certified_result", reply: lie.reply, also: 1 },
    ];
    for (const v of variants) {
      const got = await verifyEvidence(v, w.pins);
      expect(got).toMatchObject({ ok: true, digest: first.digest });
    }
    // the normal form holds only what was verified, and verifies again to the same digest
    const again = await verifyEvidence(
      { ...lie, truth: { ...lie.truth, proof: { ...lie.truth.proof, stray: true } }, pad: 1 },
      w.pins,
    );
    if (!again.ok) throw new Error("the variant must verify");
    expect(again.evidence).toEqual(first.evidence);
    expect(Object.keys(again.evidence).sort()).toEqual(["kind", "reply", "truth"]);
    expect(await verifyEvidence(clone(again.evidence), w.pins)).toMatchObject({
      ok: true,
      digest: first.digest,
    });
  });

  it("a truth certificate with every node's signature is the same lie as one with a quorum", async () => {
    const lie = lies.contradicted_result as Extract<Evidence, { kind: "contradicted_result" }>;
    const { signShare } = await import("../../../shared/certified/certificate.js");
    const body = lie.truth.certificate.body;
    const sigs = await Promise.all([0, 1, 2, 3].map(async (i) => signShare(w.nodeKeys[i]!.secret, i, body)));
    const four = { body, sigs: sigs.map((s) => ({ node: s.node, sig: s.sig })) };
    const v = await verifyEvidence({ ...lie, truth: { ...lie.truth, certificate: four } }, w.pins);
    expect(v).toMatchObject({ ok: true, digest: evidenceDigest(lie) });
  });

  it("the same reply signed again (another signature, same body) is the same lie; another body is another", async () => {
    const lie = lies.bad_certified_read as Extract<Evidence, { kind: "bad_certified_read" }>;
    const changed = clone(lie.reply as ReadReply);
    changed.time += 1;
    const other = { kind: lie.kind, reply: await w.sign(changed) };
    expect(evidenceDigest(other)).not.toBe(evidenceDigest(lie));
    const sameBody = { kind: lie.kind, reply: { ...(lie.reply as ReadReply), sig: "another-signature" } };
    expect(evidenceDigest(sameBody as Evidence)).toBe(evidenceDigest(lie));
  });

  it("the equivocation's digest names the two bodies, whatever signatures or order", async () => {
    const eq = lies.cluster_equivocation as Extract<Evidence, { kind: "cluster_equivocation" }>;
    const [a, b] = eq.certificates;
    const first = await verifyEvidence(eq, w.pins);
    const swapped = await verifyEvidence(
      { kind: eq.kind, certificates: [{ ...b, sigs: [...b.sigs].reverse(), x: 1 }, a], pad: [] },
      w.pins,
    );
    expect(first.ok && swapped.ok && swapped.digest === first.digest).toBe(true);
    if (first.ok && swapped.ok) expect(swapped.evidence).toEqual(first.evidence);
  });
});

describe("token buckets", () => {
  const rate = { perMinute: 3 };

  it("a minute's worth at once, then refused with the seconds until the next token", () => {
    const b = new TokenBuckets();
    for (let i = 0; i < 3; i++) expect(b.take("a", 0, rate)).toEqual({ ok: true });
    expect(b.take("a", 0, rate)).toEqual({ ok: false, retryAfterSeconds: 20 });
    expect(b.take("b", 0, rate)).toEqual({ ok: true }); // per key
    expect(b.take("a", 19_999, rate)).toMatchObject({ ok: false });
    expect(b.take("a", 20_000, rate)).toEqual({ ok: true });
  });

  it("keeps at most keysMax keys, dropping the least recently used", () => {
    const b = new TokenBuckets(2);
    b.take("a", 0, rate);
    b.take("b", 0, rate);
    b.take("a", 0, rate);
    b.take("c", 0, rate);
    expect(b.size).toBe(2);
    // "a" was kept (one token left of three), "b" was dropped (a full bucket again)
    expect(b.take("a", 0, rate).ok).toBe(true);
    expect(b.take("a", 0, rate).ok).toBe(false);
    for (let i = 0; i < 3; i++) expect(b.take("b", 0, rate).ok).toBe(true);
    expect(b.size).toBe(2);
  });

  it("a var that is not a positive integer falls back to the default", () => {
    for (const v of [undefined, "", "0", "-1", "1.5", "x"]) expect(ratePerMinute(v, 30)).toBe(30);
    expect(ratePerMinute("7", 30)).toBe(7);
  });
});
