// The SDK's promise: `AspecClient` hands back only replies it verified — signed by the pinned key of
// the replica asked, about the op / key it sent. An honest server can't show this, so a stand-in
// `fetch` plays a lying one. Real Ed25519 throughout.
import { beforeEach, describe, expect, it } from "vitest";
import { AspecClient } from "../../../client/client.js";
import { ReplyVerificationError } from "../../../client/errors.js";
import { devKeyPair, generateKeyPair, type KeyPair } from "../../../shared/crypto/keys.js";
import { opIdOf, type SignedOp } from "../../../shared/ops.js";
import { signReply, type OpReply, type ReadReply, type Unsigned } from "../../../shared/replies.js";
import { sdkTestCluster } from "../../support/sdk-cluster.js";

let weur: KeyPair, enam: KeyPair;
// Per test, not in beforeAll (test/support/lazy.ts says why).
beforeEach(async () => {
  weur = await devKeyPair("unverified-test", "weur");
  enam = await devKeyPair("unverified-test", "enam");
});

/** The nonce of the request being answered (each test sends one request at a time): replies sign it back. */
let nonce: string | undefined;
const bound = () => (nonce === undefined ? {} : { nonce });

/** A client pinned to weur and enam whose every request is answered 200 with `answer(op sent)`. */
async function clientAnswering(answer: (op: SignedOp | undefined) => Promise<unknown>, replica?: string) {
  return AspecClient.connect({
    cluster: await sdkTestCluster(),
    maxUncertified: Infinity,
    failover: false,
    endpoint: "http://replica.test",
    ...(replica === undefined ? {} : { replica }),
    replicas: [
      { name: "weur", region: "weur", publicKey: weur.publicKey },
      { name: "enam", region: "enam", publicKey: enam.publicKey },
    ],
    retry: { attempts: 1 },
    fetch: async (_url, init) => {
      const op = typeof init?.body === "string" ? (JSON.parse(init.body) as SignedOp) : undefined;
      nonce = new Headers(init?.headers).get("x-aspec-nonce") ?? undefined;
      return new Response(JSON.stringify(await answer(op)), { status: 200 });
    },
  });
}

const opReply = (op: SignedOp, over: Partial<Unsigned<OpReply>> = {}): Unsigned<OpReply> => ({
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
  time: 1,
  ...bound(),
  ...over,
});
const readReply = (over: Partial<Unsigned<ReadReply>> = {}): Unsigned<ReadReply> => ({
  kind: "read",
  key: "k",
  type: "counter",
  value: 1,
  replica: "weur",
  certificate: null,
  certification: "none",
  certified: null,
  time: 1,
  ...bound(),
  ...over,
});

describe("AspecClient returns only verified replies", () => {
  it("an honest signed reply is returned as it came", async () => {
    let sent: OpReply | undefined;
    const c = await clientAnswering(
      async (op) => (sent = await signReply<OpReply>(weur.secret, opReply(op!))),
      "weur",
    );
    expect(await c.counter("k").add(1)).toEqual(sent);
  });

  const lies: [string, (op: SignedOp) => Promise<unknown>][] = [
    ["signed by the wrong key (enam's, naming weur)", (op) => signReply<OpReply>(enam.secret, opReply(op))],
    [
      "signed by a stranger's key",
      async (op) => signReply<OpReply>((await generateKeyPair()).secret, opReply(op)),
    ],
    [
      "altered after signing",
      async (op) => ({
        ...(await signReply<OpReply>(weur.secret, opReply(op))),
        tentative: { status: "ok", value: 99 },
      }),
    ],
    ["unsigned", async (op) => opReply(op)],
    [
      "about another op",
      (op) => signReply<OpReply>(weur.secret, opReply(op, { opId: `${op.client}:${op.seq + 1}` })),
    ],
    ["about another key", (op) => signReply<OpReply>(weur.secret, opReply(op, { key: "other" }))],
    ["about another type", (op) => signReply<OpReply>(weur.secret, opReply(op, { type: "register" }))],
    [
      "genuinely signed by a replica not asked",
      (op) => signReply<OpReply>(enam.secret, opReply(op, { replica: "enam" })),
    ],
    ["a read reply instead of an op reply", () => signReply<ReadReply>(weur.secret, readReply())],
  ];
  for (const [name, lie] of lies)
    it(`a submitted op's reply ${name} is refused`, async () => {
      const c = await clientAnswering((op) => lie(op!), "weur");
      await expect(c.counter("k").add(1)).rejects.toBeInstanceOf(ReplyVerificationError);
    });

  it("with no replica asked, a reply naming an unpinned replica is refused, and no home is taken", async () => {
    const rogue = await generateKeyPair();
    const c = await clientAnswering((op) =>
      signReply<OpReply>(rogue.secret, opReply(op!, { replica: "rogue" })),
    );
    await expect(c.counter("k").add(1)).rejects.toBeInstanceOf(ReplyVerificationError);
    expect(c.replica).toBeUndefined();
  });

  const readLies: [string, () => Promise<unknown>][] = [
    ["signed by the wrong key", () => signReply<ReadReply>(enam.secret, readReply())],
    [
      "altered after signing",
      async () => ({ ...(await signReply<ReadReply>(weur.secret, readReply())), value: 99 }),
    ],
    ["about another key", () => signReply<ReadReply>(weur.secret, readReply({ key: "other" }))],
    ["from a replica not asked", () => signReply<ReadReply>(enam.secret, readReply({ replica: "enam" }))],
    ["unsigned", async () => readReply()],
  ];
  for (const [name, lie] of readLies)
    it(`a read's reply ${name} is refused`, async () => {
      const c = await clientAnswering(() => lie(), "weur");
      await expect(c.get("k")).rejects.toBeInstanceOf(ReplyVerificationError);
    });

  it("an honest read reply is returned", async () => {
    let r: ReadReply | undefined;
    const c = await clientAnswering(
      async () => (r = await signReply<ReadReply>(weur.secret, readReply())),
      "weur",
    );
    expect(await c.get("k")).toEqual(r);
  });
});
