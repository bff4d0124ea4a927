/**
 * A node that skipped seqs by state transfer never executed them, so it cannot sign their results;
 * it endorses (signs) the body f+1 peers' shares agree on — f+1 include a correct node — once per seq
 * and never a second body (shared/pbft/endorse.ts). `advanceUncertifiedFrom` then points at the
 * lowest seq still waiting, executed or skipped (shared/pbft/execute.ts).
 */
import { describe, expect, it } from "vitest";
import { MerkleStateMachine } from "../../../shared/certified/state-machine.js";
import type { CertificateBody } from "../../../shared/certified/types.js";
import { advanceUncertifiedFrom } from "../../../shared/pbft/execute.js";
import type { Envelope } from "../../../shared/pbft/messages.js";
import { PbftReplica } from "../../../shared/pbft/replica.js";
import { certificateBody, CLUSTER, UNIT_CONFIG } from "./harness.js";

/** Node 1, as if it had skipped seq 3 (nothing endorsed yet). */
function skipper(): PbftReplica {
  const r = new PbftReplica({ cluster: CLUSTER, me: 1, config: UNIT_CONFIG, sm: new MerkleStateMachine() });
  r.state.skipped.set(3, { body: null, share: null, sinceTick: 0 });
  return r;
}
const share = (from: number, body: CertificateBody): Envelope =>
  ({ from, msg: { type: "share", body }, sig: `sig${from}` }) as Envelope;
const endorsed = (r: PbftReplica, ...shares: Envelope[]) =>
  shares.flatMap((e) => r.step({ kind: "message", envelope: e }).send.filter((o) => o.msg?.type === "share"));

const A = certificateBody({ seq: 3, stateRoot: "a".repeat(64) });
const B = certificateBody({ seq: 3, stateRoot: "b".repeat(64) });

describe("endorsing a skipped seq", () => {
  it("f peers' shares are not enough; f+1 matching ones are, and the body they agree on is signed", () => {
    const r = skipper();
    expect(endorsed(r, share(0, A))).toEqual([]);
    expect(r.state.skipped.get(3)!.body).toBeNull();
    const sent = endorsed(r, share(2, A));
    expect(sent.map((o) => o.msg)).toEqual([{ type: "share", body: A }]);
    expect(r.state.skipped.get(3)!.body).toEqual(A);
    expect(r.stats["share.endorsed"]).toBe(1);
  });

  it("f+1 shares that disagree endorse nothing; once endorsed, a later majority for another body changes nothing", () => {
    const r = skipper();
    expect(endorsed(r, share(0, A), share(2, B))).toEqual([]);
    expect(endorsed(r, share(3, A))).toHaveLength(1); // 0 and 3 agree on A
    expect(endorsed(r, share(3, B))).toEqual([]); // duplicate sender
    expect(r.state.skipped.get(3)!.body).toEqual(A);
  });

  it("the node's own share does not count towards the f+1, nor is it kept as the endorsement when it came first", () => {
    const r = skipper();
    expect(endorsed(r, share(1, A), share(0, A))).toEqual([]);
    expect(endorsed(r, share(2, A))).toHaveLength(1);
    expect(r.state.skipped.get(3)!.share).toBeNull(); // ours arrived before the body was endorsed
  });
});

describe("advanceUncertifiedFrom", () => {
  it("points at the lowest seq still waiting, executed or skipped, past a gap", () => {
    const s = skipper().state;
    s.lastExecuted = 8;
    s.uncertifiedFrom = 1;
    s.skipped.clear();
    for (const q of [3, 7]) s.skipped.set(q, { body: null, share: null, sinceTick: 0 });
    advanceUncertifiedFrom(s);
    expect(s.uncertifiedFrom).toBe(3);
    s.skipped.delete(3);
    advanceUncertifiedFrom(s);
    expect(s.uncertifiedFrom).toBe(7);
    s.skipped.delete(7);
    advanceUncertifiedFrom(s);
    expect(s.uncertifiedFrom).toBe(9); // nothing waits: one past execution
  });
});
