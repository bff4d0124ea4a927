import { describe, expect, it } from "vitest";
import { nullProposal, proposalDigest } from "../../../shared/pbft/digest.js";
import type { Envelope, Prepare, PreparedCert, ViewChange } from "../../../shared/pbft/messages.js";
import { computeReproposals } from "../../../shared/pbft/view-change.js";
import { Harness, makeOp, UNIT_CONFIG } from "./harness.js";

function cert(seq: number, view: number, opSeq: number): PreparedCert {
  const proposal = { ops: [makeOp(opSeq)], time: 5, view };
  const digest = proposalDigest(proposal);
  const prepares: Envelope<Prepare>[] = [0, 1, 2].map((from) => ({
    from,
    msg: { type: "prepare", view, seq, digest },
    sig: "",
  }));
  return { seq, view, digest, proposal, prepares };
}
const genesis = { seq: 0, digest: "0".repeat(64), proof: [] };
const vc = (prepared: PreparedCert[]): ViewChange => ({
  type: "view-change",
  view: 3,
  checkpoint: genesis,
  prepared,
});

describe("NEW-VIEW re-proposals", () => {
  it("take the highest-view prepared certificate per seq and fill gaps with null proposals", () => {
    const r = computeReproposals(3, [vc([cert(1, 0, 1), cert(3, 1, 3)]), vc([cert(1, 2, 7)]), vc([])]);
    expect(r.entries.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(r.entries[0]!.proposal.ops[0]!.seq).toBe(7);
    expect(r.entries[1]!.proposal).toEqual(nullProposal(3));
    expect(r.entries[2]!.digest).toBe(cert(3, 1, 3).digest);
  });
});

describe("NEW-VIEW re-proposals: deterministic whatever the order of the VIEW-CHANGEs", () => {
  it("two certificates of one seq and view (only an equivocating primary and > f faults make them): the lower digest", () => {
    const [a, b] = [cert(1, 1, 1), cert(1, 1, 2)].sort((x, y) => (x.digest < y.digest ? -1 : 1));
    for (const vcs of [
      [vc([a!]), vc([b!])],
      [vc([b!]), vc([a!])],
    ])
      expect(computeReproposals(3, vcs).entries[0]!.digest).toBe(a!.digest);
  });

  it("the newest checkpoint any VIEW-CHANGE proves is the base; certificates at or below it are ignored", () => {
    const at4 = { seq: 4, digest: "4".repeat(64), proof: [] };
    const r = computeReproposals(3, [
      vc([cert(2, 1, 2), cert(5, 0, 5)]),
      { ...vc([cert(3, 2, 3)]), checkpoint: at4 },
    ]);
    expect(r.checkpoint).toEqual(at4);
    expect(r.entries.map((e) => [e.seq, e.digest])).toEqual([[5, cert(5, 0, 5).digest]]);
  });

  it("no certificate above the checkpoint: nothing to re-propose", () => {
    expect(computeReproposals(3, [vc([]), vc([])]).entries).toEqual([]);
  });
});

describe("view change", () => {
  it("a silent primary is replaced and pending ops are ordered in the new view", () => {
    const h = new Harness({
      batchSizeMax: 1,
      checkpointIntervalSeqs: 2,
      logWindowSeqs: 4,
      tickMs: 10,
      requestTimeoutTicks: 5,
      viewChangeTimeoutTicks: 5,
    });
    h.drop = (to, env) => env.from === 0 || to === 0;
    h.tickAll(1_000);
    for (let i = 1; i < 4; i++) h.step(i, { kind: "submit", op: makeOp(1) });
    for (let t = 1; t <= 20; t++) {
      h.tickAll(1_000 + t * 10);
      h.run();
    }
    for (let i = 1; i < 4; i++) {
      expect(h.nodes[i]!.state.view).toBe(1);
      expect(h.nodes[i]!.state.normal).toBe(true);
      expect(h.nodes[i]!.state.lastExecuted).toBe(1);
    }
  });

  it("a view change that timed out doubles the wait; the first batch executed in the new view resets it", () => {
    const config = { ...UNIT_CONFIG, requestTimeoutTicks: 5, viewChangeTimeoutTicks: 5 };
    const h = new Harness(config);
    // node 0 is silent, and view 1's NEW-VIEW never reaches anyone: view 1 times out, view 2 installs;
    // view 2's ordering is held back until the doubled wait is seen
    let hold = true;
    const ordering = ["pre-prepare", "prepare", "commit"];
    h.drop = (to, env) =>
      env.from === 0 ||
      to === 0 ||
      (env.msg.type === "new-view" && env.msg.view === 1) ||
      (hold && ordering.includes(env.msg.type) && (env.msg as { view: number }).view === 2);
    h.tickAll(1_000);
    for (let i = 1; i < 4; i++) h.step(i, { kind: "submit", op: makeOp(1) });
    const s = h.nodes[2]!.state;
    let t = 1;
    const until = (done: () => boolean) => {
      for (; t <= 400 && !done(); t++) {
        h.tickAll(1_000 + t * 10);
        h.run();
      }
    };
    until(() => s.view === 2 && s.normal);
    expect([s.view, s.normal, s.lastExecuted]).toEqual([2, true, 0]);
    expect(h.nodes[2]!.stats["view_change.timeout"]).toBeGreaterThanOrEqual(1);
    expect(s.viewChangeTimeoutTicks, "the wait doubled").toBe(10);
    hold = false;
    until(() => s.lastExecuted === 1);
    expect(s.lastExecuted).toBe(1); // (in view 2, or a later one if view 2 timed out while held)
    expect(s.viewChangeTimeoutTicks, "reset by progress").toBe(5);
  });
});
