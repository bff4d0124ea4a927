/**
 * `isRedundantVote` (shared/pbft/normal-case.ts) lets a shell skip verifying a vote the core would
 * only store beside a complete quorum. It must say so only then: a vote that could still matter
 * (another view, another slot, outside the window, the node's own, a slot not yet prepared or
 * committed) is never called redundant, or the shell would throw away a vote the quorum needs.
 */
import { describe, expect, it } from "vitest";
import type { Commit, Envelope, Prepare } from "../../../shared/pbft/messages.js";
import { isRedundantVote } from "../../../shared/pbft/normal-case.js";
import type { ReplicaState } from "../../../shared/pbft/state.js";
import { Harness } from "./harness.js";

/** Node 1 after ordering seq 1: `commits` false leaves the slot prepared (COMMIT sent), not committed. */
function node1(commits = true): ReplicaState {
  const h = new Harness();
  if (!commits) h.drop = (_to, e) => e.msg.type === "commit";
  h.tickAll(1_000);
  h.order(1, 1);
  return h.nodes[1]!.state;
}
const vote = (
  s: ReplicaState,
  type: "prepare" | "commit",
  from: number,
  over: Partial<{ view: number; seq: number }> = {},
): Envelope<Prepare | Commit> =>
  ({ from, msg: { type, view: 0, seq: 1, digest: s.slots.get(1)!.digest!, ...over }, sig: "" }) as Envelope<
    Prepare | Commit
  >;

describe("isRedundantVote", () => {
  it("a peer's PREPARE or COMMIT for a slot committed in this view is redundant", () => {
    const s = node1();
    expect(s.slots.get(1)!.commitProof).not.toBeNull();
    expect(isRedundantVote(s, vote(s, "prepare", 2))).toBe(true);
    expect(isRedundantVote(s, vote(s, "commit", 3))).toBe(true);
  });

  it("a slot prepared but not committed: a PREPARE is redundant, a COMMIT is not", () => {
    const s = node1(false);
    const slot = s.slots.get(1)!;
    expect([slot.sentCommit, slot.commitProof]).toEqual([true, null]);
    expect(isRedundantVote(s, vote(s, "prepare", 2))).toBe(true);
    expect(isRedundantVote(s, vote(s, "commit", 2))).toBe(false);
  });

  it("never the node's own vote, another view's, another slot's, or one outside the window", () => {
    const s = node1();
    expect(isRedundantVote(s, vote(s, "commit", 1))).toBe(false); // node 1's own
    expect(isRedundantVote(s, vote(s, "commit", 2, { view: 1 }))).toBe(false);
    expect(isRedundantVote(s, vote(s, "commit", 2, { seq: 2 }))).toBe(false); // no slot yet
    expect(isRedundantVote(s, vote(s, "commit", 2, { seq: 99 }))).toBe(false);
  });

  it("never for a slot of an older view, once the node moved on", () => {
    const s = node1();
    s.view = 1; // as after a view change, the slot still of view 0
    expect(isRedundantVote(s, vote(s, "commit", 2, { view: 1 }))).toBe(false);
  });
});
