// Reply verification with real Ed25519 signatures: replies are built with shared/replies.ts signReply.
import { beforeEach, describe, expect, it } from "vitest";
import { checkIntent, signIntent } from "../../../client/build-op.js";
import { ReplyVerificationError } from "../../../client/errors.js";
import { verifyOpReply, verifyReadReply, type PinnedKeys } from "../../../client/verify.js";
import { devKeyPair, generateKeyPair, type KeyPair } from "../../../shared/crypto/keys.js";
import { AspecError } from "../../../shared/errors.js";
import { opIdOf, parseOp, verifyOp, type SignedOp } from "../../../shared/ops.js";
import { signReply, type OpReply, type ReadReply, type Unsigned } from "../../../shared/replies.js";

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
