/**
 * Every list a peer can send is bounded by `parseEnvelope` (shared/pbft/validate.ts): filled to its
 * bound with well-formed elements it is accepted, one more and it is refused, so a key holder cannot
 * make a node hold or walk an unbounded list. Also: a signature string at its bound, and input that
 * throws when read (a getter) is refused, never a crash.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_PBFT_CONFIG } from "../../../shared/pbft/config.js";
import { parseEnvelope } from "../../../shared/pbft/validate.js";
import { certificateBody, makeOp, UNIT_CONFIG } from "./harness.js";

const CFG = { ...DEFAULT_PBFT_CONFIG, ...UNIT_CONFIG };
const LIM = { n: 4, f: 1, cfg: CFG };
const D = "a".repeat(64);
const times = <T>(k: number, x: (i: number) => T): T[] => Array.from({ length: k }, (_, i) => x(i));
const env = (msg: object, extra: object = {}) => ({ from: 1, msg, sig: "", ...extra });
const vote = (type: string) => env({ type, view: 0, seq: 1, digest: D });
const checkpointProof = (k: number) => ({
  seq: 2,
  digest: D,
  proof: times(k, () => env({ type: "checkpoint", seq: 2, digest: D })),
});
const proposal = (k = 1) => ({ ops: times(k, (i) => makeOp(i + 1)), time: 0, view: 0 });
const cert = (prepares: number) => ({
  seq: 1,
  view: 0,
  digest: D,
  proposal: proposal(),
  prepares: times(prepares, () => vote("prepare")),
});
const viewChange = (over: { proof?: number; prepared?: number; prepares?: number } = {}) =>
  env({
    type: "view-change",
    view: 1,
    checkpoint: checkpointProof(over.proof ?? 3),
    prepared: times(over.prepared ?? 1, () => cert(over.prepares ?? 3)),
  });

/** [what, bound, the envelope with a list of k elements] */
const LISTS: [string, number, (k: number) => unknown][] = [
  ["a checkpoint proof's votes", LIM.n, (k) => viewChange({ proof: k })],
  ["a VIEW-CHANGE's prepared certificates", CFG.logWindowSeqs, (k) => viewChange({ prepared: k })],
  ["a prepared certificate's PREPAREs", LIM.n, (k) => viewChange({ prepares: k })],
  [
    "a NEW-VIEW's VIEW-CHANGEs",
    LIM.n,
    (k) => env({ type: "new-view", view: 1, viewChanges: times(k, () => viewChange()) }),
  ],
  [
    "a COMMITTED's COMMITs",
    LIM.n,
    (k) =>
      env({ type: "committed", seq: 1, commits: times(k, () => vote("commit")) }, { proposal: proposal() }),
  ],
  [
    "a proposal's ops",
    CFG.batchSizeMax,
    (k) => env({ type: "pre-prepare", view: 0, seq: 1, digest: D }, { proposal: proposal(k) }),
  ],
  [
    "a certificate's signatures",
    LIM.n,
    (k) =>
      env({
        type: "certificate",
        certificate: { body: certificateBody(), sigs: times(k, (i) => ({ node: i % 4, sig: "s" })) },
      }),
  ],
  ["an OPS message's ops", CFG.relayOpsMax, (k) => env({ type: "ops", ops: times(k, (i) => makeOp(i + 1)) })],
  [
    "a STATE-FETCH's paths",
    CFG.stateFetchPathsMax,
    (k) => env({ type: "state-fetch", seq: 2, paths: times(k, () => ["01", 1]) }),
  ],
  [
    "a STATE-CHUNK's records",
    CFG.stateChunkRecordsMax,
    (k) =>
      env({ type: "state-chunk", seq: 2, path: "0", chunk: { records: times(k, () => ["k", "h", null]) } }),
  ],
];

describe("every list a peer sends is bounded", () => {
  for (const [what, bound, make] of LISTS)
    it(`${what}: ${bound} accepted, ${bound + 1} refused`, () => {
      expect(parseEnvelope(make(bound), LIM), `${bound}`).not.toBeNull();
      expect(parseEnvelope(make(bound + 1), LIM), `${bound + 1}`).toBeNull();
    });

  it("a STATE-FETCH asks for at least one path, each for 1 to stateChunkRecordsMax records", () => {
    const fetch = (paths: unknown[]) => parseEnvelope(env({ type: "state-fetch", seq: 2, paths }), LIM);
    expect(fetch([])).toBeNull();
    expect(fetch([["0", 0]])).toBeNull();
    expect(fetch([["0", CFG.stateChunkRecordsMax]])).not.toBeNull();
    expect(fetch([["0", CFG.stateChunkRecordsMax + 1]])).toBeNull();
  });
});

describe("strings and hostile objects", () => {
  it("a signature of 256 characters is accepted, 257 refused (the envelope's and a nested one's)", () => {
    expect(parseEnvelope({ ...vote("prepare"), sig: "s".repeat(256) }, LIM)).not.toBeNull();
    expect(parseEnvelope({ ...vote("prepare"), sig: "s".repeat(257) }, LIM)).toBeNull();
    const nested = (sig: string) => {
      const vc = viewChange() as { msg: { checkpoint: { proof: { sig: string }[] } } };
      vc.msg.checkpoint.proof[0]!.sig = sig;
      return parseEnvelope(vc, LIM);
    };
    expect(nested("s".repeat(256))).not.toBeNull();
    expect(nested("s".repeat(257))).toBeNull();
  });

  it("an object that throws when read is refused, not a crash", () => {
    const hostile = { from: 1, sig: "" } as Record<string, unknown>;
    Object.defineProperty(hostile, "msg", {
      enumerable: true,
      get: () => ({
        type: "prepare",
        view: 0,
        seq: 1,
        get digest(): string {
          throw new Error("boom");
        },
      }),
    });
    expect(parseEnvelope(hostile, LIM)).toBeNull();
  });

  it("a STATE-CHUNK split is two digests; a CERTIFICATE message has no field beyond its certificate", () => {
    const split = (xs: unknown[]) =>
      parseEnvelope(env({ type: "state-chunk", seq: 2, path: "0", chunk: { split: xs } }), LIM);
    expect(split([D, D])).not.toBeNull();
    expect(split([D, "x"])).toBeNull();
    expect(split(["x", D])).toBeNull();
    expect(split([D])).toBeNull();
    const certificate = (extra: object) =>
      parseEnvelope(
        env({ type: "certificate", certificate: { body: certificateBody(), sigs: [] }, ...extra }),
        LIM,
      );
    expect(certificate({})).not.toBeNull();
    expect(certificate({ more: 1 })).toBeNull();
  });

  it("null, numbers, strings and arrays where an object belongs are refused", () => {
    for (const bad of [null, 1, "x", [], true])
      for (const where of ["msg", "checkpoint"] as const) {
        const vc = viewChange() as { msg: Record<string, unknown> };
        if (where === "msg") (vc as Record<string, unknown>).msg = bad;
        else vc.msg.checkpoint = bad;
        expect(parseEnvelope(vc, LIM), `${where}: ${JSON.stringify(bad)}`).toBeNull();
      }
  });
});
