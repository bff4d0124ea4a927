/**
 * Hostile or late input that a review found could crash or mislead a node: each case is handed to
 * one node directly (the core trusts its boundary for signatures, so unsigned envelopes do here).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MerkleStateMachine } from "../../../shared/certified/state-machine.js";
import { proposalDigest } from "../../../shared/pbft/digest.js";
import type {
  Commit,
  Envelope,
  NewView,
  Prepare,
  PreparedCert,
  Proposal,
  ViewChange,
} from "../../../shared/pbft/messages.js";
import { PbftReplica } from "../../../shared/pbft/replica.js";
import type { StateChunkMsg, StateMsg } from "../../../shared/pbft/messages.js";
import { EXECUTED_PREFIX } from "../../../shared/certified/executed.js";
import type { ChunkRecord } from "../../../shared/certified/types.js";
import { standInSignOp } from "../../../shared/pbft/signature-scheme.js";
import { utf8 } from "../../../shared/bytes.js";
import { canonicalJson } from "../../../shared/canonical.js";
import { OP_BYTES_MAX, type SignedOp } from "../../../shared/ops.js";
import {
  batchBytes,
  batchBytesLimit,
  jsonBytes,
  OP_BYTES_COUNTED_MAX,
  opBytes,
} from "../../../shared/pbft/batch-bytes.js";
import { DEFAULT_PBFT_CONFIG } from "../../../shared/pbft/config.js";
import { CLUSTER, Harness, makeOp, UNIT_CONFIG } from "./harness.js";

const node = (me: number) =>
  new PbftReplica({ cluster: CLUSTER, me, config: UNIT_CONFIG, sm: new MerkleStateMachine() });
const env = <M extends Envelope["msg"]>(from: number, msg: M, proposal?: Proposal): Envelope<M> =>
  proposal ? { from, msg, sig: "", proposal } : { from, msg, sig: "" };

function prepared(seq: number, view: number, proposal: Proposal): PreparedCert {
  const digest = proposalDigest(proposal);
  const prepares = [0, 1, 2].map((from) => env<Prepare>(from, { type: "prepare", view, seq, digest }));
  return { seq, view, digest, proposal, prepares };
}

function newView(r: PbftReplica, view: number, certs: PreparedCert[][]): Envelope<NewView> {
  const checkpoint = { seq: 0, digest: r.state.genesisDigest, proof: [] };
  const viewChanges = certs.map((prepared, from) =>
    env<ViewChange>(from, { type: "view-change", view, checkpoint, prepared }),
  );
  return env<NewView>(view % 4, { type: "new-view", view, viewChanges });
}

function committed(seq: number, view: number, proposal: Proposal) {
  const digest = proposalDigest(proposal);
  const commits = [0, 1, 2].map((from) => env<Commit>(from, { type: "commit", view, seq, digest }));
  return env(3, { type: "committed" as const, seq, commits }, proposal);
}

describe("NEW-VIEW against a commit proof the node holds (bug 2)", () => {
  it("an equivocating primary's second NEW-VIEW is refused, not a crash; the honest one installs", () => {
    const r = node(3);
    r.step({ kind: "tick", nowMs: 1_000 });
    // Two NEW-VIEWs for view 1 from its primary (node 1): one re-proposes nothing, one re-proposes a
    // batch prepared in view 0 at seq 1.
    const fresh: Proposal = { ops: [makeOp(1)], time: 1_000, view: 1 };
    const old: Proposal = { ops: [makeOp(2)], time: 1_000, view: 0 };
    const empty = newView(r, 1, [[], [], []]);
    const other = newView(r, 1, [[prepared(1, 0, old)], [], []]);
    // The first installed at others, who committed a fresh batch at seq 1 in view 1; node 3 learns it.
    r.step({ kind: "message", envelope: committed(1, 1, fresh) });
    expect(r.state.lastExecuted).toBe(1);
    expect(() => r.step({ kind: "message", envelope: other })).not.toThrow();
    expect(r.stats["drop.new_view_conflicts_commit"]).toBe(1);
    expect(r.state.view).toBe(0);
    r.checkInvariants();
    r.step({ kind: "message", envelope: empty });
    expect(r.state.view).toBe(1);
    expect(r.state.normal).toBe(true);
    r.checkInvariants();
  });

  it("a stale NEW-VIEW arriving after a later view's commit proof is refused, not a crash", () => {
    const r = node(3);
    r.step({ kind: "tick", nowMs: 1_000 });
    const later: Proposal = { ops: [makeOp(1)], time: 1_000, view: 2 };
    const old: Proposal = { ops: [makeOp(2)], time: 1_000, view: 0 };
    r.step({ kind: "message", envelope: committed(1, 2, later) });
    const stale = newView(r, 1, [[prepared(1, 0, old)], [], []]);
    expect(() => r.step({ kind: "message", envelope: stale })).not.toThrow();
    expect(r.stats["drop.new_view_conflicts_commit"]).toBe(1);
    r.checkInvariants();
  });
});

describe("state transfer with a valid checkpoint proof and tampered chunks (bug 1)", () => {
  it("refuses a chunk whose hidden record state differs from what the checkpoint's root covers", () => {
    const h = new Harness();
    h.drop = (to, e) => to === 3 || e.from === 3;
    h.tickAll(1_000);
    for (let seq = 1; seq <= 4; seq++) {
      const op = standInSignOp({
        client: "C".repeat(43),
        seq,
        key: "reg",
        type: "register",
        op: "set",
        args: { v: `v${seq}` },
        ts: 1_000 + seq,
      });
      for (let i = 0; i < 3; i++) h.step(i, { kind: "submit", op });
      h.run();
    }
    const ahead = h.nodes[0]!.state;
    expect(ahead.stable.seq).toBe(4);
    const lagging = h.nodes[3]!;
    // The STATE (proof + header) starts a transfer; the state itself comes in chunks, each checked
    // against the hash the checkpoint's root commits to for its path.
    const header: Envelope<StateMsg> = {
      from: 0,
      msg: { type: "state", checkpoint: ahead.stable, header: ahead.stableHeader },
      sig: "",
    };
    h.step(3, { kind: "message", envelope: header });
    expect(lagging.state.transfer?.pending.has("")).toBe(true);
    const honest = ahead.sm.serveChunk(ahead.stableHandle, ahead.stable.seq, "", {
      records: 512,
      bytes: 1 << 20,
    });
    if (!("records" in honest)) throw new Error("a small state is one chunk");
    const chunk = (tamper: (records: ChunkRecord[]) => void): Envelope<StateChunkMsg> => {
      const records = structuredClone(honest.records);
      tamper(records);
      return { from: 0, msg: { type: "state-chunk", seq: 4, path: "", chunk: { records } }, sig: "" };
    };
    // The same visible value, a register clock pinned at the maximum: every later write would lose.
    const poisoned = chunk((rs) => {
      (rs.find((r) => r[1] === "register")![2] as { ts: number }).ts = Number.MAX_SAFE_INTEGER;
    });
    h.step(3, { kind: "message", envelope: poisoned });
    expect(lagging.state.lastExecuted).toBe(0);
    expect(lagging.stats["drop.bad_chunk.records_hash"]).toBe(1);
    // An executed-ids record that would drop a future op as a duplicate is refused too.
    const forgetful = chunk((rs) => {
      const e = rs.find((r) => r[0].startsWith(EXECUTED_PREFIX))![2] as { floor: number };
      e.floor = 1_000_000;
    });
    h.step(3, { kind: "message", envelope: forgetful });
    expect(lagging.stats["drop.bad_chunk.records_hash"]).toBe(2);
    // The true state is adopted.
    h.step(3, { kind: "message", envelope: chunk(() => {}) });
    expect(lagging.state.lastExecuted).toBe(4);
    expect(lagging.state.sm.stateRoot()).toBe(ahead.sm.stateRoot());
  });
});

describe("message bytes: a worst-case VIEW-CHANGE and NEW-VIEW fit the bulk limit", () => {
  const bigOp = (seq: number): SignedOp => ({
    ...makeOp(seq),
    args: { n: 1, pad: "x".repeat(OP_BYTES_MAX - 400) } as SignedOp["args"],
  });

  it("batches are cut at the byte bound, so logWindowSeqs full prepared certificates × 2f+1 fit", () => {
    const cfg = DEFAULT_PBFT_CONFIG;
    const n = CLUSTER.nodes.length;
    const limit = batchBytesLimit(cfg, n);
    expect(limit).toBeGreaterThanOrEqual(OP_BYTES_MAX);
    const ops: SignedOp[] = [];
    for (let i = 1; batchBytes([...ops, bigOp(i)]) <= limit; i++) ops.push(bigOp(i));
    const sig = "s".repeat(256);
    const cert = (seq: number): PreparedCert => {
      const proposal: Proposal = { ops, time: Number.MAX_SAFE_INTEGER, view: 1_000_000 };
      const digest = proposalDigest(proposal);
      const prepares = Array.from({ length: n }, (_, from) => ({
        from,
        msg: { type: "prepare" as const, view: 1_000_000, seq, digest },
        sig,
      }));
      return { seq, view: 1_000_000, digest, proposal, prepares };
    };
    const checkpoint = {
      seq: 1_000_000,
      digest: "f".repeat(64),
      proof: Array.from({ length: n }, (_, from) => ({
        from,
        msg: { type: "checkpoint" as const, seq: 1_000_000, digest: "f".repeat(64) },
        sig,
      })),
    };
    const prepared = Array.from({ length: cfg.logWindowSeqs }, (_, i) => cert(1_000_001 + i));
    const vc: Envelope<ViewChange> = {
      from: 0,
      msg: { type: "view-change", view: 1_000_001, checkpoint, prepared },
      sig,
    };
    const nv: Envelope<NewView> = {
      from: 1,
      msg: { type: "new-view", view: 1_000_001, viewChanges: Array.from({ length: n }, () => vc) },
      sig,
    };
    expect(utf8(canonicalJson(nv)).length).toBeLessThanOrEqual(cfg.bulkMessageBytesMax);
  });

  it("a primary cuts a batch at the byte bound; a backup refuses a larger proposal", () => {
    const cfg = { ...UNIT_CONFIG, batchSizeMax: 50, batchBytesMax: 3 * OP_BYTES_MAX };
    const primary = new PbftReplica({ cluster: CLUSTER, me: 0, config: cfg, sm: new MerkleStateMachine() });
    primary.step({ kind: "tick", nowMs: 1_000 });
    const sent = [
      primary.step({ kind: "submit-many", ops: [1, 2, 3, 4, 5].map(bigOp) }),
      primary.step({ kind: "tick", nowMs: 1_010 }),
      primary.step({ kind: "tick", nowMs: 1_020 }),
    ].flatMap((fx) => fx.send);
    const batches = sent.flatMap((o) => {
      const p = (o as { proposal?: Proposal }).proposal;
      return o.msg?.type === "pre-prepare" && p ? [p.ops] : [];
    });
    expect(batches.map((ops) => ops.length)).toEqual([3, 2]);
    for (const ops of batches) expect(batchBytes(ops)).toBeLessThanOrEqual(3 * OP_BYTES_MAX);
    const backup = new PbftReplica({ cluster: CLUSTER, me: 1, config: cfg, sm: new MerkleStateMachine() });
    backup.step({ kind: "tick", nowMs: 1_000 });
    const proposal: Proposal = { ops: [1, 2, 3, 4].map(bigOp), time: 1_000, view: 0 };
    const digest = proposalDigest(proposal);
    backup.step({
      kind: "message",
      envelope: { from: 0, msg: { type: "pre-prepare", view: 0, seq: 1, digest }, sig: "", proposal },
    });
    expect(backup.stats["drop.batch_too_large"]).toBe(1);
    expect(backup.state.slots.get(1)?.digest ?? null).toBeNull();
  });
});

describe("the smallest batch bound allowed still orders every valid op", () => {
  const cfg = { ...UNIT_CONFIG, batchBytesMax: OP_BYTES_COUNTED_MAX };
  const register = (seq: number, v: string): SignedOp =>
    standInSignOp({ client: "C".repeat(43), seq, key: "k", type: "register", op: "set", args: { v }, ts: 1 });

  it("8 KiB of emoji (counted 3×, the worst a valid op can be) is proposed, accepted and executed", () => {
    let n = 1;
    while (utf8(canonicalJson(register(1, "😀".repeat(n + 1)))).length <= OP_BYTES_MAX) n++;
    const op = register(1, "😀".repeat(n));
    expect(opBytes(op)).toBeGreaterThan(2.9 * OP_BYTES_MAX);
    const h = new Harness(cfg);
    h.tickAll(1_000);
    for (let i = 0; i < 4; i++) h.step(i, { kind: "submit", op });
    h.run();
    for (const node of h.nodes) {
      expect(node.stats["drop.batch_too_large"] ?? 0).toBe(0);
      expect(node.state.lastExecuted).toBe(1);
    }
  });

  it("a backup accepts a proposal of exactly the bound, and refuses one byte more", () => {
    const limit = batchBytesLimit({ ...DEFAULT_PBFT_CONFIG, ...cfg }, CLUSTER.nodes.length);
    const base = register(1, "😀".repeat(2000));
    const exact = register(1, "😀".repeat(2000) + "x".repeat(limit - opBytes(base)));
    expect(opBytes(exact)).toBe(limit);
    for (const [op, dropped] of [
      [exact, 0],
      [register(1, "😀".repeat(2000) + "x".repeat(limit - opBytes(base) + 1)), 1],
    ] as const) {
      const backup = new PbftReplica({ cluster: CLUSTER, me: 1, config: cfg, sm: new MerkleStateMachine() });
      backup.step({ kind: "tick", nowMs: 1_000 });
      const proposal: Proposal = { ops: [op], time: 1_000, view: 0 };
      const digest = proposalDigest(proposal);
      backup.step({
        kind: "message",
        envelope: { from: 0, msg: { type: "pre-prepare", view: 0, seq: 1, digest }, sig: "", proposal },
      });
      expect(backup.stats["drop.batch_too_large"] ?? 0).toBe(dropped);
      expect(backup.state.slots.get(1)?.digest ?? null).toBe(dropped ? null : digest);
    }
  });
});

describe("a quorum that disagrees with this node is counted, never a crash", () => {
  it("2f+1 CHECKPOINTs for another digest", () => {
    const h = new Harness();
    h.drop = (_to, e) => e.msg.type === "checkpoint";
    h.tickAll(1_000);
    for (let seq = 1; seq <= 2; seq++) {
      for (let i = 0; i < 4; i++) h.step(i, { kind: "submit", op: makeOp(seq) });
      h.run();
    }
    const r = h.nodes[3]!;
    expect(r.state.lastExecuted).toBe(2);
    for (const from of [0, 1, 2])
      expect(() =>
        r.step({
          kind: "message",
          envelope: { from, msg: { type: "checkpoint", seq: 2, digest: "e".repeat(64) }, sig: "" },
        }),
      ).not.toThrow();
    expect(r.stats["drop.checkpoint_quorum_disagrees"]).toBeGreaterThanOrEqual(1);
    expect(r.state.stable.seq).toBe(0);
    r.checkInvariants();
  });

  it("a certificate or 2f+1 shares over another result", () => {
    const h = new Harness();
    h.drop = (_to, e) => e.msg.type === "share";
    h.tickAll(1_000);
    for (let i = 0; i < 4; i++) h.step(i, { kind: "submit", op: makeOp(1) });
    h.run();
    const r = h.nodes[3]!;
    const body = { ...r.state.uncertified.get(1)!.body, stateRoot: "e".repeat(64) };
    const sigs = [0, 1, 2].map((node) => ({ node, sig: "" }));
    expect(() =>
      r.step({
        kind: "message",
        envelope: { from: 0, msg: { type: "certificate", certificate: { body, sigs } }, sig: "" },
      }),
    ).not.toThrow();
    expect(r.stats["drop.certificate_disagrees"]).toBe(1);
    for (const from of [0, 1, 2])
      expect(() =>
        r.step({ kind: "message", envelope: { from, msg: { type: "share", body }, sig: "" } }),
      ).not.toThrow();
    expect(r.stats["share_quorum_disagrees"]).toBeGreaterThanOrEqual(1);
    expect(r.state.certificates.has(1)).toBe(false);
    r.checkInvariants();
  });
});

describe("jsonBytes", () => {
  it("is at least the canonical encoding's UTF-8 length, and equal for ASCII", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const exact = utf8(canonicalJson(v)).length;
        expect(jsonBytes(v)).toBeGreaterThanOrEqual(exact);
      }),
    );
    const op = makeOp(7);
    expect(jsonBytes(op)).toBe(utf8(canonicalJson(op)).length);
  });
});
