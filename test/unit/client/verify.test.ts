// Reply verification with real Ed25519 signatures: replies are built with shared/replies.ts signReply.
import { beforeEach, describe, expect, it } from "vitest";
import { checkIntent, signIntent } from "../../../client/build-op.js";
import { AspecClient } from "../../../client/client.js";
import { CertificateGuard } from "../../../client/certificates.js";
import { checkCluster } from "../../../client/cluster.js";
import { ReplyVerificationError, type VerificationReason } from "../../../client/errors.js";
import {
  checkErrorReply,
  verifyCertificateReply,
  verifyOpReply,
  verifyReadReply,
  type PinnedKeys,
} from "../../../client/verify.js";
import { devKeyPair, generateKeyPair, type KeyPair } from "../../../shared/crypto/keys.js";
import { AspecError } from "../../../shared/errors.js";
import { opIdOf, parseOp, verifyOp, type SignedOp } from "../../../shared/ops.js";
import {
  signErrorReply,
  signReply,
  type CertificateReply,
  type OpReply,
  type ReadReply,
  type Unsigned,
} from "../../../shared/replies.js";
import { TestDeployment, type Lie } from "../../support/sdk-deployment.js";

let weur: KeyPair, enam: KeyPair, client: KeyPair, pinned: PinnedKeys, op: SignedOp;

// Per test, not in beforeAll (test/support/lazy.ts says why).
beforeEach(async () => {
  weur = await devKeyPair("client-test", "weur");
  enam = await devKeyPair("client-test", "enam");
  client = await generateKeyPair();
  pinned = new Map([
    ["weur", weur.publicKey],
    ["enam", enam.publicKey],
  ]);
  op = await signIntent(
    client,
    { key: "hits", type: "counter", op: "add", args: { n: 2 } },
    7,
    1_700_000_000_000,
  );
});

const opBody = (over: Partial<Unsigned<OpReply>> = {}): Unsigned<OpReply> => ({
  kind: "op",
  opId: opIdOf(op),
  key: "hits",
  type: "counter",
  tentative: { status: "ok", value: 2 },
  replica: "weur",
  certificate: null,
  certification: "none",
  uncertified: 1,
  duplicate: false,
  time: 1_700_000_000_001,
  ...over,
});
const readBody = (over: Partial<Unsigned<ReadReply>> = {}): Unsigned<ReadReply> => ({
  kind: "read",
  key: "hits",
  type: "counter",
  value: 2,
  replica: "weur",
  certificate: null,
  certification: "none",
  certified: null,
  time: 1_700_000_000_002,
  ...over,
});
const expectOp = () => ({ replica: "weur", opId: opIdOf(op), key: "hits", type: "counter" as const });

describe("signing ops", () => {
  it("produces an op the server's parser and verifier accept, with id client:seq", async () => {
    expect(parseOp(JSON.parse(JSON.stringify(op)))).toEqual(op);
    expect(await verifyOp(op)).toBe(true);
    expect(opIdOf(op)).toBe(`${client.publicKey}:7`);
    expect(await verifyOp({ ...op, args: { n: 3 } })).toBe(false);
  });

  it("refuses bad intents locally with the code the server would use", () => {
    const bad = (args: { [k: string]: number | string }, o = "add") => {
      try {
        checkIntent({ key: "k", type: "counter", op: o, args }, client.publicKey, 1);
      } catch (e) {
        return (e as AspecError).code;
      }
      return "accepted";
    };
    expect(bad({ n: 1 })).toBe("accepted");
    expect(bad({ n: 1.5 })).toBe("invalid_args");
    expect(bad({ n: 1 }, "sub")).toBe("unknown_op");
  });
});

describe("verifyOpReply", () => {
  it("accepts a reply signed by the replica asked, about the op sent", async () => {
    const r = await signReply<OpReply>(weur.secret, opBody());
    expect(await verifyOpReply(r, expectOp(), pinned)).toEqual(r);
  });

  it("rejects a tampered reply", async () => {
    const r = await signReply<OpReply>(weur.secret, opBody());
    const tampered = { ...r, tentative: { status: "ok", value: 1000 } };
    await expect(verifyOpReply(tampered, expectOp(), pinned)).rejects.toThrow(/bad signature/);
    await expect(verifyOpReply({ ...r, duplicate: true }, expectOp(), pinned)).rejects.toBeInstanceOf(
      ReplyVerificationError,
    );
  });

  it("rejects a reply signed by another key than the named replica's", async () => {
    const forged = await signReply<OpReply>(enam.secret, opBody()); // names weur, signed by enam
    await expect(verifyOpReply(forged, expectOp(), pinned)).rejects.toThrow(/bad signature/);
    const stranger = await signReply<OpReply>((await generateKeyPair()).secret, opBody());
    await expect(verifyOpReply(stranger, expectOp(), pinned)).rejects.toThrow(/bad signature/);
  });

  it("rejects a correctly signed reply from a replica not asked, or not pinned", async () => {
    const fromEnam = await signReply<OpReply>(enam.secret, opBody({ replica: "enam" }));
    await expect(verifyOpReply(fromEnam, expectOp(), pinned)).rejects.toThrow(/asked replica 'weur'/);
    // With no replica asked (server's choice), any pinned replica will do.
    await expect(verifyOpReply(fromEnam, { ...expectOp(), replica: undefined }, pinned)).resolves.toEqual(
      fromEnam,
    );
    const rogue = await generateKeyPair();
    const fromRogue = await signReply<OpReply>(rogue.secret, opBody({ replica: "rogue" }));
    await expect(verifyOpReply(fromRogue, { ...expectOp(), replica: undefined }, pinned)).rejects.toThrow(
      /not pinned/,
    );
  });

  it("rejects a genuine reply about another op, key or type", async () => {
    const other = await signReply<OpReply>(weur.secret, opBody({ opId: `${client.publicKey}:8` }));
    await expect(verifyOpReply(other, expectOp(), pinned)).rejects.toThrow(/reply is for op/);
    const otherKey = await signReply<OpReply>(weur.secret, opBody({ key: "misses" }));
    await expect(verifyOpReply(otherKey, expectOp(), pinned)).rejects.toThrow(/reply is for key/);
    const otherType = await signReply<OpReply>(weur.secret, opBody({ type: "account" }));
    await expect(verifyOpReply(otherType, expectOp(), pinned)).rejects.toThrow(/reply is for type/);
  });

  it("rejects things that are not signed op replies", async () => {
    for (const junk of [null, "x", 42, {}, { kind: "op", replica: "weur" }]) {
      await expect(verifyOpReply(junk, expectOp(), pinned)).rejects.toBeInstanceOf(ReplyVerificationError);
    }
    const read = await signReply<ReadReply>(weur.secret, readBody());
    await expect(verifyOpReply(read, expectOp(), pinned)).rejects.toThrow(/not a signed op reply/);
  });

  it("keeps the offending reply on the error (it is evidence)", async () => {
    const forged = await signReply<OpReply>(enam.secret, opBody());
    const e = await verifyOpReply(forged, expectOp(), pinned).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ReplyVerificationError);
    expect((e as ReplyVerificationError).reply).toEqual(forged);
    expect((e as ReplyVerificationError).code).toBe("reply_unverified");
  });
});

describe("verifyReadReply", () => {
  it("accepts a genuine read and rejects tampering, a foreign signature and another key", async () => {
    const r = await signReply<ReadReply>(weur.secret, readBody());
    const expectRead = { replica: "weur", key: "hits" };
    expect(await verifyReadReply(r, expectRead, pinned)).toEqual(r);
    await expect(verifyReadReply({ ...r, value: 3 }, expectRead, pinned)).rejects.toThrow(/bad signature/);
    const forged = await signReply<ReadReply>(enam.secret, readBody());
    await expect(verifyReadReply(forged, expectRead, pinned)).rejects.toThrow(/bad signature/);
    const other = await signReply<ReadReply>(weur.secret, readBody({ key: "misses" }));
    await expect(verifyReadReply(other, expectRead, pinned)).rejects.toThrow(/reply is for key/);
  });
});

// client/verify.ts: a replica that signs a malformed or misdirected certified reply is refused with
// the reason a caller (and evidence) keys on and a message that says what is wrong — never accepted,
// never a TypeError. Against the in-test deployment (real Ed25519, real certificates and proofs);
// the lying replica signs what it says (`d.lie`), so only the checks of verify.ts can refuse it.
/** A deployment with one certified counter "k" (seq 1), and a client pinned to weur that does not fail over. */
async function setup() {
  const d = await TestDeployment.create();
  const c = await AspecClient.connect(
    d.connectOptions({ replica: "weur", failover: false, reportEvidence: false, maxUncertified: Infinity }),
  );
  const w = await c.counter("k").add(1);
  await d.certify();
  return { d, c, opId: w.opId };
}

/** The refusal `p` ends in: its reason and message (fails the test if `p` resolves or throws anything else). */
async function refusal(p: Promise<unknown>): Promise<{ reason: VerificationReason; message: string }> {
  const e = await p.then(
    () => expect.fail("the reply was accepted"),
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ReplyVerificationError);
  const { reason, message, replica } = e as ReplyVerificationError;
  expect(replica).toBe("weur");
  return { reason, message };
}

const lieOn =
  (path: Parameters<Lie>[0], edit: (reply: Record<string, unknown>) => void): Lie =>
  (p, reply) => {
    if (p === path) edit(reply);
    return reply;
  };

describe("op replies", () => {
  it("an op reply without a tentative status is malformed", async () => {
    const { d, c } = await setup();
    d.lie = lieOn("op", (r) => delete r.tentative);
    const p = await refusal(c.counter("k").add(1));
    expect(p).toEqual({ reason: "malformed", message: expect.stringContaining("no tentative status") });
  });
});

describe("reads with a certified value", () => {
  it("a certified value that is not an object is a bad read proof", async () => {
    const { d, c } = await setup();
    d.lie = lieOn("read", (r) => (r.certified = 7));
    const p = await refusal(c.get("k"));
    expect(p).toEqual({ reason: "bad_read_proof", message: expect.stringContaining("not an object") });
  });

  it("a certified value without a certificate to prove it against is a bad read proof", async () => {
    const { d, c } = await setup();
    d.lie = lieOn("read", (r) => (r.certificate = null));
    const p = await refusal(c.get("k"));
    expect(p).toEqual({
      reason: "bad_read_proof",
      message: expect.stringContaining("without a certificate"),
    });
  });
});

describe("certified reads (?view=certified)", () => {
  it("a genuine certified read of another key is the wrong subject, and says which keys", async () => {
    const { d, c } = await setup();
    await c.counter("other").add(1);
    await d.certify();
    d.lie = lieOn("certified-read", (r) => (r.key = "other"));
    const p = await refusal(c.getCertified("k"));
    expect(p.reason).toBe("wrong_subject");
    expect(p.message).toContain("'other'");
    expect(p.message).toContain("'k'");
  });

  it("a certified read with no certified value is a bad read proof", async () => {
    const { d, c } = await setup();
    d.lie = lieOn("certified-read", (r) => (r.certified = null));
    const p = await refusal(c.getCertified("k"));
    expect(p).toEqual({ reason: "bad_read_proof", message: expect.stringContaining("no certified value") });
  });
});

describe("refusals of certified reads and of the latest certificate are checked like any other", () => {
  /** A client of `d` whose requests matching `which` are refused 409 with `error(d)`. */
  async function refusedBy(
    d: TestDeployment,
    which: (url: URL) => boolean,
    error: (nonce: string | undefined) => Promise<unknown>,
  ): Promise<AspecClient> {
    const honest = d.fetch;
    return AspecClient.connect(
      d.connectOptions({
        replica: "weur",
        failover: false,
        reportEvidence: false,
        fetch: async (url, init) =>
          which(new URL(url))
            ? new Response(
                JSON.stringify(await error(new Headers(init?.headers).get("x-aspec-nonce") ?? undefined)),
                {
                  status: 409,
                },
              )
            : honest(url, init),
      }),
    );
  }
  const certifiedView = (u: URL) => u.searchParams.get("view") === "certified";
  const latestPath = (u: URL) => u.pathname === "/v1/certificates/latest";
  const refusalBy = (d: TestDeployment, name: string, over: Record<string, unknown> = {}) =>
    signErrorReply(d.replica(name).key.secret, {
      error: { code: "not_certified", message: "no certified state" },
      kind: "error",
      replica: name,
      time: d.time,
      ...over,
    });

  it("getCertified: the asked replica's signed refusal about the key is the server's word", async () => {
    const { d } = await setup();
    const c = await refusedBy(d, certifiedView, (nonce) => refusalBy(d, "weur", { key: "k", nonce }));
    await expect(c.getCertified("k")).rejects.toMatchObject({ name: "AspecError", code: "not_certified" });
  });

  it("getCertified: a signed refusal about another key, or from another replica, is refused", async () => {
    const { d } = await setup();
    const otherKey = await refusedBy(d, certifiedView, (nonce) =>
      refusalBy(d, "weur", { key: "other", nonce }),
    );
    expect((await refusal(otherKey.getCertified("k"))).reason).toBe("wrong_subject");
    const otherReplica = await refusedBy(d, certifiedView, (nonce) =>
      refusalBy(d, "enam", { key: "k", nonce }),
    );
    const e = await otherReplica.getCertified("k").catch((x: unknown) => x);
    expect((e as ReplyVerificationError).reason).toBe("wrong_replica");
  });

  it("latestCertificate: the asked replica's signed refusal is the server's word; another replica's is refused", async () => {
    const { d } = await setup();
    const own = await refusedBy(d, latestPath, (nonce) => refusalBy(d, "weur", { nonce }));
    await expect(own.latestCertificate()).rejects.toMatchObject({
      name: "AspecError",
      code: "not_certified",
    });
    const foreign = await refusedBy(d, latestPath, (nonce) => refusalBy(d, "enam", { nonce }));
    const e = await foreign.latestCertificate().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ReplyVerificationError);
    expect((e as ReplyVerificationError).reason).toBe("wrong_replica");
  });
});

describe("op status replies", () => {
  it("a genuine status of another op is the wrong subject, and names both ops", async () => {
    const { d, c, opId } = await setup();
    const other = (await c.counter("k").add(1)).opId;
    await d.certify();
    d.lie = lieOn("op-status", (r) => (r.opId = other));
    const p = await refusal(c.opStatus(opId));
    expect(p.reason).toBe("wrong_subject");
    expect(p.message).toContain(`'${other}'`);
    expect(p.message).toContain(`'${opId}'`);
  });

  it("a certified result that is not an object is a bad result proof", async () => {
    const { d, c, opId } = await setup();
    for (const certified of [7, { result: 7 }]) {
      d.lie = lieOn("op-status", (r) => (r.certified = certified));
      const p = await refusal(c.opStatus(opId));
      expect(p).toEqual({ reason: "bad_result_proof", message: expect.stringContaining("not an object") });
    }
  });

  it("a status that is neither certified nor pending is malformed", async () => {
    const { d, c, opId } = await setup();
    d.lie = lieOn("op-status", (r) => ((r.certified = null), (r.pending = false)));
    const p = await refusal(c.opStatus(opId));
    expect(p).toEqual({
      reason: "malformed",
      message: expect.stringContaining("neither certified nor pending"),
    });
  });
});

describe("a historic certificate (verifyCertificateReply, latest = false)", () => {
  /** A signed certificate reply from weur carrying `cert`, and a fresh guard pinned to `d`'s cluster. */
  async function historic(d: TestDeployment, cert: unknown) {
    const weur = d.replica("weur");
    const body = await signReply<CertificateReply>(weur.key.secret, {
      kind: "certificate",
      replica: "weur",
      certificate: cert as CertificateReply["certificate"],
      certification: "ok",
      time: d.time,
    });
    const pinned = new Map(d.replicas.map((r) => [r.name, r.key.publicKey]));
    return { body, pinned };
  }

  it("is accepted when valid, even older than what the replica showed since (no order for history)", async () => {
    const { d } = await setup();
    const first = d.latest()!;
    const guard = new CertificateGuard(checkCluster(d.cluster.info), { now: () => d.time });
    guard.observe(first, "weur");
    const { body, pinned } = await historic(d, first);
    guard.observe({ ...first, body: { ...first.body, seq: 9 } }, "weur");
    const r = await verifyCertificateReply(body, "weur", pinned, guard, false);
    expect(r.certificate?.body.seq).toBe(1);
    expect(guard.seqOf("weur")).toBe(9); // a look at history records nothing
  });

  it("is refused when its certificate is not the cluster's", async () => {
    const { d } = await setup();
    const first = d.latest()!;
    const forged = { ...first, body: { ...first.body, stateRoot: "f".repeat(64) } };
    const { body, pinned } = await historic(d, forged);
    const guard = new CertificateGuard(checkCluster(d.cluster.info), { now: () => d.time });
    const p = await refusal(verifyCertificateReply(body, "weur", pinned, guard, false));
    expect(p.reason).toBe("bad_certificate");
    expect(p.message).toContain("bad_signature");
  });
});

describe("error replies", () => {
  it("a signed refusal naming a replica that is not pinned is refused, and names it", async () => {
    const mars = await devKeyPair("verify-unpinned", "mars");
    const body = await signErrorReply(mars.secret, {
      error: { code: "type_mismatch", message: "no" },
      kind: "error",
      replica: "mars",
      time: 1,
      key: "k",
    });
    const error = AspecError.fromBody(body)!;
    const e = await checkErrorReply(body, error, { replica: undefined, key: "k" }, new Map()).catch(
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(ReplyVerificationError);
    expect((e as ReplyVerificationError).reason).toBe("unknown_replica");
    expect((e as ReplyVerificationError).message).toContain("'mars'");
  });
});

describe("what a refusal names", () => {
  it("a reply with its signature broken is a bad signature, naming the replica", async () => {
    const { d, c } = await setup();
    const honest = d.fetch;
    const c2 = await AspecClient.connect(
      d.connectOptions({
        replica: "weur",
        failover: false,
        reportEvidence: false,
        maxUncertified: Infinity,
        fetch: async (url, init) => {
          const res = await honest(url, init);
          const body = (await res.json()) as Record<string, unknown>;
          return new Response(JSON.stringify({ ...body, sig: "A".repeat(86) }), { status: res.status });
        },
      }),
    );
    const p = await refusal(c2.get("k"));
    expect(p).toEqual({ reason: "bad_signature", message: "bad signature on a reply from replica 'weur'" });
    c.close();
  });

  it("a signature that is not a string is malformed, before any key is used", async () => {
    const { d, c } = await setup();
    const honest = d.fetch;
    const c2 = await AspecClient.connect(
      d.connectOptions({
        replica: "weur",
        failover: false,
        reportEvidence: false,
        maxUncertified: Infinity,
        fetch: async (url, init) => {
          const body = (await (await honest(url, init)).json()) as Record<string, unknown>;
          return new Response(JSON.stringify({ ...body, sig: 7 }), { status: 200 });
        },
      }),
    );
    const p = await refusal(c2.get("k"));
    expect(p).toEqual({ reason: "malformed", message: "not a signed read reply" });
    c.close();
  });

  it("an op reply about another op or key names both", async () => {
    const { d, c } = await setup();
    d.lie = lieOn("op", (r) => (r.opId = "A".repeat(43) + ":9"));
    const p = await refusal(c.counter("k").add(1));
    expect(p.reason).toBe("wrong_subject");
    expect(p.message).toMatch(/^reply is for op 'A{43}:9', not '[A-Za-z0-9_-]{43}:\d+'$/);
    d.lie = lieOn("op", (r) => (r.key = "other"));
    const q = await refusal(c.counter("k").add(1));
    expect(q).toEqual({ reason: "wrong_subject", message: "reply is for key 'other', not 'k'" });
  });

  it("a certified result with no status says so", async () => {
    const { d, c, opId } = await setup();
    d.lie = lieOn("op-status", (r) => {
      const cr = r.certified as { result: Record<string, unknown> };
      delete cr.result.status;
    });
    const p = await refusal(c.opStatus(opId));
    expect(p).toEqual({ reason: "bad_result_proof", message: "the certified result has no status" });
  });

  it("a certified result whose batch certificate is bad says it is the op's batch", async () => {
    const { d, c, opId } = await setup();
    d.lie = lieOn("op-status", (r) => {
      const cr = r.certified as { certificate: { sigs: unknown[] } };
      cr.certificate = { ...cr.certificate, sigs: cr.certificate.sigs.slice(0, 2) };
    });
    const p = await refusal(c.opStatus(opId));
    expect(p.reason).toBe("bad_certificate");
    expect(p.message).toMatch(/^the op's batch certificate refused: too_few_signatures/);
  });
});

describe("error replies, checked field by field", () => {
  const pins = async () => {
    const d = await TestDeployment.create();
    return { d, pinned: new Map(d.replicas.map((r) => [r.name, r.key.publicKey])) };
  };
  const check = async (
    body: unknown,
    expect: Parameters<typeof checkErrorReply>[2],
    pinned: Map<string, string>,
  ) => checkErrorReply(body, AspecError.fromBody(body)!, expect, pinned).catch((x: unknown) => x);

  it("an unsigned refusal only a replica can make is malformed, and names its code", async () => {
    const { pinned } = await pins();
    const body = { error: { code: "seq_replayed", message: "seq used" } };
    const e = await check(body, { replica: "weur", opId: "x" }, pinned);
    expect(e).toMatchObject({
      reason: "malformed",
      message: "an unsigned 'seq_replayed' error: replicas sign refusals",
    });
  });

  it("a signed body that is not an error reply, or whose signature is not a string, is malformed", async () => {
    const { d, pinned } = await pins();
    const good = await signErrorReply(d.replica("weur").key.secret, {
      error: { code: "type_mismatch", message: "no" },
      kind: "error",
      replica: "weur",
      time: 1,
      opId: "x",
    });
    for (const bad of [
      { ...good, kind: "op" },
      { ...good, sig: 7 },
      { ...good, replica: 7 },
    ]) {
      const e = await check(bad, { replica: "weur", opId: "x" }, pinned);
      expect(e).toMatchObject({ reason: "malformed", message: "not a signed error reply" });
    }
  });

  it("a refusal of another op names it; one about a key is not checked against a key nobody asked about", async () => {
    const { d, pinned } = await pins();
    const signed = (over: Record<string, unknown>) =>
      signErrorReply(d.replica("weur").key.secret, {
        error: { code: "type_mismatch", message: "no" },
        kind: "error",
        replica: "weur",
        time: 1,
        ...over,
      });
    const e = await check(await signed({ opId: "y" }), { replica: "weur", opId: "x" }, pinned);
    expect(e).toMatchObject({ reason: "wrong_subject", message: "error is for op 'y', not 'x'" });
    const ok = await check(await signed({ opId: "x", key: "k" }), { replica: "weur", opId: "x" }, pinned);
    expect(ok).toBeInstanceOf(AspecError);
  });
});
