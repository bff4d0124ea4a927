/**
 * Hostile or late input that a review found could crash or mislead a node: each case is handed to
 * one node directly (the core trusts its boundary for signatures, so unsigned envelopes do here).
 */
import { describe, expect, it } from "vitest";
import { merkleStateMachines } from "../../../shared/certified/state-machine.js";
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
import type { StateMsg } from "../../../shared/pbft/messages.js";
import { standInSignOp } from "../../../shared/pbft/signature-scheme.js";
import { CLUSTER, Harness, makeOp, UNIT_CONFIG } from "./harness.js";

const node = (me: number) =>
  new PbftReplica({ cluster: CLUSTER, me, config: UNIT_CONFIG, machines: merkleStateMachines });
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

describe("STATE with a valid checkpoint proof and tampered contents (bug 1)", () => {
  it("is refused when hidden record state differs from what the checkpoint covers", () => {
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
    const state = (tamper: (s: StateMsg["state"]) => void): Envelope<StateMsg> => {
      const copy = structuredClone(ahead.stableState);
      tamper(copy);
      return { from: 0, msg: { type: "state", checkpoint: ahead.stable, state: copy }, sig: "" };
    };
    // The same visible value, a register clock pinned at the maximum: every later write would lose.
    const poisoned = state((st) => {
      const rec = (st.sm as { records: [string, string, { ts: number }][] }).records[0]!;
      rec[2].ts = Number.MAX_SAFE_INTEGER;
    });
    h.step(3, { kind: "message", envelope: poisoned });
    expect(lagging.state.lastExecuted).toBe(0);
    expect(lagging.stats["drop.state_digest_mismatch"]).toBe(1);
    // An executed-op-id set that would drop a future op as a duplicate is refused too.
    const forgetful = state((st) => st.executed.push(["D".repeat(43), 1_000_000, []]));
    h.step(3, { kind: "message", envelope: forgetful });
    expect(lagging.stats["drop.state_digest_mismatch"]).toBe(2);
    // The true state is adopted.
    h.step(3, { kind: "message", envelope: state(() => {}) });
    expect(lagging.state.lastExecuted).toBe(4);
    expect(lagging.state.sm.stateRoot()).toBe(ahead.sm.stateRoot());
  });
});
