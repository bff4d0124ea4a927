/**
 * A CAS race over the pure parts that decide it: two replica cores (memory stores) each accept a
 * `register.cas` from the same expected value (each is right by what it holds), and the certified
 * order (`executeOps`, what nodes and replicas run) certifies exactly one of them ok and the other
 * `rejected` `cas_failed`, whichever comes first. Signatures are the host's business, so the ops
 * carry well-formed but unchecked ones.
 */
import { recordStoreOver } from "../../../shared/certified/record-store.js";
import { describe, expect, it } from "vitest";
import { executeOps, type RecordStore } from "../../../shared/certified/execute.js";
import { valueOf, type KeyRecord } from "../../../shared/materialize.js";
import { opIdOf, type SignedOp } from "../../../shared/ops.js";
import type { SubmitOutcome } from "../../../shared/replica/submit.js";
import { CORE_NOW, CoreReplica } from "../../support/core-replica.js";

const NOW = CORE_NOW;
const [A, B, C] = ["A", "B", "C"].map((c) => c.repeat(43)) as [string, string, string];
const SIG = "s".repeat(86);
const KEY = "doc/title";

const op = (client: string, seq: number, name: string, args: Record<string, unknown>): SignedOp =>
  ({ client, seq, key: KEY, type: "register", op: name, args, ts: NOW, sig: SIG }) as SignedOp;

/** A replica core that throws on a refusal and reads the one key. */
class Replica extends CoreReplica {
  submitOk(o: SignedOp): SubmitOutcome {
    const r = this.submit(o);
    if (r.kind !== "accepted") throw r.error;
    return r.outcome;
  }

  value(): unknown {
    return valueOf(this.store.getRecord(KEY));
  }
}

const memoryRecords = (): RecordStore & { map: Map<string, KeyRecord> } => {
  const map = new Map<string, KeyRecord>();
  return { map, ...recordStoreOver(map) };
};

describe("a CAS race: two replicas, one certified order", () => {
  const setUp = () => {
    const weur = new Replica("weur");
    const enam = new Replica("enam");
    const base = op(A, 1, "set", { v: "v0" });
    weur.submitOk(base);
    enam.receive(weur);
    const casB = op(B, 1, "cas", { expected: "v0", v: "from B" });
    const casC = op(C, 1, "cas", { expected: "v0", v: "from C" });
    return { weur, enam, base, casB, casC };
  };

  it("both CASes are accepted ok tentatively, each at a replica that held the expected value", () => {
    const { weur, enam, casB, casC } = setUp();
    expect(weur.submitOk(casB)).toMatchObject({ status: "ok", value: "from B" });
    expect(enam.submitOk(casC)).toMatchObject({ status: "ok", value: "from C" });
    // they still converge tentatively (a CAS that held is a register write, LWW)
    weur.receive(enam);
    enam.receive(weur);
    expect(weur.value()).toEqual(enam.value());
  });

  for (const first of ["B", "C"] as const) {
    it(`the certified order certifies exactly one ok, the other rejected cas_failed (${first} first)`, () => {
      const { base, casB, casC } = setUp();
      const [win, lose] = first === "B" ? [casB, casC] : [casC, casB];
      const records = memoryRecords();
      const { results } = executeOps(records, [base, win, lose]);
      expect(results.map((r) => [r.opId, r.status, r.reason])).toEqual([
        [opIdOf(base), "ok", undefined],
        [opIdOf(win), "ok", undefined],
        [opIdOf(lose), "rejected", "cas_failed"],
      ]);
      expect(results.filter((r) => r.status === "ok" && r.opId !== opIdOf(base))).toHaveLength(1);
      expect(valueOf(records.map.get(KEY))).toBe((win.args as { v: string }).v);
      expect(results[2]!.value).toBe((win.args as { v: string }).v);
    });
  }

  it("a CAS the origin finds failed is accepted as rejected (recorded, nothing written), like an overdraft", () => {
    const { weur, casB } = setUp();
    const stale = op(C, 1, "cas", { expected: "not v0", v: "x" });
    expect(weur.submitOk(stale)).toMatchObject({ status: "rejected", reason: "cas_failed", value: "v0" });
    expect(weur.value()).toBe("v0");
    expect(weur.store.getOp(opIdOf(stale))).toBeDefined();
    expect(weur.submitOk(casB)).toMatchObject({ status: "ok", value: "from B" });
  });
});
