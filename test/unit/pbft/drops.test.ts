/**
 * Why the core dropped a message (`drop.<reason>` in its stats): each reason produced, alone, by
 * the input that should produce it, at a fresh backup (node 1, view 0, nothing executed). The core
 * trusts its boundary for signatures, so these envelopes go unsigned; what they test is the core's
 * own checks of views, windows, proposals, quorums and bodies — hostile input a key holder can send.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { MerkleStateMachine } from "../../../shared/certified/state-machine.js";
import { DEFAULT_PBFT_CONFIG } from "../../../shared/pbft/config.js";
import { proposalDigest } from "../../../shared/pbft/digest.js";
import { opIdOf } from "../../../shared/ops.js";
import type { Envelope, Message, Proposal } from "../../../shared/pbft/messages.js";
import { PbftReplica } from "../../../shared/pbft/replica.js";
import { CLUSTER, Harness, UNIT_CONFIG, certificateBody, makeOp } from "./harness.js";
import { lazy } from "../../support/lazy.js";

const D = "a".repeat(64);
const proposal = (over: Partial<Proposal> = {}): Proposal => ({
  ops: [makeOp(1)],
  time: 0,
  view: 0,
  ...over,
});
const env = (from: number, msg: Message, p?: Proposal): Envelope =>
  ({ from, msg, sig: "", ...(p ? { proposal: p } : {}) }) as Envelope;
const prePrepare = (p = proposal(), over: Partial<{ view: number; seq: number; digest: string }> = {}) =>
  env(0, { type: "pre-prepare", view: 0, seq: 1, digest: proposalDigest(p), ...over }, p);
const body = certificateBody;
const commit = (from: number, over: Partial<{ view: number; seq: number; digest: string }> = {}) =>
  env(from, { type: "commit", view: 0, seq: 1, digest: proposalDigest(proposal()), ...over });
const committed = (commits: Envelope[], p: Proposal | null = proposal(), seq = 1) =>
  env(2, { type: "committed", seq, commits } as Message, p ?? undefined);

const fresh = (me = 1) =>
  new PbftReplica({ cluster: CLUSTER, me, config: UNIT_CONFIG, sm: new MerkleStateMachine() });
/** The genesis checkpoint every node starts from (computed in the test that asks: test/support/lazy.ts). */
const genesis = lazy(() => fresh().state.stable.digest);
const viewChange = (from: number, view: number, checkpointSeq = 0) =>
  env(from, {
    type: "view-change",
    view,
    checkpoint: { seq: checkpointSeq, digest: genesis(), proof: [] },
    prepared: [],
  });

const seq2Commits = () => [0, 2, 3].map((from) => commit(from, { seq: 2 }));

/** The drop counts after delivering `before` (not counted) and then `envs` to a fresh node `me`. */
function dropsOf(envs: Envelope[], before: Envelope[] = [], me = 1): Record<string, number> {
  const r = fresh(me);
  for (const e of before) r.step({ kind: "message", envelope: e });
  const was = { ...r.stats };
  for (const e of envs) r.step({ kind: "message", envelope: e });
  return Object.fromEntries(
    Object.entries(r.stats)
      .filter(([k, v]) => k.startsWith("drop.") && v !== was[k])
      .map(([k, v]) => [k, v - (was[k] ?? 0)]),
  );
}

describe("the core's drop reasons, each from the input that should produce it", () => {
  const cases: [reason: string, envs: () => Envelope[], before?: () => Envelope[]][] = [
    // PRE-PREPARE
    ["pre_prepare_not_from_primary", () => [{ ...prePrepare(), from: 2 }]],
    ["missing_proposal", () => [{ ...prePrepare(), proposal: undefined } as unknown as Envelope]],
    ["future_view", () => [prePrepare(proposal(), { view: 4 })]], // node 0 is view 4's primary too
    ["out_of_window", () => [prePrepare(proposal(), { seq: (UNIT_CONFIG.logWindowSeqs ?? 0) + 1 })]],
    ["equivocation", () => [prePrepare(proposal({ time: 1 }))], () => [prePrepare()]],
    ["bad_proposal_view", () => [prePrepare(proposal({ view: 1 }))]],
    ["time_out_of_bound", () => [prePrepare(proposal({ time: 60_000 }))]],
    ["bad_digest", () => [prePrepare(proposal(), { digest: D })]],
    // votes
    ["future_view", () => [env(2, { type: "prepare", view: 1, seq: 1, digest: D })]],
    ["out_of_window", () => [env(2, { type: "commit", view: 0, seq: 99, digest: D })]],
    ["duplicate", () => [commit(2)], () => [commit(2)]],
    ["equivocation", () => [commit(2, { digest: D })], () => [commit(2)]],
    // COMMITTED
    ["missing_proposal", () => [committed([commit(0), commit(2), commit(3)], null)]],
    ["stale_committed", () => [committed([commit(0), commit(2), commit(3)], proposal(), 0)]],
    ["out_of_window", () => [committed([commit(0), commit(2), commit(3)], proposal(), 99)]],
    ["bad_committed", () => [committed([])]],
    ["bad_committed", () => [committed([commit(0), commit(2), commit(3, { seq: 2 })])]],
    ["bad_committed", () => [committed([commit(0), commit(2), commit(3, { view: 1 })])]],
    ["bad_committed", () => [committed([commit(0), commit(2), commit(3, { digest: D })])]],
    ["bad_committed", () => [committed([commit(0), commit(2)])]], // fewer than 2f+1
    ["bad_committed", () => [committed([commit(0), commit(2), commit(2)])]], // a repeated sender
    ["bad_committed", () => [committed([commit(0), commit(2), commit(3), commit(3)])]], // 2f+1, one repeated
    // seq 2 cannot execute before seq 1: its commit proof stays, and the same COMMITTED again is a duplicate
    [
      "duplicate",
      () => [committed(seq2Commits(), proposal(), 2)],
      () => [committed(seq2Commits(), proposal(), 2)],
    ],
    ["bad_digest", () => [committed([commit(0), commit(2), commit(3)], proposal({ time: 1 }))]],
    // CHECKPOINT
    ["stale_checkpoint", () => [env(2, { type: "checkpoint", seq: 0, digest: D })]],
    ["bad_checkpoint_seq", () => [env(2, { type: "checkpoint", seq: 3, digest: D })]],
    [
      "duplicate",
      () => [env(2, { type: "checkpoint", seq: 2, digest: D })],
      () => [env(2, { type: "checkpoint", seq: 2, digest: D })],
    ],
    // shares and certificates
    ["wrong_cluster", () => [env(2, { type: "share", body: body({ cluster: "other" }) })]],
    ["share_out_of_window", () => [env(2, { type: "share", body: body({ seq: 0 }) })]],
    ["share_out_of_window", () => [env(2, { type: "share", body: body({ seq: 99 }) })]],
    [
      "duplicate",
      () => [env(2, { type: "share", body: body() })],
      () => [env(2, { type: "share", body: body() })],
    ],
    [
      "wrong_cluster",
      () => [env(2, { type: "certificate", certificate: { body: body({ cluster: "other" }), sigs: [] } })],
    ],
    [
      "certificate_not_needed",
      () => [env(2, { type: "certificate", certificate: { body: body(), sigs: [] } })],
    ],
    // view changes
    ["stale_view_change", () => [viewChange(2, 0)]],
    ["bad_view_change", () => [viewChange(2, 1, 2)]], // a checkpoint past genesis with no proof
    ["duplicate", () => [viewChange(2, 1)], () => [viewChange(2, 1)]],
    ["new_view_not_from_primary", () => [env(2, { type: "new-view", view: 1, viewChanges: [] })]],
    ["stale_new_view", () => [env(0, { type: "new-view", view: 0, viewChanges: [] })]],
    // (node 1 is view 1's primary: its own NEW-VIEW, as it would loop back)
    ["bad_new_view", () => [env(1, { type: "new-view", view: 1, viewChanges: [] })]],
    [
      "bad_new_view",
      () => [
        env(1, {
          type: "new-view",
          view: 1,
          viewChanges: [viewChange(0, 1), viewChange(2, 1), viewChange(2, 1)],
        } as Message),
      ],
    ],
    [
      "bad_new_view",
      () => [
        env(1, {
          type: "new-view",
          view: 1,
          viewChanges: [viewChange(0, 1), viewChange(2, 1), viewChange(3, 2)],
        } as Message),
      ],
    ],
    // state transfer
    [
      "stale_state",
      () => [
        env(2, {
          type: "state",
          checkpoint: { seq: 0, digest: D, proof: [] },
          header: {},
        } as unknown as Message),
      ],
    ],
    ["fetch_not_stable", () => [env(2, { type: "state-fetch", seq: 2, paths: [] })]],
    [
      "chunk_unexpected",
      () => [env(2, { type: "state-chunk", seq: 2, path: "", chunk: {} } as unknown as Message)],
    ],
  ];

  // Named by reason and position only: the envelopes are built in the test, not while tests are
  // collected (test/support/lazy.ts says why).
  cases.forEach(([reason, envs, before], i) =>
    it(`${reason} (case ${i + 1})`, () => {
      expect(dropsOf(envs(), before?.())).toEqual({ [`drop.${reason}`]: envs().length });
    }),
  );

  it("a valid COMMITTED for a seq the node cannot execute yet is kept as that slot's commit proof", () => {
    const r = fresh();
    r.step({ kind: "message", envelope: committed(seq2Commits(), proposal(), 2) });
    expect(r.stats["batch.caught_up"]).toBe(1);
    const slot = r.state.slots.get(2)!;
    expect(slot.commitProof).toEqual(seq2Commits());
    expect(slot.committedProposal).toEqual(proposal());
    expect(r.state.lastExecuted).toBe(0);
  });

  it("a valid PRE-PREPARE, COMMITTED and share are dropped for no reason", () => {
    expect(dropsOf([prePrepare()])).toEqual({});
    const edge = proposal({ time: DEFAULT_PBFT_CONFIG.timeSkewMaxMs }); // the clock is at 0
    expect(dropsOf([prePrepare(edge)])).toEqual({});
    expect(dropsOf([committed([commit(0), commit(2), commit(3)])])).toEqual({});
    expect(dropsOf([env(2, { type: "checkpoint", seq: 2, digest: D })])).toEqual({});
    expect(dropsOf([viewChange(2, 1)])).toEqual({});
  });
});

describe("a backup's ops once a proposal holds them", () => {
  it("a pooled op the primary proposed is in flight, no longer waiting to be proposed", () => {
    const r = fresh();
    const id = opIdOf(makeOp(1));
    r.step({ kind: "submit", op: makeOp(1) });
    expect([r.state.unproposed.has(id), r.state.inFlight.has(id)]).toEqual([true, false]);
    r.step({ kind: "message", envelope: prePrepare() });
    expect([r.state.unproposed.has(id), r.state.inFlight.has(id)]).toEqual([false, true]);
  });

  it("an op that arrives after a proposal holding it is pooled, but not to be proposed again", () => {
    const r = fresh();
    const id = opIdOf(makeOp(1));
    r.step({ kind: "message", envelope: prePrepare() });
    r.step({ kind: "submit", op: makeOp(1) });
    expect(r.state.pool.has(id)).toBe(true);
    expect(r.state.unproposed.has(id)).toBe(false);
  });
});

describe("state transfer drops, against a real stable checkpoint", () => {
  /** A STATE offering node 0's stable checkpoint (at seq 4, after ordering 5 ops). */
  function offered(): Envelope {
    const h = new Harness();
    h.tickAll(1_000);
    h.order(1, 5);
    const s = h.nodes[0]!.state;
    expect(s.stable.seq).toBe(4);
    return env(0, { type: "state", checkpoint: s.stable, header: s.stableHeader } as Message);
  }
  // Per test, not while tests are collected (test/support/lazy.ts says why).
  let state: Envelope;
  let m: Extract<Message, { type: "state" }>;
  beforeEach(() => {
    state = offered();
    m = state.msg as typeof m;
  });
  const withMsg = (over: Partial<typeof m>) => ({ ...state, msg: { ...m, ...over } }) as Envelope;

  it("a valid STATE starts a transfer at a node behind it", () => {
    const r = fresh(2);
    r.step({ kind: "message", envelope: state });
    expect(r.state.transfer?.checkpoint.seq).toBe(4);
    expect(dropsOf([state], [], 2)).toEqual({});
  });

  it("bad_state: a header of another seq, a proof short of a quorum, a digest that is not the header's", () => {
    const bad = [
      withMsg({ header: { ...m.header, seq: 2 } }),
      withMsg({ checkpoint: { ...m.checkpoint, proof: m.checkpoint.proof.slice(0, 2) } }),
      withMsg({ header: { ...m.header, opCount: m.header.opCount + 1 } }),
    ];
    for (const e of bad) expect(dropsOf([e], [], 2)).toEqual({ "drop.bad_state": 1 });
  });

  it("state_in_progress: the same checkpoint offered again while fetching it", () => {
    expect(dropsOf([state], [state], 2)).toEqual({ "drop.state_in_progress": 1 });
  });

  it("chunks: of another seq, or for a path not asked for", () => {
    const chunk = (seq: number, path: string) =>
      env(0, { type: "state-chunk", seq, path, chunk: { records: [] } } as unknown as Message);
    expect(dropsOf([chunk(2, "")], [state], 2)).toEqual({ "drop.chunk_unexpected": 1 });
    expect(dropsOf([chunk(4, "no-such-path")], [state], 2)).toEqual({ "drop.chunk_not_pending": 1 });
  });
});
