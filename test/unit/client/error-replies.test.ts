// The SDK checks a replica's error replies like its other replies: signed by the pinned key of the
// replica asked, about the op / key sent. Real Ed25519; the HTTP exchange is a `fetch` function.
import { beforeEach, describe, expect, it } from "vitest";
import { AspecClient } from "../../../client/client.js";
import { ReplyVerificationError } from "../../../client/errors.js";
import { devKeyPair, type KeyPair } from "../../../shared/crypto/keys.js";
import { AspecError, type ErrorBody } from "../../../shared/errors.js";
import { opIdOf, type SignedOp } from "../../../shared/ops.js";
import { signErrorReply, type ErrorReply, type Unsigned } from "../../../shared/replies.js";
import { sdkTestCluster } from "../../support/sdk-cluster.js";

let weur: KeyPair, enam: KeyPair;
// Per test, not in beforeAll (test/support/lazy.ts says why).
beforeEach(async () => {
  weur = await devKeyPair("error-reply-test", "weur");
  enam = await devKeyPair("error-reply-test", "enam");
});

const mismatch: ErrorBody["error"] = { code: "type_mismatch", message: "key 'k' holds a set, not a counter" };

/** The nonce of the request being answered (one request at a time): refusals sign it back. */
let nonce: string | undefined;

/** A client whose every request is answered `status` with `answer(request body)`. */
async function clientAnswering(status: number, answer: (op: SignedOp | undefined) => Promise<unknown>) {
  return AspecClient.connect({
    cluster: await sdkTestCluster(),
    maxUncertified: Infinity,
    failover: false,
    endpoint: "http://replica.test",
    replica: "weur",
    replicas: [
      { name: "weur", region: "weur", publicKey: weur.publicKey },
      { name: "enam", region: "enam", publicKey: enam.publicKey },
    ],
    retry: { attempts: 1 },
    fetch: async (_url, init) => {
      const op = typeof init?.body === "string" ? (JSON.parse(init.body) as SignedOp) : undefined;
      nonce = new Headers(init?.headers).get("x-aspec-nonce") ?? undefined;
      return new Response(JSON.stringify(await answer(op)), { status });
    },
  });
}

const signed = (key: KeyPair, over: Partial<Unsigned<ErrorReply>>) =>
  signErrorReply(key.secret, {
    error: mismatch,
    kind: "error",
    replica: "weur",
    time: 1,
    ...(nonce === undefined ? {} : { nonce }),
    ...over,
  });

describe("error replies", () => {
  it("a replica's signed refusal becomes AspecError", async () => {
    const c = await clientAnswering(409, (op) => signed(weur, { opId: opIdOf(op!) }));
    const e = await c
      .counter("k")
      .add(1)
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AspecError);
    expect(e).toMatchObject({ code: "type_mismatch" });
  });

  it("an unsigned refusal of a replica's code is a verification error", async () => {
    const c = await clientAnswering(409, async () => ({ error: mismatch }));
    await expect(c.counter("k").add(1)).rejects.toBeInstanceOf(ReplyVerificationError);
  });

  it("a forged, foreign or misdirected signed refusal is a verification error", async () => {
    const cases: ((op: SignedOp) => Promise<unknown>)[] = [
      async (op) => ({ ...(await signed(weur, { opId: opIdOf(op) })), time: 2 }), // altered after signing
      (op) => signed(enam, { opId: opIdOf(op) }), // enam's key, naming weur
      (op) => signed(enam, { opId: opIdOf(op), replica: "enam" }), // not the replica asked
      (op) => signed(weur, { opId: `${op.client}:999` }), // about another op
      async (op) => ({ ...(await signed(weur, { opId: opIdOf(op) })), kind: "op" }),
    ];
    for (const answer of cases) {
      const c = await clientAnswering(409, (op) => answer(op!));
      await expect(c.counter("k").add(1)).rejects.toBeInstanceOf(ReplyVerificationError);
    }
  });

  it("a read's signed refusal must be about the key read", async () => {
    const c = await clientAnswering(409, () => signed(weur, { key: "other" }));
    await expect(c.get("k")).rejects.toBeInstanceOf(ReplyVerificationError);
    const ok = await clientAnswering(409, () => signed(weur, { key: "k" }));
    await expect(ok.get("k")).rejects.toBeInstanceOf(AspecError);
  });

  it("the edge's own errors (before any replica) come unsigned and are taken as they are", async () => {
    const c = await clientAnswering(400, async () => ({
      error: { code: "invalid_args", message: "n: bad" },
    }));
    await expect(c.counter("k").add(1)).rejects.toMatchObject({ name: "AspecError", code: "invalid_args" });
  });
});
