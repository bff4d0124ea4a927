/**
 * The replica's invariant checks (shared/pbft/invariants.ts) — what the simulator's checker runs
 * after every step — catch each violation they name: a state reached by really ordering ops, then
 * broken in one place, throws that invariant's message; unbroken, it passes. A check that could not
 * fail would let the simulator pass a broken core.
 */
import { describe, expect, it } from "vitest";
import type { PbftConfig } from "../../../shared/pbft/config.js";
import { invariants, stepInvariants } from "../../../shared/pbft/invariants.js";
import type { ReplicaState, Slot } from "../../../shared/pbft/state.js";
import { Harness, makeOp, UNIT_CONFIG } from "./harness.js";

/** Node 0 after ordering 5 ops (batches of 1; checkpoints every 2 seqs: stable at 4), one op pooled. */
function ordered(): ReplicaState {
  const h = new Harness({ ...UNIT_CONFIG, uncertifiedMax: 8 });
  h.tickAll(1_000);
  h.order(1, 5);
  const s = h.nodes[0]!.state;
  s.pool.set(`${makeOp(9).client}:9`, { op: makeOp(9), sinceTick: 0, relayedView: -1 });
  s.unproposed.add(`${makeOp(9).client}:9`);
  return s;
}
/** Lower a limit of the node's configuration (its state is otherwise left as it is). */
const setCfg = (s: ReplicaState, over: Partial<PbftConfig>) =>
  void Object.assign(s, { cfg: { ...s.cfg, ...over } });
const aSlot = (s: ReplicaState): Slot => [...s.slots.values()].find((x) => x.commitProof)!;

describe("the replica's invariants", () => {
  it("hold in a state reached by ordering ops", () => {
    const s = ordered();
    expect(s.lastExecuted).toBe(5);
    expect(s.stable.seq).toBe(4);
    expect(() => invariants(s)).not.toThrow();
    expect(() => stepInvariants(s)).not.toThrow();
  });

  const broken: [message: RegExp, breakIt: (s: ReplicaState) => void][] = [
    [
      /stable checkpoint without a quorum/,
      (s) => void (s.stable = { ...s.stable, proof: s.stable.proof.slice(0, 2) }),
    ],
    [/executed below the stable checkpoint/, (s) => void (s.lastExecuted = 3)],
    [/uncertifiedFrom beyond execution/, (s) => void (s.uncertifiedFrom = s.lastExecuted + 2)],
    [/pool over its limit/, (s) => setCfg(s, { poolSizeMax: 0 })],
    [/uncertified over its limit/, (s) => setCfg(s, { uncertifiedMax: s.uncertified.size - 1 })],
    [/outside the window/, (s) => void s.slots.set(99, { ...aSlot(s), seq: 99 })],
    [/outside the window/, (s) => void s.slots.set(s.stable.seq, { ...aSlot(s), seq: s.stable.seq })],
    [/keyed wrongly/, (s) => void s.slots.set(5, { ...s.slots.get(5)!, seq: 6 })],
    [/digest\/proposal mismatch/, (s) => void s.slots.set(5, { ...s.slots.get(5)!, digest: null })],
    [
      /executed without a commit proof/,
      (s) => void s.slots.set(5, { ...s.slots.get(5)!, commitProof: null }),
    ],
    [
      /commit proof invalid/,
      (s) => {
        const slot = s.slots.get(5)!;
        s.slots.set(5, { ...slot, commitProof: slot.commitProof!.slice(0, 2) });
      },
    ],
    [
      /commit proof invalid/,
      (s) => {
        const slot = s.slots.get(5)!;
        const [a, ...rest] = slot.commitProof!;
        s.slots.set(5, { ...slot, commitProof: [{ ...a!, msg: { ...a!.msg, seq: 4 } }, ...rest] });
      },
    ],
    [
      /commit proof invalid/,
      (s) => {
        const slot = s.slots.get(5)!;
        const [a, ...rest] = slot.commitProof!;
        s.slots.set(5, {
          ...slot,
          commitProof: [{ ...a!, msg: { ...a!.msg, digest: "b".repeat(64) } }, ...rest],
        });
      },
    ],
    [/certificates over their limit/, (s) => setCfg(s, { certificatesKeptMax: s.certificates.size - 1 })],
    [
      /slot 5 prepared without a quorum/,
      (s) => {
        const slot = s.slots.get(5)!;
        const cert = slot.preparedCert!;
        s.slots.set(5, { ...slot, preparedCert: { ...cert, prepares: cert.prepares.slice(0, 1) } });
      },
    ],
    [/checkpoint 4 not collected/, (s) => void s.checkpoints.set(4, { mine: null, votes: new Map() })],
    [
      /uncertified 6 not executed/,
      (s) => void s.uncertified.set(6, { ...[...s.uncertified.values()][0]!, seq: 6 } as never),
    ],
    [/keyed wrongly/, (s) => void s.pool.set("someone:1", s.pool.values().next().value!)],
    [/unproposed .* not pooled/, (s) => void s.unproposed.add("someone:2")],
  ];
  for (const [message, breakIt] of broken)
    it(`catch: ${message.source}`, () => {
      const s = ordered();
      breakIt(s);
      expect(() => invariants(s)).toThrow(message);
    });

  it("hold with every bound met exactly: pool, uncertified and certificates at their limits", () => {
    const s = ordered();
    expect(s.certificates.size).toBeGreaterThan(0);
    setCfg(s, {
      poolSizeMax: s.pool.size,
      uncertifiedMax: s.uncertified.size,
      certificatesKeptMax: s.certificates.size,
    });
    expect(() => invariants(s)).not.toThrow();
  });

  it("the step check (O(1)) names the broken invariant, at each bound's edge", () => {
    const atEdge = ordered();
    setCfg(atEdge, { uncertifiedMax: atEdge.uncertified.size, poolSizeMax: atEdge.pool.size });
    expect(() => stepInvariants(atEdge)).not.toThrow();
    const over = ordered();
    setCfg(over, { uncertifiedMax: over.uncertified.size - 1 });
    expect(() => stepInvariants(over)).toThrow(/uncertified over its limit/);
    const behind = ordered();
    behind.nextSeq = behind.stable.seq; // a normal node about to propose at its stable seq again
    expect(() => stepInvariants(behind)).toThrow(/step invariants/);
    behind.normal = false;
    expect(() => stepInvariants(behind)).not.toThrow();
  });
});
