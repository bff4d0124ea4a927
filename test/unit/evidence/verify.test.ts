/**
 * shared/evidence.ts `verifyEvidence`: each kind accepted from a real lie (real certificates, real
 * proofs, replies signed by the replica's own key), honest replies refused, every field of every
 * valid evidence mutated → refused (never a throw), replays idempotent (one digest whatever the
 * key order or pair order), re-signed replies refused.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { combineShares, signShare } from "../../../shared/certified/certificate.js";
import { proveResults } from "../../../shared/certified/results.js";
import { MerkleStateMachine } from "../../../shared/certified/state-machine.js";
import { generateKeyPair } from "../../../shared/crypto/keys.js";
import { signReply, type OpStatusReply, type ReadReply } from "../../../shared/replies.js";
import {
  EVIDENCE_KINDS,
  evidenceDigest,
  verifyEvidence,
  type Evidence,
  type EvidenceVerdict,
} from "../../../shared/evidence.js";
import { clone, evidenceWorld, type EvidenceWorld } from "../../support/evidence-fixtures.js";
import { op } from "../../support/trusted-ops.js";

let w: EvidenceWorld;
let lies: Record<Evidence["kind"], Evidence>;
// Built per test, not in beforeAll: code reached outside a test counts as module-level for mutation
// testing, and Stryker runs such mutants without activating them (they "survive" whatever this checks).
beforeEach(async () => {
  w = await evidenceWorld();
  lies = await w.lies();
});

const rejected = (v: EvidenceVerdict) => (v.ok ? "accepted" : v.reason);

type Path = (string | number)[];
type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path in a JSON value (containers and leaves), root excluded. */
function paths(v: Json, at: Path = []): Path[] {
  const out: Path[] = [];
  if (Array.isArray(v)) v.forEach((x, i) => out.push([...at, i], ...paths(x, [...at, i])));
  else if (v !== null && typeof v === "object")
    for (const [k, x] of Object.entries(v)) out.push([...at, k], ...paths(x, [...at, k]));
  return out;
}

const DELETE = Symbol("delete");

const at = (v: Json, path: Path): Json => path.reduce<Json>((x, p) => (x as Record<string, Json>)[p]!, v);

const sameSet = (a: Json, b: Json): boolean =>
  Array.isArray(a) &&
  Array.isArray(b) &&
  JSON.stringify(a.map((x) => JSON.stringify(x)).sort()) ===
    JSON.stringify(b.map((x) => JSON.stringify(x)).sort());

/** Each different value a field can be changed to (or deleted). */
function mutationsOf(x: Json): (Json | typeof DELETE)[] {
  const out: (Json | typeof DELETE)[] = [DELETE, null, 7, "x", {}, [], true];
  if (typeof x === "number") out.push(x + 1, x - 1, -x, x * 2 + 1);
  if (typeof x === "string" && x.length > 0)
    out.push(x + "A", x.slice(1), (x[0] === "a" ? "b" : "a") + x.slice(1), "");
  if (typeof x === "boolean") out.push(!x);
  if (Array.isArray(x) && x.length > 0) out.push(x.slice(1), [...x, x[0]!], [...x].reverse());
  return out.filter((m) => m === DELETE || JSON.stringify(m) !== JSON.stringify(x));
}

function mutate(e: Json, path: Path, to: Json | typeof DELETE): Json {
  const copy = clone(e);
  let parent = copy as Record<string | number, Json>;
  for (const p of path.slice(0, -1)) parent = parent[p] as Record<string | number, Json>;
  const last = path[path.length - 1]!;
  if (to !== DELETE) parent[last] = to;
  else if (Array.isArray(parent)) parent.splice(last as number, 1);
  else delete parent[last];
  return copy;
}

describe("verifyEvidence: each kind, from a real lie", () => {
  it("accepts one lie of every kind, naming the replica (or the nodes) and a digest", async () => {
    for (const kind of EVIDENCE_KINDS) {
      const v = await verifyEvidence(lies[kind], w.pins);
      expect(v, kind).toMatchObject({ ok: true, kind, digest: evidenceDigest(lies[kind]) });
      if (kind === "cluster_equivocation") expect(v).toMatchObject({ nodes: ["pbft-1", "pbft-2"], seq: 1 });
      else expect(v).toMatchObject({ replica: "weur" });
    }
  });

  it("refuses every honest reply under every replica kind: nothing is proven", async () => {
    const honest = [w.honestRead, w.honestCertifiedRead, w.honestStatus, w.honestOp];
    for (const reply of honest)
      for (const kind of ["bad_certificate", "bad_certified_read", "bad_certified_result"] as const) {
        const v = await verifyEvidence({ kind, reply }, w.pins);
        expect(v.ok, `${kind} of an honest ${reply.kind}`).toBe(false);
        expect(["consistent", "wrong_reply_kind"]).toContain(rejected(v));
      }
    const v = await verifyEvidence(
      { kind: "contradicted_result", reply: w.honestStatus, truth: w.truth },
      w.pins,
    );
    expect(rejected(v)).toBe("no_contradiction");
  });

  it("a certified read whose seq or stateRoot is not its certificate's is a lie, even with a true proof", async () => {
    for (const change of [
      (r: ReadReply) => (r.certified!.seq = 2),
      (r: ReadReply) => (r.certified!.stateRoot = "cd".repeat(32)),
      (r: ReadReply) => (r.certified!.value = null), // "absent" against a tree that holds the key
    ]) {
      const r = clone(w.honestRead);
      change(r);
      const v = await verifyEvidence({ kind: "bad_certified_read", reply: await w.sign(r) }, w.pins);
      expect(v).toMatchObject({ ok: true, kind: "bad_certified_read", replica: "weur" });
    }
  });

  it("an op status passing off another op's certified result is a lie", async () => {
    const r = clone(w.honestStatus);
    r.opId = `${"Z".repeat(43)}:9`;
    const v = await verifyEvidence({ kind: "bad_certified_result", reply: await w.sign(r) }, w.pins);
    expect(v).toMatchObject({ ok: true, kind: "bad_certified_result" });
  });

  it("an op status's forged certified.certificate is bad_certificate evidence", async () => {
    const r = clone(w.honestStatus);
    r.certified!.certificate.body.opCount = 99;
    const reply = await w.sign(r);
    expect(await verifyEvidence({ kind: "bad_certificate", reply }, w.pins)).toMatchObject({ ok: true });
    expect(rejected(await verifyEvidence({ kind: "bad_certified_result", reply }, w.pins))).toBe(
      "certificate_invalid",
    );
  });

  it("contradicted_result whose claim verifies on its own is a cluster fault, not the replica's", async () => {
    // a second valid certificate of seq 1 in which the same op X ran after another add: X → 6, not 5
    const sm = new MerkleStateMachine();
    const exec = sm.execute([op("k", "counter", "add", { n: 1 }), w.ops[0]!], 1);
    const body = { ...w.body, stateRoot: exec.stateRoot, resultsRoot: exec.resultsRoot };
    const shares = await Promise.all([1, 2, 3].map((i) => signShare(w.nodeKeys[i]!.secret, i, body)));
    const other = combineShares(shares, w.cluster)!;
    const truth = {
      seq: 1,
      result: exec.results[1]!,
      proof: proveResults(exec.results)[1]!,
      certificate: other,
    };
    expect(truth.result).toMatchObject({ opId: w.honestStatus.opId, value: 6 });
    const honest = await verifyEvidence(
      { kind: "contradicted_result", reply: w.honestStatus, truth },
      w.pins,
    );
    expect(honest).toEqual({
      ok: false,
      reason: "cluster_fault",
      detail: "both results verify: two valid certificates disagree about the op",
    });
    // the same truth against a claim that does not verify on its own is the replica's lie
    const lie = lies.contradicted_result as Extract<Evidence, { kind: "contradicted_result" }>;
    const v = await verifyEvidence({ kind: "contradicted_result", reply: lie.reply, truth }, w.pins);
    expect(v).toMatchObject({ ok: true, kind: "contradicted_result", replica: "weur" });
    // and both certificates together are the cluster's equivocation, naming the nodes in both
    expect(
      await verifyEvidence({ kind: "cluster_equivocation", certificates: [w.cert, other] }, w.pins),
    ).toMatchObject({ ok: true, nodes: ["pbft-1", "pbft-2"], seq: 1 });
  });

  it("cluster evidence needs two valid certificates of one seq with different bodies", async () => {
    const [a, b] = (lies.cluster_equivocation as Extract<Evidence, { kind: "cluster_equivocation" }>)
      .certificates;
    const same = await verifyEvidence({ kind: "cluster_equivocation", certificates: [a, clone(a)] }, w.pins);
    expect(rejected(same)).toBe("not_equivocation");
    const otherSeq = clone(b);
    otherSeq.body.seq = 2;
    expect(
      rejected(await verifyEvidence({ kind: "cluster_equivocation", certificates: [a, otherSeq] }, w.pins)),
    ).toBe("not_equivocation");
  });
});

describe("verifyEvidence: hostile input", () => {
  it("every field of every valid evidence, mutated or deleted, is refused — never a throw", async () => {
    let checked = 0;
    for (const kind of EVIDENCE_KINDS) {
      const e = lies[kind] as unknown as Json;
      for (const path of paths(e))
        for (const to of mutationsOf(at(e, path))) {
          const m = mutate(e, path, to);
          const v = await verifyEvidence(m, w.pins);
          checked++;
          // A certificate's signatures are a set, and so is the equivocation pair: another order is
          // the same evidence (same digest), a replay — not a new accepted one.
          const reordered =
            to !== DELETE &&
            ["sigs", "certificates"].includes(String(path.at(-1))) &&
            sameSet(to, at(e, path));
          if (v.ok && reordered) expect(v.digest).toBe(evidenceDigest(lies[kind]));
          else if (v.ok)
            throw new Error(
              `${kind}: ${path.join(".")} → ${to === DELETE ? "deleted" : JSON.stringify(to)} still verifies`,
            );
        }
      // an extra field at the top is ignored: the same verdict, the same digest (one lie, one digest)
      expect(await verifyEvidence({ ...(e as object), extra: 1 }, w.pins)).toEqual(
        await verifyEvidence(e, w.pins),
      );
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it("non-evidence values are refused as malformed, never a throw", async () => {
    const cyclic: Record<string, unknown> = { kind: "bad_certificate" };
    cyclic.reply = cyclic;
    const getter = {
      kind: "bad_certificate",
      get reply(): never {
        throw new Error("boom");
      },
    };
    for (const x of [
      null,
      undefined,
      1,
      "e",
      [],
      {},
      { kind: 1 },
      { kind: "nope" },
      { kind: "__proto__" },
      cyclic,
      getter,
    ])
      expect((await verifyEvidence(x, w.pins)).ok).toBe(false);
  });

  it("a reply re-signed by another key is refused; one naming an unpinned replica too", async () => {
    const lie = lies.bad_certified_read as Extract<Evidence, { kind: "bad_certified_read" }>;
    const stranger = await generateKeyPair();
    const { sig: _s, ...unsigned } = lie.reply as ReadReply;
    const resigned = await signReply<ReadReply>(stranger.secret, unsigned);
    expect(rejected(await verifyEvidence({ kind: lie.kind, reply: resigned }, w.pins))).toBe(
      "bad_reply_signature",
    );
    // signed by enam's key but naming weur: still not weur's signature
    const asEnam = await signReply<ReadReply>(w.replicaKeys.enam!.secret, unsigned);
    expect(rejected(await verifyEvidence({ kind: lie.kind, reply: asEnam }, w.pins))).toBe(
      "bad_reply_signature",
    );
    const unknown = await signReply<ReadReply>(stranger.secret, { ...unsigned, replica: "mars" });
    expect(rejected(await verifyEvidence({ kind: lie.kind, reply: unknown }, w.pins))).toBe(
      "unknown_replica",
    );
  });

  it("an unusable pinned cluster blames no one", async () => {
    const pins = { ...w.pins, cluster: { ...w.cluster, f: 0 } };
    expect(rejected(await verifyEvidence(lies.bad_certificate, pins))).toBe("bad_config");
  });
});

describe("verifyEvidence: replays", () => {
  it("the same evidence has one digest: again, with its JSON keys in another order, or its pair swapped", async () => {
    for (const kind of EVIDENCE_KINDS) {
      const e = lies[kind];
      const first = await verifyEvidence(e, w.pins);
      const again = await verifyEvidence(clone(e), w.pins);
      const reordered = JSON.parse(JSON.stringify(e, Object.keys(flatKeys(e)).sort().reverse()));
      expect(again).toEqual(first);
      expect(await verifyEvidence(reordered, w.pins)).toEqual(first);
    }
    const eq = lies.cluster_equivocation as Extract<Evidence, { kind: "cluster_equivocation" }>;
    const swapped = { kind: eq.kind, certificates: [eq.certificates[1], eq.certificates[0]] };
    const a = await verifyEvidence(eq, w.pins);
    const b = await verifyEvidence(swapped, w.pins);
    expect(a.ok && b.ok && a.digest === b.digest).toBe(true);
  });

  it("different lies have different digests; one reply shown as two kinds is one lie", async () => {
    const digests = new Set(EVIDENCE_KINDS.map((k) => evidenceDigest(lies[k])));
    // bad_certified_result and contradicted_result carry the same signed reply: one lie, one digest
    expect(evidenceDigest(lies.bad_certified_result)).toBe(evidenceDigest(lies.contradicted_result));
    expect(digests.size).toBe(EVIDENCE_KINDS.length - 1);
    const r = clone(w.honestStatus) as OpStatusReply;
    r.certified!.result.value = 51;
    const other = { kind: "bad_certified_result" as const, reply: await w.sign(r) };
    expect(evidenceDigest(other)).not.toBe(evidenceDigest(lies.bad_certified_result));
  });
});

/** Every key name used anywhere in a value (for a JSON.stringify replacer list). */
function flatKeys(v: unknown, out: Record<string, true> = {}): Record<string, true> {
  if (Array.isArray(v)) v.forEach((x) => flatKeys(x, out));
  else if (v !== null && typeof v === "object")
    for (const [k, x] of Object.entries(v)) {
      out[k] = true;
      flatKeys(x, out);
    }
  return out;
}

describe("verifyEvidence: another cluster's certificate", () => {
  it("is not judged (a re-keyed cluster has a new id; an old honest reply must not read as forged)", async () => {
    const r = clone(w.honestOp);
    r.certificate!.body.cluster = "aspec-edge-pbft-v0";
    const v = await verifyEvidence({ kind: "bad_certificate", reply: await w.sign(r) }, w.pins);
    expect(rejected(v)).toBe("other_cluster");
  });
});

describe("verifyEvidence: each verdict says why", () => {
  const verdict = (e: unknown) => verifyEvidence(e, w.pins);
  const lie = <K extends Evidence["kind"]>(k: K) => lies[k] as Extract<Evidence, { kind: K }>;

  it("an accepted lie names the first thing wrong in it", async () => {
    const detail = async (e: unknown) => {
      const v = await verdict(e);
      return v.ok ? v.detail : `refused: ${v.reason}`;
    };
    expect(await detail(lies.bad_certificate)).toBe("certificate does not verify against the cluster");
    expect(await detail(lies.bad_certified_read)).toBe(
      "the state proof does not verify against the certificate's stateRoot",
    );
    expect(await detail(lies.bad_certified_result)).toBe(
      "the result proof does not verify against the certificate's resultsRoot",
    );
    const seq = clone(w.honestRead);
    seq.certified!.seq = 2;
    expect(await detail({ kind: "bad_certified_read", reply: await w.sign(seq) })).toBe(
      "certified.seq 2 ≠ certificate seq 1",
    );
    const root = clone(w.honestRead);
    root.certified!.stateRoot = "cd".repeat(32);
    expect(await detail({ kind: "bad_certified_read", reply: await w.sign(root) })).toBe(
      "certified.stateRoot ≠ the certificate's stateRoot",
    );
    const statusSeq = clone(w.honestStatus);
    statusSeq.certified!.seq = 3;
    expect(await detail({ kind: "bad_certified_result", reply: await w.sign(statusSeq) })).toBe(
      "certified.seq 3 ≠ certificate seq 1",
    );
    const otherOp = clone(w.honestStatus);
    otherOp.certified!.result.opId = "someone-else:1";
    expect(await detail({ kind: "bad_certified_result", reply: await w.sign(otherOp) })).toBe(
      "the certified result is not the asked op's",
    );
    const forgedInStatus = clone(w.honestStatus);
    forgedInStatus.certified!.certificate.body.seq = 9;
    forgedInStatus.certificate = null;
    expect(await detail({ kind: "bad_certificate", reply: await w.sign(forgedInStatus) })).toBe(
      "certified.certificate does not verify against the cluster",
    );
  });

  it("a refusal says why, and blames no one when it cannot", async () => {
    const refused = async (e: unknown) => {
      const v = await verdict(e);
      return v.ok ? "accepted" : v;
    };
    const read = lie("bad_certified_read");
    const { sig: _sig, ...unsigned } = read.reply as ReadReply;
    expect(await refused({ kind: "bad_certified_read", reply: 1 })).toEqual({
      ok: false,
      reason: "malformed",
      detail: "reply: not a replica reply",
    });
    // not an object, no kind, no replica: each is "not a replica reply", for every kind of evidence
    const { kind: _kind, ...kindless } = read.reply as ReadReply;
    const { replica: _replica, ...nameless } = read.reply as ReadReply;
    const truth = (lie("contradicted_result") as { truth: unknown }).truth;
    for (const [kind, extra] of [
      ["bad_certified_read", {}],
      ["contradicted_result", { truth }],
    ] as const)
      for (const reply of [null, "reply", kindless, nameless, { ...read.reply, kind: 5 }])
        expect(await refused({ kind, reply, ...extra }), `${kind} ${JSON.stringify(reply)}`).toEqual({
          ok: false,
          reason: "malformed",
          detail: "reply: not a replica reply",
        });
    expect(await refused({ kind: "bad_certified_read", reply: unsigned })).toEqual({
      ok: false,
      reason: "malformed",
      detail: "reply: no signature",
    });
    const stranger = await generateKeyPair();
    expect(
      await refused({
        kind: "bad_certified_read",
        reply: await signReply<ReadReply>(stranger.secret, unsigned),
      }),
    ).toEqual({ ok: false, reason: "bad_reply_signature", detail: "not signed by replica 'weur'" });
    expect(await refused({ kind: "bad_certified_read", reply: w.honestRead })).toEqual({
      ok: false,
      reason: "consistent",
      detail: "the certified value verifies against its certificate",
    });
    expect(await refused({ kind: "bad_certificate", reply: w.honestOp })).toEqual({
      ok: false,
      reason: "consistent",
      detail: "every certificate in the reply verifies",
    });
    const noValue = clone(w.honestRead);
    noValue.certified = null;
    expect(await refused({ kind: "bad_certified_read", reply: await w.sign(noValue) })).toEqual({
      ok: false,
      reason: "consistent",
      detail: "the reply claims no certified value",
    });
    const noResult = clone(w.honestStatus);
    noResult.certified = null;
    expect(await refused({ kind: "bad_certified_result", reply: await w.sign(noResult) })).toEqual({
      ok: false,
      reason: "consistent",
      detail: "the reply claims no certified result",
    });
    // a read or status whose own certificate is forged proves nothing about the value: that is
    // bad_certificate evidence, not this kind
    const forgedRead = clone(w.honestRead);
    forgedRead.certificate!.body.seq = 9;
    expect(await refused({ kind: "bad_certified_read", reply: await w.sign(forgedRead) })).toEqual({
      ok: false,
      reason: "certificate_invalid",
    });
    const forgedStatus = clone(w.honestStatus);
    forgedStatus.certified!.certificate.body.seq = 9;
    expect(await refused({ kind: "bad_certified_result", reply: await w.sign(forgedStatus) })).toEqual({
      ok: false,
      reason: "certificate_invalid",
    });
    // another cluster's certificate: passed up, whatever the kind
    const other = `not a certificate of ${w.cluster.cluster}`;
    const otherRead = clone(w.honestRead);
    otherRead.certificate!.body.cluster = "aspec-edge-pbft-v0";
    expect(await refused({ kind: "bad_certified_read", reply: await w.sign(otherRead) })).toEqual({
      ok: false,
      reason: "other_cluster",
      detail: other,
    });
    const otherStatus = clone(w.honestStatus);
    otherStatus.certified!.certificate.body.cluster = "aspec-edge-pbft-v0";
    expect(await refused({ kind: "bad_certified_result", reply: await w.sign(otherStatus) })).toEqual({
      ok: false,
      reason: "other_cluster",
      detail: other,
    });
  });
});

describe("verifyEvidence: each verdict says why (contradictions, equivocations, the envelope)", () => {
  const verdict = (e: unknown) => verifyEvidence(e, w.pins);
  const why = async (e: unknown) => {
    const v = await verdict(e);
    return v.ok ? { ok: true, detail: v.detail } : v;
  };
  const certify = async (body: typeof w.body, nodes: number[]) =>
    combineShares(await Promise.all(nodes.map((i) => signShare(w.nodeKeys[i]!.secret, i, body))), w.cluster)!;

  it("contradicted_result: accepted naming the op; each refusal says why", async () => {
    const lie = lies.contradicted_result as Extract<Evidence, { kind: "contradicted_result" }>;
    const opId = (lie.reply as OpStatusReply).opId;
    expect(await why(lie)).toEqual({
      ok: true,
      detail: `the certified result of ${opId} is not what the replica claimed`,
    });
    const otherOp = clone(lie.reply as OpStatusReply);
    otherOp.certified!.result.opId = "someone-else:1";
    const noClaim = clone(lie.reply as OpStatusReply);
    noClaim.certified = null;
    for (const reply of [otherOp, noClaim])
      expect(await why({ ...lie, reply: await w.sign(reply) })).toEqual({
        ok: false,
        reason: "consistent",
        detail: "the reply claims no certified result for its op",
      });
    const { proof: _p, ...partial } = lie.truth;
    for (const truth of [partial, 5])
      expect(await why({ ...lie, truth })).toEqual({
        ok: false,
        reason: "malformed",
        detail: "truth: {seq, result, proof, certificate}",
      });
    // an unsigned member beside the truth's fields is ignored, not judged: the same verdict and digest
    expect(await verdict({ ...lie, truth: { ...lie.truth, extra: 1 } })).toEqual(await verdict(lie));
    const forgedTruth = clone(lie.truth);
    forgedTruth.certificate.body.seq = 9;
    expect(await why({ ...lie, truth: forgedTruth })).toEqual({
      ok: false,
      reason: "bad_truth",
      detail: "the truth's certificate does not verify",
    });
    const seqTruth = clone(lie.truth);
    seqTruth.seq = 2;
    expect(await why({ ...lie, truth: seqTruth })).toEqual({
      ok: false,
      reason: "bad_truth",
      detail: "certified.seq 2 ≠ certificate seq 1",
    });
    expect(await why({ ...lie, reply: w.honestStatus })).toEqual({
      ok: false,
      reason: "no_contradiction",
      detail: "the truth is the result the reply claims",
    });
    const otherClusterTruth = clone(lie.truth);
    otherClusterTruth.certificate.body.cluster = "aspec-edge-pbft-v0";
    const otherClusterClaim = clone(lie.reply as OpStatusReply);
    otherClusterClaim.certified!.certificate.body.cluster = "aspec-edge-pbft-v0";
    for (const e of [
      { ...lie, truth: otherClusterTruth },
      { ...lie, reply: await w.sign(otherClusterClaim) },
    ])
      expect(await why(e)).toEqual({
        ok: false,
        reason: "other_cluster",
        detail: `not a certificate of ${w.cluster.cluster}`,
      });
  });

  it("cluster_equivocation: accepted naming the nodes that signed both, in node order; each refusal says why", async () => {
    const eq = lies.cluster_equivocation as Extract<Evidence, { kind: "cluster_equivocation" }>;
    const [a, b] = eq.certificates;
    const reversed = { ...a, sigs: [...a.sigs].reverse() };
    const v = await verdict({ kind: eq.kind, certificates: [reversed, b] });
    expect(v).toMatchObject({ ok: true, seq: 1 });
    const nodes = v.ok && v.kind === "cluster_equivocation" ? v.nodes : [];
    const expected = a.sigs
      .map((s) => s.node)
      .filter((n) => b.sigs.some((t) => t.node === n))
      .sort((x, y) => x - y)
      .map((n) => `pbft-${n}`);
    expect(nodes).toEqual(expected);
    expect(expected.length).toBeGreaterThanOrEqual(2);
    expect(v.ok && v.detail).toBe(`two certified bodies for seq 1, both signed by ${expected.join(", ")}`);

    for (const certificates of [[a], [a, b, b], "two"])
      expect(await why({ kind: eq.kind, certificates })).toEqual({
        ok: false,
        reason: "malformed",
        detail: "certificates: two certificates",
      });
    const forged = clone(b);
    forged.body.seq = 9;
    expect(await why({ kind: eq.kind, certificates: [a, forged] })).toEqual({
      ok: false,
      reason: "not_equivocation",
      detail: "a certificate does not verify",
    });
    const seq2 = await certify({ ...w.body, seq: 2 }, [0, 1, 2]);
    expect(await why({ kind: eq.kind, certificates: [a, seq2] })).toEqual({
      ok: false,
      reason: "not_equivocation",
      detail: "the certificates are for different seqs",
    });
    const sameBody = await certify(a.body, [1, 2, 3]);
    expect(await why({ kind: eq.kind, certificates: [a, sameBody] })).toEqual({
      ok: false,
      reason: "not_equivocation",
      detail: "the certificates certify one body",
    });
  });

  it("the envelope: no kind, an unknown kind, other fields, an input that throws when read", async () => {
    expect(await why("x")).toEqual({
      ok: false,
      reason: "malformed",
      detail: "evidence: an object with a kind",
    });
    expect(await why({ kind: "nope" })).toEqual({ ok: false, reason: "unknown_kind", detail: "nope" });
    const { reply: _r, ...noReply } = lies.bad_certificate as { kind: string; reply: unknown };
    expect(await why({ ...noReply, extra: 1 })).toEqual({
      ok: false,
      reason: "malformed",
      detail: "bad_certificate: fields kind, reply",
    });
    // other fields beside the kind's are ignored after verification, never judged before it
    expect(await verdict({ ...lies.bad_certificate, extra: 1 })).toEqual(await verdict(lies.bad_certificate));
    const getter = {
      kind: "bad_certificate",
      get reply(): never {
        throw new Error("boom");
      },
    };
    expect(await why(getter)).toEqual({
      ok: false,
      reason: "malformed",
      detail: "evidence could not be read",
    });
  });
});
