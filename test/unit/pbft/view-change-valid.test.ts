/**
 * `validViewChange` (shared/pbft/view-change.ts): every claim a VIEW-CHANGE makes is checked, since
 * its sender may be Byzantine and its signatures prove only who sent it. A stable checkpoint needs
 * 2f+1 distinct votes for its seq and digest (genesis: none); a prepared certificate needs a seq in
 * the window above that checkpoint, an older view than the one changed to, 2f+1 distinct PREPAREs
 * for its view, seq and digest, and a proposal with that digest; one certificate per seq.
 */
import { describe, expect, it } from "vitest";
import { MerkleStateMachine } from "../../../shared/certified/state-machine.js";
import { proposalDigest } from "../../../shared/pbft/digest.js";
import type {
  CheckpointProof,
  Envelope,
  PreparedCert,
  Proposal,
  ViewChange,
} from "../../../shared/pbft/messages.js";
import { PbftReplica } from "../../../shared/pbft/replica.js";
import { validViewChange } from "../../../shared/pbft/view-change.js";
import { lazy } from "../../support/lazy.js";
import { CLUSTER, makeOp, UNIT_CONFIG } from "./harness.js";

// Built in the tests, not while they are collected (test/support/lazy.ts says why).
const state = lazy(
  () => new PbftReplica({ cluster: CLUSTER, me: 1, config: UNIT_CONFIG, sm: new MerkleStateMachine() }).state,
);
const W = UNIT_CONFIG.logWindowSeqs!;
const D = "c".repeat(64);

const checkpoint = (
  seq: number,
  from = [0, 1, 2],
  digest = D,
  voteOver: { seq?: number; digest?: string } = {},
): CheckpointProof => ({
  seq,
  digest,
  proof: from.map(
    (f) => ({ from: f, msg: { type: "checkpoint", seq, digest, ...voteOver }, sig: "" }) as Envelope<never>,
  ),
});
const genesis = (): CheckpointProof => ({ seq: 0, digest: state().genesisDigest, proof: [] });

function cert(
  over: Partial<{
    seq: number;
    view: number;
    proposalView: number;
    from: number[];
    prepare: object;
    digest: string;
  }> = {},
): PreparedCert {
  const seq = over.seq ?? 1;
  const view = over.view ?? 0;
  const proposal: Proposal = { ops: [makeOp(seq)], time: 0, view: over.proposalView ?? view };
  const digest = over.digest ?? proposalDigest(proposal);
  return {
    seq,
    view,
    digest,
    proposal,
    prepares: (over.from ?? [0, 2, 3]).map(
      (f) =>
        ({
          from: f,
          msg: { type: "prepare", view, seq, digest, ...over.prepare },
          sig: "",
        }) as Envelope<never>,
    ),
  };
}
const vc = (checkpointProof: CheckpointProof, prepared: PreparedCert[] = [], view = 1): ViewChange => ({
  type: "view-change",
  view,
  checkpoint: checkpointProof,
  prepared,
});

describe("validViewChange", () => {
  it("accepts honest claims: genesis or a quorum checkpoint, certificates across the window", () => {
    expect(validViewChange(state(), vc(genesis()))).toBe(true);
    expect(validViewChange(state(), vc(genesis(), [cert({ seq: 1 }), cert({ seq: W })]))).toBe(true);
    expect(validViewChange(state(), vc(checkpoint(2), [cert({ seq: 3 }), cert({ seq: 2 + W })]))).toBe(true);
    expect(validViewChange(state(), vc(checkpoint(2, [0, 1, 2, 3])))).toBe(true);
    expect(validViewChange(state(), vc(genesis(), [cert({ view: 2, proposalView: 1 })], 3))).toBe(true);
  });

  const refused: [string, () => ViewChange][] = [
    ["view 0", () => vc(genesis(), [], 0)],
    ["genesis with another digest", () => vc({ ...genesis(), digest: D })],
    ["genesis with votes", () => vc({ ...genesis(), proof: checkpoint(0).proof })],
    ["a checkpoint off the interval", () => vc(checkpoint(3))],
    ["a checkpoint of 2f votes", () => vc(checkpoint(2, [0, 1]))],
    ["a checkpoint voted twice by one node", () => vc(checkpoint(2, [0, 1, 1]))],
    ["a quorum checkpoint with a vote repeated", () => vc(checkpoint(2, [0, 1, 2, 2]))],
    ["a checkpoint vote for another seq", () => vc(checkpoint(2, [0, 1, 2], D, { seq: 4 }))],
    [
      "a checkpoint vote for another digest",
      () => vc(checkpoint(2, [0, 1, 2], D, { digest: "d".repeat(64) })),
    ],
    ["a certificate at the checkpoint", () => vc(checkpoint(2), [cert({ seq: 2 })])],
    ["a certificate past the window", () => vc(checkpoint(2), [cert({ seq: 3 + W })])],
    ["a certificate of the view changed to", () => vc(genesis(), [cert({ view: 1 })])],
    ["a certificate of a later view", () => vc(genesis(), [cert({ view: 2 })])],
    [
      "a proposal of a later view than its certificate",
      () => vc(genesis(), [cert({ view: 0, proposalView: 1 })], 2),
    ],
    ["2f PREPAREs", () => vc(genesis(), [cert({ from: [0, 2] })])],
    ["a PREPARE repeated", () => vc(genesis(), [cert({ from: [0, 2, 2] })])],
    ["a quorum of PREPAREs with one repeated", () => vc(genesis(), [cert({ from: [0, 2, 3, 3] })])],
    ["a PREPARE of another view", () => vc(genesis(), [cert({ view: 1, prepare: { view: 0 } })], 2)],
    ["a PREPARE of another seq", () => vc(genesis(), [cert({ prepare: { seq: 2 } })])],
    ["a PREPARE of another digest", () => vc(genesis(), [cert({ prepare: { digest: D } })])],
    ["a digest that is not the proposal's", () => vc(genesis(), [cert({ digest: D })])],
    ["two certificates for one seq", () => vc(genesis(), [cert({ seq: 1 }), cert({ seq: 1, view: 0 })])],
  ];
  for (const [what, m] of refused)
    it(`refuses ${what}`, () => expect(validViewChange(state(), m())).toBe(false));
});
