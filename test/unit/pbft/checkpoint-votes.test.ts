/**
 * A node's table of CHECKPOINT votes (shared/pbft/checkpoint.ts) stays bounded against a key holder
 * that votes for ever more future checkpoints: each sender keeps only its newest
 * logWindowSeqs / checkpointIntervalSeqs + 2 votes, and an entry left with no vote and no own
 * checkpoint is gone. The votes of the other senders are untouched.
 */
import { describe, expect, it } from "vitest";
import { MerkleStateMachine } from "../../../shared/certified/state-machine.js";
import type { Envelope } from "../../../shared/pbft/messages.js";
import { PbftReplica } from "../../../shared/pbft/replica.js";
import { CLUSTER, UNIT_CONFIG } from "./harness.js";

const K = UNIT_CONFIG.checkpointIntervalSeqs!;
const PER_SENDER = UNIT_CONFIG.logWindowSeqs! / K + 2; // 4 with the unit configuration
const vote = (from: number, seq: number, digest = "d".repeat(64)): Envelope =>
  ({ from, msg: { type: "checkpoint", seq, digest }, sig: "" }) as Envelope;

const fresh = () =>
  new PbftReplica({ cluster: CLUSTER, me: 1, config: UNIT_CONFIG, sm: new MerkleStateMachine() });
const votersOf = (r: PbftReplica) =>
  [...r.state.checkpoints.entries()]
    .sort(([a], [b]) => a - b)
    .map(([seq, e]) => [seq, [...e.votes.keys()].sort()] as const);

describe("checkpoint votes per sender", () => {
  it("a flood of future votes from one sender keeps only its newest, and drops emptied entries", () => {
    const r = fresh();
    r.step({ kind: "message", envelope: vote(2, 4 * K) }); // an honest vote, kept throughout
    for (let i = 1; i <= 10; i++) r.step({ kind: "message", envelope: vote(3, i * K) });
    const newest = Array.from({ length: PER_SENDER }, (_, i) => (10 - PER_SENDER + 1 + i) * K);
    expect(votersOf(r)).toEqual([[4 * K, [2]], ...newest.map((seq) => [seq, [3]] as const)]);
    expect(r.state.checkpoints.size).toBe(PER_SENDER + 1);
  });

  it("a sender at its bound exactly keeps all its votes", () => {
    const r = fresh();
    for (let i = 1; i <= PER_SENDER; i++) r.step({ kind: "message", envelope: vote(3, i * K) });
    expect(votersOf(r).map(([seq]) => seq)).toEqual(
      Array.from({ length: PER_SENDER }, (_, i) => (i + 1) * K),
    );
  });
});
