import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../shared/canonical.js";
import { executeOps } from "../../shared/certified/execute.js";
import { verifyResultProof, verifyStateProof } from "../../shared/certified/proofs.js";
import { proveResults, resultsRoot } from "../../shared/certified/results.js";
import {
  MerkleStateMachine,
  computeStateRoot,
  merkleStateMachines,
} from "../../shared/certified/state-machine.js";
import type { KeyRecord } from "../../shared/materialize.js";
import type { SignedOp } from "../../shared/ops.js";

const CLIENTS = ["A".repeat(43), "B".repeat(43)];
const SIG = "S".repeat(86); // execute trusts its input: signatures were checked before ordering

let seq = 0;
function op(key: string, type: SignedOp["type"], name: string, args: SignedOp["args"], client = 0): SignedOp {
  seq++;
  return { client: CLIENTS[client]!, seq, key, type, op: name, args, ts: 1000 + seq, sig: SIG };
}

/** Random ops over a few keys, so types collide, withdraws overdraw and sets churn. */
const opArb: fc.Arbitrary<SignedOp> = fc
  .tuple(
    fc.constantFrom("k1", "k2", "k3", "k4", "k5"),
    fc.oneof(
      fc.record({
        type: fc.constant("counter" as const),
        op: fc.constant("add"),
        args: fc.record({ n: fc.integer({ min: -9, max: 9 }) }),
      }),
      fc.record({
        type: fc.constant("account" as const),
        op: fc.constantFrom("deposit", "withdraw"),
        args: fc.record({ n: fc.integer({ min: 1, max: 9 }) }),
      }),
      fc.record({
        type: fc.constant("set" as const),
        op: fc.constantFrom("add", "remove"),
        args: fc.record({ x: fc.constantFrom("a", "b", "c") }),
      }),
      fc.record({
        type: fc.constant("register" as const),
        op: fc.constant("set"),
        args: fc.record({ v: fc.oneof(fc.integer(), fc.string({ maxLength: 4 })) }),
      }),
    ),
    fc.nat(1),
  )
  .map(([key, o, c]) => op(key, o.type, o.op, o.args, c));

const batchesArb = fc.array(fc.array(opArb, { maxLength: 8 }), { maxLength: 8 });

describe("MerkleStateMachine", () => {
  it("replaying the same batches gives identical roots and results", () => {
    fc.assert(
      fc.property(batchesArb, (batches) => {
        const a = merkleStateMachines.create();
        const b = merkleStateMachines.create();
        for (const batch of batches) expect(a.execute(batch)).toEqual(b.execute(batch));
        expect(a.stateRoot()).toBe(b.stateRoot());
      }),
    );
  });

  it("the incremental state root equals the from-scratch root over the same records", () => {
    fc.assert(
      fc.property(batchesArb, (batches) => {
        const sm = new MerkleStateMachine();
        const records = new Map<string, KeyRecord>();
        for (const batch of batches) {
          const ex = sm.execute(batch);
          executeOps({ get: (k) => records.get(k), set: (k, r) => void records.set(k, r) }, batch);
          expect(ex.stateRoot).toBe(computeStateRoot(records));
        }
      }),
    );
  });

  it("snapshot → create round-trips exactly, and execution continues identically", () => {
    fc.assert(
      fc.property(batchesArb, batchesArb, (before, after) => {
        const a = new MerkleStateMachine();
        for (const batch of before) a.execute(batch);
        const snap = a.snapshot();
        const frozen = canonicalJson(snap);
        const b = merkleStateMachines.create(JSON.parse(JSON.stringify(snap)));
        expect(b.stateRoot()).toBe(a.stateRoot());
        expect(canonicalJson(b.snapshot())).toBe(canonicalJson(snap));
        for (const batch of after) expect(b.execute(batch)).toEqual(a.execute(batch));
        expect(b.stateRoot()).toBe(a.stateRoot());
        // The snapshot taken earlier is a copy: later execution did not change it.
        expect(canonicalJson(snap)).toBe(frozen);
      }),
    );
  });

  it("a snapshot is a copy: mutating it does not touch the machine", () => {
    const sm = new MerkleStateMachine();
    sm.execute([op("s", "set", "add", { x: "a" })]);
    const root = sm.stateRoot();
    const snap = sm.snapshot() as { records: [string, string, { adds: Record<string, string[]> }][] };
    snap.records[0]![2].adds["zzz"] = ["t"];
    expect(sm.stateRoot()).toBe(root);
    expect(sm.proveKey("s").value).toMatchObject({ type: "set", value: ["a"] });
  });

  it("decides account.withdraw against the certified order", () => {
    const sm = new MerkleStateMachine();
    const ex1 = sm.execute([
      op("acct", "account", "deposit", { n: 10 }),
      op("acct", "account", "withdraw", { n: 7 }, 1),
    ]);
    expect(ex1.results.map((r) => [r.status, r.value])).toEqual([
      ["ok", 10],
      ["ok", 3],
    ]);
    // Tentatively accepted at another replica (which saw balance 10), but certified after the first: rejected.
    const ex2 = sm.execute([op("acct", "account", "withdraw", { n: 7 })]);
    expect(ex2.results[0]).toMatchObject({ status: "rejected", reason: "insufficient_funds", value: 3 });
    expect(ex2.stateRoot).toBe(ex1.stateRoot); // nothing changed
    // A withdraw on a fresh account is rejected and creates no key.
    const ex3 = sm.execute([op("fresh", "account", "withdraw", { n: 1 })]);
    expect(ex3.results[0]!.status).toBe("rejected");
    expect(sm.get("fresh")).toBeUndefined();
    expect(verifyStateProof(sm.stateRoot(), "fresh", null, sm.proveKey("fresh").proof)).toBe(true);
  });

  it("rejects an op on a key of another type with type_mismatch", () => {
    const sm = new MerkleStateMachine();
    const ex = sm.execute([op("c", "counter", "add", { n: 5 }), op("c", "account", "deposit", { n: 1 })]);
    expect(ex.results[1]).toMatchObject({ status: "rejected", reason: "type_mismatch", value: 5 });
    expect(sm.proveKey("c").value).toMatchObject({ type: "counter", value: 5 });
  });

  it("the state root commits to each record's whole state, not only its value", () => {
    const sm = new MerkleStateMachine();
    sm.execute([op("r", "register", "set", { v: "a" }), op("s", "set", "add", { x: "a" })]);
    const snap = sm.snapshot() as { records: [string, string, Record<string, unknown>][] };
    const root = sm.stateRoot();
    // Same visible values, other hidden state: a register clock pinned far ahead, an extra removed tag.
    const tampered = structuredClone(snap);
    tampered.records[0]![2].ts = Number.MAX_SAFE_INTEGER;
    expect(new MerkleStateMachine(tampered as never).stateRoot()).not.toBe(root);
    const tagged = structuredClone(snap);
    (tagged.records[1]![2].removed as string[]).push("ghost");
    expect(new MerkleStateMachine(tagged as never).stateRoot()).not.toBe(root);
    expect(new MerkleStateMachine(snap as never).stateRoot()).toBe(root);
    const kp = sm.proveKey("r");
    expect(verifyStateProof(root, "r", kp.value, kp.proof)).toBe(true);
    expect(verifyStateProof(root, "r", { ...kp.value!, stateHash: "0".repeat(64) }, kp.proof)).toBe(false);
  });

  it("proves every key's certified value and every result against the batch's roots", () => {
    fc.assert(
      fc.property(batchesArb, (batches) => {
        const sm = new MerkleStateMachine();
        for (const batch of batches) {
          const ex = sm.execute(batch);
          expect(ex.resultsRoot).toBe(resultsRoot(ex.results));
          const proofs = proveResults(ex.results);
          ex.results.forEach((r, i) => expect(verifyResultProof(ex.resultsRoot, r, proofs[i]!)).toBe(true));
          for (const key of ["k1", "k2", "k3", "k4", "k5"]) {
            const kp = sm.proveKey(key);
            expect(verifyStateProof(ex.stateRoot, key, kp.value, kp.proof)).toBe(true);
            if (kp.value) expect(verifyStateProof(ex.stateRoot, key, null, kp.proof)).toBe(false);
          }
        }
      }),
    );
  });

  it("rejects a malformed op deterministically instead of crashing or corrupting state", () => {
    const sm = new MerkleStateMachine();
    sm.execute([op("c", "counter", "add", { n: 2 })]);
    const root = sm.stateRoot();
    const bad = [
      op("c", "counter", "add", { n: 1e300 }),
      op("c", "counter", "add", { n: "x" }),
      op("c", "counter", "explode", {}),
      { ...op("c", "counter", "add", { n: 1 }), type: "nosuchtype" } as unknown as SignedOp,
      { ...op("c", "counter", "add", { n: 1 }), key: "" },
    ];
    const ex = sm.execute(bad);
    expect(ex.results.map((r) => [r.status, r.reason])).toEqual(bad.map(() => ["rejected", "invalid_op"]));
    expect(ex.results[0]!.value).toBe(2);
    expect(ex.stateRoot).toBe(root);
  });

  it("an empty batch changes nothing and has the empty results root", () => {
    const sm = new MerkleStateMachine();
    sm.execute([op("c", "counter", "add", { n: 1 })]);
    const root = sm.stateRoot();
    const ex = sm.execute([]);
    expect(ex).toEqual({ results: [], stateRoot: root, resultsRoot: resultsRoot([]) });
  });

  it("refuses malformed snapshots", () => {
    const bad: unknown[] = [
      null,
      {},
      { format: "other", records: [] },
      { format: "aspec/certified-state/v1", records: [["k", "nosuchtype", 1]] },
      {
        format: "aspec/certified-state/v1",
        records: [
          ["b", "counter", 1],
          ["a", "counter", 1],
        ],
      },
      {
        format: "aspec/certified-state/v1",
        records: [
          ["a", "counter", 1],
          ["a", "counter", 2],
        ],
      },
    ];
    for (const s of bad) expect(() => merkleStateMachines.create(s as never)).toThrow(/snapshot/);
  });
});
