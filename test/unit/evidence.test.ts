/**
 * shared/evidence.ts `verifyEvidence`: each kind accepted from a real lie (real certificates, real
 * proofs, replies signed by the replica's own key), honest replies refused, every field of every
 * valid evidence mutated → refused (never a throw), replays idempotent (one digest whatever the
 * key order or pair order), re-signed replies refused.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { combineShares, signShare } from "../../shared/certified/certificate.js";
import { proveResults } from "../../shared/certified/results.js";
import { MerkleStateMachine } from "../../shared/certified/state-machine.js";
import { generateKeyPair } from "../../shared/crypto/keys.js";
import { signReply, type OpStatusReply, type ReadReply } from "../../shared/replies.js";
import {
  EVIDENCE_KINDS,
  evidenceDigest,
  verifyEvidence,
  type Evidence,
  type EvidenceVerdict,
} from "../../shared/evidence.js";
import { clone, evidenceWorld, type EvidenceWorld } from "../support/evidence-fixtures.js";
import { op } from "../support/trusted-ops.js";

let w: EvidenceWorld;
let lies: Record<Evidence["kind"], Evidence>;
beforeAll(async () => {
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
    expect(rejected(honest)).toBe("cluster_fault");
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
      // an extra field anywhere at the top is refused too (one evidence, one digest)
      expect(rejected(await verifyEvidence({ ...(e as object), extra: 1 }, w.pins))).toBe("malformed");
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

  it("different lies have different digests", async () => {
    const digests = new Set(EVIDENCE_KINDS.map((k) => evidenceDigest(lies[k])));
    expect(digests.size).toBe(EVIDENCE_KINDS.length);
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
