/**
 * `PbftBoundary.open` says why it dropped a message: each reason of `OpenDrop`, produced by the
 * input that should produce it (and counted as `drop.<reason>`), and a valid message let through.
 */
import { describe, expect, it } from "vitest";
import { certificateOf } from "../../../shared/certified/certificate.js";
import type { CertificateBody } from "../../../shared/certified/types.js";
import {
  OPEN_REJECTIONS,
  PbftBoundary,
  opCacheMax,
  signedBytes,
  type OpenDrop,
} from "../../../shared/pbft/boundary.js";
import { DEFAULT_PBFT_CONFIG } from "../../../shared/pbft/config.js";
import type { Envelope, Message, Proposal, ViewChange } from "../../../shared/pbft/messages.js";
import { standInScheme } from "../../../shared/pbft/signature-scheme.js";
import { CLUSTER, certificateBody, makeOp } from "./harness.js";

const D = "a".repeat(64);
const SECRETS = ["a", "b", "c", "d"];
const boundaries = [0, 1, 2, 3].map((i) => new PbftBoundary(CLUSTER, i, standInScheme(SECRETS, i)));

/** As node `from` sends it, then as the network hands it over (a JSON copy). */
const wire = async (from: number, msg: Message, proposal?: Proposal): Promise<Envelope> =>
  JSON.parse(
    JSON.stringify(await boundaries[from]!.seal({ to: [0], msg, ...(proposal ? { proposal } : {}) })),
  );

const prepare = (seq = 1): Message => ({ type: "prepare", view: 0, seq, digest: D });
const commit = (seq = 1): Message => ({ type: "commit", view: 0, seq, digest: D });
const tamperSig = <E extends { sig: string }>(e: E): E => ({ ...e, sig: e.sig.slice(0, -2) + "AA" });
const proposal = (ops = [makeOp(1)]): Proposal => ({ ops, time: 0, view: 0 });

const body = certificateBody;

async function viewChange(from: number, checkpointProof: Envelope[] = []): Promise<Envelope<ViewChange>> {
  const msg: ViewChange = {
    type: "view-change",
    view: 1,
    checkpoint: { seq: 0, digest: D, proof: checkpointProof as ViewChange["checkpoint"]["proof"] },
    prepared: [],
  };
  return (await wire(from, msg)) as Envelope<ViewChange>;
}

async function certificate(signers: number[], over: Partial<CertificateBody> = {}): Promise<Message> {
  const b = body(over);
  const shares = await Promise.all(signers.map((i) => wire(i, { type: "share", body: b })));
  const cert = certificateOf(
    b,
    shares.map((e) => ({ node: e.from, sig: e.sig })),
    signers.length,
  )!;
  return { type: "certificate", certificate: cert };
}

describe("PbftBoundary.open: why a message was dropped", () => {
  const receiver = () => new PbftBoundary(CLUSTER, 0, standInScheme(SECRETS, 0));

  async function expectDrop(reason: OpenDrop, raw: unknown, size?: number, redundant?: () => boolean) {
    const b = receiver();
    expect(await b.open(raw, size, redundant)).toEqual({ ok: false, reason });
    const drops = Object.entries(b.stats).filter(([k]) => k.startsWith("drop."));
    expect(Object.fromEntries(drops)).toEqual({ [`drop.${reason}`]: 1 });
  }

  it("lets a valid message through", async () => {
    const env = await wire(1, prepare());
    expect(await receiver().open(env, 200, () => false)).toEqual({ ok: true, envelope: env });
  });

  it("malformed: fails the shape and bounds check", async () => {
    await expectDrop("malformed", { from: 1, msg: { type: "boom" }, sig: "x" });
    await expectDrop("malformed", { ...(await wire(1, prepare())), from: 7 }); // no such node
    await expectDrop("malformed", "not an envelope");
    // An op the edge's parseOp refuses (seq 0) is malformed on the wire too, not a bad signature.
    await expectDrop("malformed", await wire(1, { type: "ops", ops: [{ ...makeOp(1), seq: 0 }] }));
  });

  it("too_large: over the message limit of its type (malformed wins below the largest limit)", async () => {
    const env = await wire(1, prepare());
    await expectDrop("too_large", env, DEFAULT_PBFT_CONFIG.messageBytesMax + 1);
    await expectDrop("malformed", { ...env, msg: { type: "boom" } }, DEFAULT_PBFT_CONFIG.messageBytesMax + 1);
    // Over the largest limit (a bulk message's), nothing is parsed: too large whatever it holds.
    const huge = Math.max(DEFAULT_PBFT_CONFIG.messageBytesMax, DEFAULT_PBFT_CONFIG.bulkMessageBytesMax) + 1;
    await expectDrop("too_large", { ...env, msg: { type: "boom" } }, huge);
    const vc = await viewChange(1);
    expect(await receiver().open(vc, DEFAULT_PBFT_CONFIG.messageBytesMax + 1)).toMatchObject({ ok: true });
    await expectDrop("too_large", vc, DEFAULT_PBFT_CONFIG.bulkMessageBytesMax + 1);
    expect(await receiver().open(env, DEFAULT_PBFT_CONFIG.messageBytesMax)).toMatchObject({ ok: true });
    // exactly at the largest limit: read, and a bulk message let through
    expect(await receiver().open(vc, DEFAULT_PBFT_CONFIG.bulkMessageBytesMax)).toMatchObject({ ok: true });
  });

  it("redundant: what the core no longer needs, dropped before its signature is checked", async () => {
    await expectDrop("redundant", tamperSig(await wire(1, prepare())), undefined, () => true);
  });

  it("bad_signature: the sender's own signature (tampered, or under another node's name)", async () => {
    const env = await wire(1, prepare());
    await expectDrop("bad_signature", tamperSig(env));
    await expectDrop("bad_signature", { ...env, from: 2 });
    await expectDrop("bad_signature", { ...env, msg: prepare(2) });
    await expectDrop("bad_signature", tamperSig(await viewChange(1)));
    const nv = await wire(1, { type: "new-view", view: 1, viewChanges: [await viewChange(2)] });
    await expectDrop("bad_signature", tamperSig(nv));
  });

  it("bad_nested_signature: a vote or VIEW-CHANGE inside the message", async () => {
    const commits = await Promise.all([1, 2, 3].map((i) => wire(i, commit())));
    const committed = (cs: Envelope[]) =>
      wire(1, { type: "committed", seq: 1, commits: cs as never }, proposal());
    expect(await receiver().open(await committed(commits))).toMatchObject({ ok: true });
    await expectDrop("bad_nested_signature", await committed([commits[0]!, tamperSig(commits[1]!)]));
    const checkpoint = await wire(2, { type: "checkpoint", seq: 0, digest: D });
    expect(await receiver().open(await viewChange(1, [checkpoint]))).toMatchObject({ ok: true });
    await expectDrop("bad_nested_signature", await viewChange(1, [tamperSig(checkpoint)]));
    const nv = await wire(1, { type: "new-view", view: 1, viewChanges: [tamperSig(await viewChange(2))] });
    await expectDrop("bad_nested_signature", nv);
  });

  it("bad_op: a client op not signed by its client, relayed or in a batch", async () => {
    const forged = { ...makeOp(1), args: { n: 2 } };
    await expectDrop("bad_op", await wire(1, { type: "ops", ops: [makeOp(2), forged] }));
    const pp: Message = { type: "pre-prepare", view: 0, seq: 1, digest: D };
    await expectDrop("bad_op", await wire(0, pp, proposal([forged])));
  });

  it("bad_certificate: fewer than 2f+1 signers, a repeated signer, or a signature that does not match", async () => {
    expect(await receiver().open(await wire(1, await certificate([0, 1, 2])))).toMatchObject({ ok: true });
    await expectDrop("bad_certificate", await wire(1, await certificate([0, 1])));
    const good = (await certificate([0, 1, 2])) as Extract<Message, { type: "certificate" }>;
    const [s0, s1] = good.certificate.sigs;
    const twice = { ...good, certificate: { ...good.certificate, sigs: [s0!, s0!, s1!] } };
    await expectDrop("bad_certificate", await wire(1, twice));
    const lie = { ...good, certificate: { ...good.certificate, body: body({ stateRoot: "b".repeat(64) }) } };
    await expectDrop("bad_certificate", await wire(1, lie));
  });

  it("a client op is verified once, and only the very op verified is taken as verified", async () => {
    const b = receiver();
    const op = makeOp(1);
    expect(await b.admitOp(op)).toEqual(op);
    expect(await b.admitOp(JSON.parse(JSON.stringify(op)))).toEqual(op); // an equal copy
    expect(b.stats.op_verified).toBe(1);
    // the same client and seq (so the same op id) with other args and the old signature: refused
    expect(await b.admitOp({ ...op, args: { n: 2 } })).toBeNull();
    expect(b.stats["drop.bad_op_signature"]).toBe(1);
    expect(await b.admitOp({ ...op, seq: 0 })).toBeNull();
    expect(b.stats["drop.malformed_op"]).toBe(1);
  });

  it("remembers at most the ops a node can hold at once (pool + log window), the newest", async () => {
    const cfg = { poolSizeMax: 4, logWindowSeqs: 2, batchSizeMax: 3 };
    expect(opCacheMax(cfg)).toBe(10);
    expect(opCacheMax(DEFAULT_PBFT_CONFIG)).toBe(16_400);
    const b = new PbftBoundary(CLUSTER, 0, standInScheme(SECRETS, 0), cfg);
    for (let seq = 1; seq <= 25; seq++) expect(await b.admitOp(makeOp(seq))).not.toBeNull();
    expect(b.verifiedOpsHeld).toBe(10);
    expect(b.stats.op_verified).toBe(25);
    await b.admitOp(makeOp(25)); // among the newest: not verified again
    expect(b.stats.op_verified).toBe(25);
    await b.admitOp(makeOp(1)); // forgotten: verified again, and remembered
    expect(b.stats.op_verified).toBe(26);
    expect(b.verifiedOpsHeld).toBe(10);
  });

  it("OPEN_REJECTIONS is every reason but redundant", () => {
    const all: OpenDrop[] = [
      "malformed",
      "too_large",
      "redundant",
      "bad_signature",
      "bad_nested_signature",
      "bad_op",
      "bad_certificate",
    ];
    expect([...OPEN_REJECTIONS].sort()).toEqual(all.filter((r) => r !== "redundant").sort());
  });
});

describe("signedBytes: what a signature covers", () => {
  it("names the sender: one message object signed as from two nodes gives two encodings, as if built afresh", () => {
    const msg: Message = { type: "prepare", view: 0, seq: 1, digest: "a".repeat(64) };
    const as0 = signedBytes(0, msg);
    const as1 = signedBytes(1, msg);
    expect(as1).not.toEqual(as0);
    expect(as1).toEqual(signedBytes(1, { ...msg }));
    expect(signedBytes(0, msg)).toEqual(signedBytes(0, { ...msg }));
  });
});
