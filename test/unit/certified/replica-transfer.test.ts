/**
 * The decisions of a replica's certified state transfer (shared/certified/replica-transfer.ts)
 * against in-memory nodes serving a real certified state through the nodes' own answer builders
 * (transfer-wire.ts), some of them hostile: tampered chunks, a refused or stale certificate, chunks
 * of another seq, junk text, silence, a checkpoint that moves on. The loop below does what the
 * driver (durable-objects/certified-transfer.ts) does, with certificate verification stood in for by
 * "is it the genuine certificate" (the runtime test runs the real verifier).
 */
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../../shared/canonical.js";
import {
  leaveNode,
  newRound,
  newTransfer,
  next,
  onChunks,
  onPoint,
  progress,
  restartFresh,
  type TransferState,
} from "../../../shared/certified/replica-transfer.js";
import { MerkleStateMachine, memoryStores } from "../../../shared/certified/state-machine.js";
import {
  chunkRequest,
  chunksText,
  parseChunksAnswer,
  parsePointAnswer,
  pointText,
  refusalText,
  TRANSFER_PATHS_MAX,
} from "../../../shared/certified/transfer-wire.js";
import type { Certificate } from "../../../shared/certified/types.js";
import type { SignedOp } from "../../../shared/ops.js";
import { op } from "../../support/trusted-ops.js";

const N = 4;

/** A certified history: `seqs` batches over `keys` counters; the state machine kept at every seq asked. */
function history(seqs: number, keys: number) {
  const batches: SignedOp[][] = [];
  for (let s = 1; s <= seqs; s++)
    batches.push(
      Array.from({ length: 6 }, (_, i) => op(`k${(s * 7 + i * 13) % keys}`, "counter", "add", { n: s })),
    );
  // the first batch touches every key, so the state has them all
  batches[0] = Array.from({ length: keys }, (_, i) => op(`k${i}`, "counter", "add", { n: 1 }));
  const at = (seq: number): MerkleStateMachine => {
    const sm = new MerkleStateMachine(memoryStores());
    batches.slice(0, seq).forEach((b, i) => sm.execute(b, i + 1));
    return sm;
  };
  const certificate = (sm: MerkleStateMachine, seq: number): Certificate => ({
    body: {
      cluster: "test",
      view: 0,
      seq,
      logRoot: "1".repeat(64),
      stateRoot: sm.stateRoot(),
      resultsRoot: "2".repeat(64),
      opCount: seq * 6,
      time: seq,
    },
    sigs: [],
  });
  return { batches, at, certificate };
}

/** A node serving checkpoint `sm` at `seq` (what PbftNode.transferPoint / stateChunks answer). */
function correctNode(sm: MerkleStateMachine, cert: Certificate) {
  const seq = cert.body.seq;
  const h = sm.handle();
  return {
    point: (): string => pointText(cert),
    chunks: (askSeq: number, paths: string[], records: number): string => {
      if (askSeq !== seq) return refusalText("not_stable", seq);
      return chunksText(sm, h, seq, chunkRequest(paths, records)!);
    },
  };
}
type Node = ReturnType<typeof correctNode>;

/** Run the transfer as the driver does; `silent` nodes throw. Returns what happened. */
function drive(
  s: TransferState,
  local: { sm: MerkleStateMachine },
  nodes: (Node | "silent")[],
  genuine: Certificate[],
  head: number,
  maxCalls = 500,
) {
  const log = { calls: [0, 0, 0, 0], left: [] as string[], adopted: null as Certificate | null, rounds: 0 };
  const verified = (c: Certificate) => genuine.some((g) => canonicalJson(g) === canonicalJson(c));
  for (let i = 0; i < maxCalls; i++) {
    const step = next(s, local.sm, N);
    if (step.kind === "wait") return { ...log, waited: true };
    if (step.kind === "adopt") {
      const target = step.fresh ? new MerkleStateMachine(memoryStores()) : local.sm;
      const root = target.adopt(step.staged, step.certificate.body.seq);
      if (root === null) {
        restartFresh(s, local.sm);
        continue;
      }
      expect(root).toBe(step.certificate.body.stateRoot);
      local.sm = target;
      return { ...log, adopted: step.certificate, waited: false };
    }
    log.calls[step.node]!++;
    const node = nodes[step.node]!;
    if (node === "silent") {
      log.left.push("silent");
      leaveNode(s, N, "silent"); // what the driver does when a call throws or passes its deadline
      continue;
    }
    const ch =
      step.kind === "point"
        ? (() => {
            const a = parsePointAnswer(node.point());
            return onPoint(s, local.sm, N, head, a.ok ? { ...a, verified: verified(a.certificate) } : a);
          })()
        : onChunks(s, local.sm, N, parseChunksAnswer(node.chunks(step.seq, step.paths, step.records)));
    if (ch.left) log.left.push(ch.left);
  }
  return { ...log, waited: false };
}

describe("replica certified state transfer: decisions", () => {
  it("a replica behind fetches only what changed, checks every chunk, and adopts the certificate's root", () => {
    const h = history(40, 300);
    const nodeSm = h.at(40);
    const cert = h.certificate(nodeSm, 40);
    const local = { sm: h.at(36) };
    const s = newTransfer(N, 0);
    const out = drive(
      s,
      local,
      [0, 1, 2, 3].map(() => correctNode(nodeSm, cert)),
      [cert],
      36,
    );
    expect(out.adopted).toEqual(cert);
    expect(local.sm.stateRoot()).toBe(nodeSm.stateRoot());
    expect(out.left).toEqual([]);
    // 4 batches of 6 ops changed at most 24 keys (+ executed-ids records) of 300: far less fetched
    const fetched = [...s.paths.values()].reduce(
      (n, p) => n + (p.kind === "fetched" ? p.records.length : 0),
      0,
    );
    expect(fetched).toBeGreaterThan(0);
    expect(fetched).toBeLessThan(150);
  });

  it("a replica with nothing fetches the whole state", () => {
    const h = history(10, 120);
    const nodeSm = h.at(10);
    const cert = h.certificate(nodeSm, 10);
    const local = { sm: new MerkleStateMachine(memoryStores()) };
    const out = drive(
      newTransfer(N, 2),
      local,
      [0, 1, 2, 3].map(() => correctNode(nodeSm, cert)),
      [cert],
      0,
    );
    expect(out.adopted?.body.seq).toBe(10);
    expect(local.sm.stateRoot()).toBe(nodeSm.stateRoot());
    expect(local.sm.size).toBe(nodeSm.size);
  });

  it("a node tampering with chunks is left; the others complete it with the genuine state", () => {
    const h = history(20, 200);
    const nodeSm = h.at(20);
    const cert = h.certificate(nodeSm, 20);
    const good = correctNode(nodeSm, cert);
    const tamper: Node = {
      point: good.point,
      chunks: (seq, paths, records) => {
        const a = JSON.parse(good.chunks(seq, paths, records)) as {
          chunks: { chunk: { records?: [string, string, { n: number }][]; split?: string[] } }[];
        };
        // splits pass, records are changed: the node is trusted on its way down, caught at the leaves
        for (const c of a.chunks) if (c.chunk.records?.[0]) c.chunk.records[0][2] = { n: 999_999 };
        return JSON.stringify(a);
      },
    };
    const local = { sm: h.at(5) };
    const s = newTransfer(N, 0);
    const out = drive(s, local, [tamper, good, tamper, good], [cert], 5);
    expect(out.adopted).toEqual(cert);
    expect(local.sm.stateRoot()).toBe(cert.body.stateRoot);
    expect(out.left.filter((r) => r === "bad_chunk_records_hash").length).toBeGreaterThan(0);
  });

  it("a refused certificate, a stale one, chunks of another seq: each node is left", () => {
    const h = history(30, 100);
    const nodeSm = h.at(30);
    const cert = h.certificate(nodeSm, 30);
    const good = correctNode(nodeSm, cert);
    const forged: Node = { ...good, point: () => pointText({ ...cert, sigs: [{ node: 0, sig: "x" }] }) };
    const old = h.at(12);
    const staleCert = h.certificate(old, 12);
    const stale: Node = correctNode(old, staleCert);
    const otherSeq: Node = {
      point: good.point,
      chunks: (_seq, paths, records) =>
        chunksText(nodeSm, nodeSm.handle(), 31, chunkRequest(paths, records)!),
    };
    // stale is genuine (verified), but at or below the replica's head (15)
    const local = { sm: h.at(15) };
    const s = newTransfer(N, 0);
    const out = drive(s, local, [forged, stale, otherSeq, good], [cert, staleCert], 15);
    expect(out.adopted).toEqual(cert);
    expect(out.left).toEqual(
      expect.arrayContaining(["point_bad_certificate", "point_stale", "chunks_other_seq"]),
    );
    expect(local.sm.stateRoot()).toBe(cert.body.stateRoot);
  });

  it("junk text is refused before anything is used: not JSON, an unknown member, a duplicate member, too large", () => {
    const h = history(8, 50);
    const nodeSm = h.at(8);
    const cert = h.certificate(nodeSm, 8);
    const good = correctNode(nodeSm, cert);
    const text = pointText(cert);
    const junk = [
      "not json",
      text.slice(0, -1) + ',"extra":1}',
      '{"certificate":' + canonicalJson(cert) + ',"certificate":' + canonicalJson(cert) + "}",
      " ".repeat(3 * 1024 * 1024) + text,
    ];
    for (const j of junk) expect(parsePointAnswer(j).ok).toBe(false);
    const chunksJunk = good.chunks(8, [""], 4).replace('"seq":8', '"seq":8,"more":true');
    expect(parseChunksAnswer(chunksJunk)).toEqual({ ok: false, reason: "bad_shape" });
    expect(parseChunksAnswer(42)).toEqual({ ok: false, reason: "not_text" });
    // a node answering junk is left, the transfer goes on with the next
    const bad: Node = { point: () => junk[1]!, chunks: () => chunksJunk };
    const local = { sm: h.at(2) };
    const out = drive(newTransfer(N, 0), local, [bad, bad, good, good], [cert], 2);
    expect(out.left.slice(0, 2)).toEqual(["point_bad_shape", "point_bad_shape"]);
    expect(out.adopted).toEqual(cert);
  });

  it("silence from every node: it waits for the next round, then goes on where it was", () => {
    const h = history(12, 80);
    const nodeSm = h.at(12);
    const cert = h.certificate(nodeSm, 12);
    const good = correctNode(nodeSm, cert);
    const local = { sm: h.at(3) };
    const s = newTransfer(N, 1);
    // a first round that keeps some chunks, then every node silent
    drive(s, local, [good, good, good, good], [cert], 3, 2);
    const kept = progress(s);
    const out = drive(s, local, ["silent", "silent", "silent", "silent"], [cert], 3);
    expect(out.waited).toBe(true);
    expect(out.calls).toEqual([1, 1, 1, 1]);
    expect(progress(s)).toEqual(kept);
    newRound(s);
    const back = drive(s, local, [good, good, good, good], [cert], 3);
    expect(back.adopted).toEqual(cert);
    expect(local.sm.stateRoot()).toBe(cert.body.stateRoot);
  });

  // A delete removes keys, so holding a key the certified state lacks is no reason to start again.
  it("a replica holding a key the certified state lacks adopts, reusing what matches, and drops the key", () => {
    const h = history(15, 60);
    const nodeSm = h.at(15);
    const cert = h.certificate(nodeSm, 15);
    const local = { sm: h.at(10) };
    local.sm.execute([op("stray", "counter", "add", { n: 1 })], 11); // diverged: not in the certified log
    const s = newTransfer(N, 0);
    const out = drive(
      s,
      local,
      [0, 1, 2, 3].map(() => correctNode(nodeSm, cert)),
      [cert],
      10,
    );
    expect(out.adopted).toEqual(cert);
    expect(s.fresh).toBe(false);
    expect(local.sm.stateRoot()).toBe(cert.body.stateRoot);
    expect(local.sm.get("stray")).toBeUndefined();
  });

  it("a checkpoint collected at the node: the transfer moves to its newer one", () => {
    const h = history(48, 90);
    const olderSm = h.at(32);
    const older = h.certificate(olderSm, 32);
    const newerSm = h.at(48);
    const newer = h.certificate(newerSm, 48);
    const local = { sm: h.at(4) };
    const s = newTransfer(N, 0);
    // a first call on the older checkpoint
    drive(
      s,
      local,
      [0, 1, 2, 3].map(() => correctNode(olderSm, older)),
      [older, newer],
      4,
      2,
    );
    expect(s.target).toEqual(older);
    const out = drive(
      s,
      local,
      [0, 1, 2, 3].map(() => correctNode(newerSm, newer)),
      [older, newer],
      4,
    );
    expect(out.adopted).toEqual(newer);
    expect(local.sm.stateRoot()).toBe(newer.body.stateRoot);
  });

  it("a node claiming a newer checkpoint but offering the same one is left, not asked forever", () => {
    const h = history(20, 40);
    const sm = h.at(20);
    const cert = h.certificate(sm, 20);
    const good = correctNode(sm, cert);
    const liar: Node = { point: good.point, chunks: () => refusalText("not_stable", 10_000) };
    const local = { sm: h.at(2) };
    const s = newTransfer(N, 0);
    const out = drive(s, local, [liar, good, good, good], [cert], 2);
    expect(out.left).toContain("point_not_newer");
    expect(out.calls[0]).toBeLessThanOrEqual(3);
    expect(out.adopted).toEqual(cert);
  });

  it("chunk requests are bounded and checked at the node", () => {
    expect(chunkRequest("", 8)).toBeNull();
    expect(chunkRequest([], 8)).toBeNull();
    expect(chunkRequest(["2"], 8)).toBeNull();
    expect(chunkRequest(["0".repeat(257)], 8)).toBeNull();
    expect(chunkRequest([""], 0)).toBeNull();
    expect(chunkRequest([""], 1.5)).toBeNull();
    const many = Array.from({ length: 40 }, (_, i) => i.toString(2));
    expect(chunkRequest(many, 10 ** 9)).toEqual({ paths: many.slice(0, TRANSFER_PATHS_MAX), records: 512 });
  });
});
