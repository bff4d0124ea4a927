/**
 * Every peer message kind's parser (shared/wire/, shared/replication.ts): a genuine message parses
 * back to what was sent; the same message handed over as an object (a structured clone, whatever it
 * carries) is refused; and an extra member added anywhere in its text, or a value replaced by one of
 * another JSON type, is refused (or, inside a list of entries, makes that entry null). Never a throw.
 */
import { mutate, pathsOf, valueAt } from "../../support/json-paths.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { signOp, type SignedOp } from "../../../shared/ops.js";
import { generateKeyPair } from "../../../shared/crypto/keys.js";
import {
  acksText,
  logPageText,
  parseAcks,
  parseApplyReport,
  parseEntries,
  parseLogPage,
  parseReplicateText,
  replicateText,
} from "../../../shared/replication.js";
import {
  certifiedBatchesText,
  certifiedBatchText,
  parseCertifiedBatch,
  parseCertifiedBatches,
} from "../../../shared/wire/certified-batch.js";
import { parseSubmittedOps, submitText } from "../../../shared/wire/node-calls.js";
import { parsePeerJson, peerText } from "../../../shared/wire/peer-text.js";

/** A JSON value of another type than `x` (so a schema must notice). */
const otherType = (x: unknown): unknown =>
  typeof x === "string"
    ? 7
    : typeof x === "number"
      ? "7"
      : x === null
        ? []
        : typeof x === "boolean"
          ? {}
          : "x";

const cloneOnly = [
  undefined,
  NaN,
  Infinity,
  new Date(0),
  new Map([[1, 2]]),
  new Set([1]),
  new Uint8Array(2),
  1n,
];

async function op(n: number): Promise<SignedOp> {
  const k = await generateKeyPair();
  return signOp(k.secret, {
    client: k.publicKey,
    seq: 1,
    key: "w/k",
    type: "counter",
    op: "add",
    args: { n },
    ts: Date.now(),
  });
}

const certificate = {
  body: {
    cluster: "aspec-edge-pbft-v1/" + "c".repeat(64),
    view: 0,
    seq: 3,
    logRoot: "a".repeat(64),
    stateRoot: "b".repeat(64),
    resultsRoot: "d".repeat(64),
    opCount: 2,
    time: 1_700_000_000_000,
  },
  sigs: [
    { node: 0, sig: "s".repeat(86) },
    { node: 1, sig: "t".repeat(86) },
    { node: 2, sig: "u".repeat(86) },
  ],
};

describe("peer message parsers", () => {
  it("a certified batch: parses back; as an object or with any extra member or retyped value, refused", async () => {
    const msg = { certificate, ops: [await op(1), await op(2)] };
    const text = certifiedBatchText(msg);
    expect(parseCertifiedBatch(text)).toEqual({ ok: true, value: JSON.parse(text) });
    for (const x of cloneOnly) expect(parseCertifiedBatch({ ...msg, x }).ok).toBe(false);
    expect(parseCertifiedBatch(msg)).toEqual({ ok: false, reason: "not_text" });
    fc.assert(
      fc.property(fc.constantFrom(...pathsOf(msg)), fc.boolean(), (path, extra) => {
        const target = valueAt(msg, path);
        const m = mutate(msg, path, extra ? null : otherType(target), extra);
        expect(parseCertifiedBatch(JSON.stringify(m)).ok).toBe(false);
      }),
      { numRuns: 200 },
    );
    // a catch-up answer: a list of texts; anything else is refused whole
    const answer = parseCertifiedBatches(certifiedBatchesText([text, text]));
    expect(answer).toEqual({ ok: true, value: [text, text] });
    expect(parseCertifiedBatches([text]).ok).toBe(false);
    expect(parseCertifiedBatches(JSON.stringify([msg])).ok).toBe(false);
  });

  it("a replicate message and an anti-entropy page: the envelope strict, each entry on its own", async () => {
    const entries = [
      { op: await op(1), status: "ok", effect: { n: 1 }, pos: 1 },
      { op: await op(2), status: "ok", effect: { n: 2 }, pos: 2 },
    ];
    const text = replicateText({ origin: "weur", entries: JSON.stringify(entries), targets: ["enam"] });
    const parsed = parseReplicateText(text);
    expect(parsed).toEqual({ ok: true, value: { origin: "weur", entries, targets: ["enam"] } });
    expect(parseReplicateText({ origin: "weur", entries }).ok).toBe(false);
    expect(parseReplicateText(text.replace('{"entries"', '{"x":1,"entries"')).ok).toBe(false);
    const page = logPageText(
      entries.map((e) => JSON.stringify(e)),
      9,
    );
    expect(parseLogPage(page)).toEqual({ ok: true, value: { entries, head: 9 } });
    expect(parseLogPage(page.replace('"head":9', '"head":9,"more":true')).ok).toBe(false);
    expect(parseLogPage(page.replace('"head":9', '"head":-1')).ok).toBe(false);
    fc.assert(
      fc.property(fc.constantFrom(...pathsOf(entries)), fc.boolean(), (path, extra) => {
        const target = valueAt(entries, path);
        fc.pre(path.length >= 2 && !(path[1] === "effect" && !extra)); // an entry's effect is checked by type
        const m = mutate(entries, path, extra ? null : otherType(target), extra) as unknown[];
        const got = parseEntries(JSON.stringify(m));
        expect(got[path[0] as number]).toBeNull();
        expect(got[1 - (path[0] as number)]).not.toBeNull();
      }),
      { numRuns: 200 },
    );
  });

  it("apply reports, confirmations and submitted ops: exact shapes, objects refused", async () => {
    const report = {
      applied: 1,
      duplicates: 0,
      malformed: 0,
      badSignature: 0,
      typeConflicts: 0,
      stampAhead: 0,
      equivocations: 0,
      cursor: 4,
    };
    expect(parseApplyReport(peerText(report))).toEqual({ ok: true, value: report });
    expect(parseApplyReport(report).ok).toBe(false);
    for (const path of pathsOf(report)) {
      expect(parseApplyReport(JSON.stringify(mutate(report, path, "1", false))).ok).toBe(false);
      expect(parseApplyReport(JSON.stringify(mutate(report, path, 1.5, false))).ok).toBe(false);
    }
    expect(parseApplyReport(JSON.stringify({ ...report, extra: 0 })).ok).toBe(false);
    expect(parseAcks(acksText({ enam: 3 }))).toEqual({ enam: 3 });
    expect(parseAcks({ enam: 3 })).toEqual({});
    expect(parseAcks('{"enam":-1}')).toEqual({});
    expect(parseAcks('{"enam":3,"enam":4}')).toEqual({}); // a duplicate member
    const ops = [await op(1), await op(2)];
    expect(parseSubmittedOps(submitText(ops))).toEqual(JSON.parse(submitText(ops)));
    expect(parseSubmittedOps(ops)).toEqual([]);
    expect(parseSubmittedOps('{"__proto__":[]}')).toEqual([]);
  });

  it("the strict parse itself: duplicates, __proto__, lone surrogates, numbers past JSON's range, depth", () => {
    const limits = { chars: 1000, depth: 3 };
    expect(parsePeerJson('{"a":1,"a":2}', limits).ok).toBe(false);
    expect(parsePeerJson('{"__proto__":{}}', limits).ok).toBe(false);
    expect(parsePeerJson('"\\ud800"', limits).ok).toBe(false);
    expect(parsePeerJson("1e400", limits).ok).toBe(false);
    expect(parsePeerJson("[[[[1]]]]", limits).ok).toBe(false);
    expect(parsePeerJson("x".repeat(1001), limits)).toEqual({ ok: false, reason: "too_large" });
    expect(parsePeerJson('{"a":[1,"\\ud83d\\ude00"]}', limits)).toEqual({
      ok: true,
      value: { a: [1, "😀"] },
    });
  });
});
