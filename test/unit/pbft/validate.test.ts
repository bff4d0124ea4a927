import { describe, expect, it } from "vitest";
import { devKeyPair } from "../../../shared/crypto/keys.js";
import { PbftBoundary } from "../../../shared/pbft/boundary.js";
import { DEFAULT_PBFT_CONFIG } from "../../../shared/pbft/config.js";
import { EMPTY_ENTRY, entryAdd, entryHas, isExecutedEntry } from "../../../shared/certified/executed.js";
import { ed25519Scheme, standInScheme } from "../../../shared/pbft/signature-scheme.js";
import { parseEnvelope } from "../../../shared/pbft/validate.js";
import { CLUSTER, makeOp } from "./harness.js";

const LIM = { n: 4, f: 1, cfg: DEFAULT_PBFT_CONFIG };
const D = "a".repeat(64);

describe("parseEnvelope", () => {
  it("accepts well-formed messages", () => {
    expect(
      parseEnvelope({ from: 1, msg: { type: "prepare", view: 0, seq: 1, digest: D }, sig: "x" }, LIM),
    ).not.toBeNull();
  });
  it.each([
    ["unknown sender", { from: 7, msg: { type: "prepare", view: 0, seq: 1, digest: D }, sig: "x" }],
    ["negative seq", { from: 1, msg: { type: "prepare", view: 0, seq: -1, digest: D }, sig: "x" }],
    ["bad digest", { from: 1, msg: { type: "commit", view: 0, seq: 1, digest: "zz" }, sig: "x" }],
    ["extra field", { from: 1, msg: { type: "commit", view: 0, seq: 1, digest: D, evil: 1 }, sig: "x" }],
    ["unknown type", { from: 1, msg: { type: "boom" }, sig: "x" }],
    [
      "pre-prepare without batch",
      { from: 0, msg: { type: "pre-prepare", view: 0, seq: 1, digest: D }, sig: "x" },
    ],
    ["not an object", "hello"],
    ["null", null],
  ])("rejects %s", (_name, raw) => {
    expect(parseEnvelope(raw, LIM)).toBeNull();
  });
  it("rejects oversized messages and oversized batches", () => {
    const env = { from: 1, msg: { type: "prepare", view: 0, seq: 1, digest: D }, sig: "x" };
    expect(parseEnvelope(env, LIM, DEFAULT_PBFT_CONFIG.messageBytesMax + 1)).toBeNull();
    const ops = Array.from({ length: 3 }, (_, i) => makeOp(i + 1));
    const pp = {
      from: 0,
      msg: { type: "pre-prepare", view: 0, seq: 1, digest: D },
      sig: "x",
      proposal: { ops, time: 0, view: 0 },
    };
    expect(parseEnvelope(pp, { ...LIM, cfg: { ...DEFAULT_PBFT_CONFIG, batchSizeMax: 2 } })).toBeNull();
  });
});

describe("boundary", () => {
  it("signs and verifies with the stand-in; rejects forgeries", async () => {
    const secrets = ["a", "b", "c", "d"];
    const b0 = new PbftBoundary(CLUSTER, 0, standInScheme(secrets, 0));
    const b1 = new PbftBoundary(CLUSTER, 1, standInScheme(secrets, 1));
    const env = await b0.seal({ to: [1], msg: { type: "prepare", view: 0, seq: 1, digest: D } });
    expect(await b1.open(JSON.parse(JSON.stringify(env)))).toMatchObject({ ok: true });
    const bad = { ok: false, reason: "bad_signature" };
    expect(await b1.open({ ...env, from: 2 })).toEqual(bad); // someone else's name
    expect(await b1.open({ ...env, msg: { ...env.msg, seq: 2 } })).toEqual(bad); // tampered
    expect(b1.stats["drop.bad_signature"]).toBe(2);
  });

  it("signs and verifies with Ed25519", async () => {
    const keys = await Promise.all([0, 1, 2, 3].map((i) => devKeyPair("unit", `n${i}`)));
    const cluster = { ...CLUSTER, nodes: keys.map((k, i) => ({ id: `n${i}`, publicKey: k.publicKey })) };
    const b0 = new PbftBoundary(cluster, 0, ed25519Scheme(cluster, keys[0]!.secret));
    const b1 = new PbftBoundary(cluster, 1, ed25519Scheme(cluster, keys[1]!.secret));
    const env = await b0.seal({ to: [1], msg: { type: "commit", view: 0, seq: 1, digest: D } });
    expect(await b1.open(JSON.parse(JSON.stringify(env)))).toMatchObject({ ok: true });
    expect(await b1.open({ ...env, from: 3 })).toEqual({ ok: false, reason: "bad_signature" });
  });

  it("refuses a batch with a badly signed op", async () => {
    const secrets = ["a", "b", "c", "d"];
    const b0 = new PbftBoundary(CLUSTER, 0, standInScheme(secrets, 0));
    const b1 = new PbftBoundary(CLUSTER, 1, standInScheme(secrets, 1));
    const bad = { ...makeOp(1), args: { n: 2 } };
    const env = await b0.seal({
      to: [1],
      msg: { type: "pre-prepare", view: 0, seq: 1, digest: D },
      proposal: { ops: [bad], time: 0, view: 0 },
    });
    expect(await b1.open(JSON.parse(JSON.stringify(env)))).toEqual({ ok: false, reason: "bad_op" });
  });
});

describe("executed-ids entries", () => {
  it("compact contiguous seqs and keep gaps", () => {
    let e = EMPTY_ENTRY;
    for (const seq of [1, 2, 4, 3, 7]) e = entryAdd(e, seq);
    expect(e).toEqual({ floor: 4, above: [7] });
    expect(entryHas(e, 3)).toBe(true);
    expect(entryHas(e, 5)).toBe(false);
    expect(entryHas(e, 7)).toBe(true);
    expect(EMPTY_ENTRY).toEqual({ floor: 0, above: [] }); // entryAdd never changes its input
    expect(isExecutedEntry(e)).toBe(true);
  });

  it("a peer's malformed entry is refused before any hash is computed", () => {
    for (const bad of [
      null,
      [],
      { floor: -1, above: [] },
      { floor: 2, above: [3] },
      { floor: 2, above: [6, 5] },
      { floor: 1, above: [], x: 1 },
    ])
      expect(isExecutedEntry(bad)).toBe(false);
  });
});
