import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  EXECUTED_TYPE,
  entryAdd,
  executedKey,
  EMPTY_ENTRY,
  isExecutedEntry,
} from "../../../shared/certified/executed.js";
import type { ExecutedEntry } from "../../../shared/certified/executed.js";
import { executeOps } from "../../../shared/certified/execute.js";
import { MemoryNodeStore } from "../../../shared/certified/node-store.js";
import { verifyResultProof, verifyStateProof } from "../../../shared/certified/proofs.js";
import { MemoryRecordStore, recordStoreOver } from "../../../shared/certified/record-store.js";
import { proveResults, resultsRoot } from "../../../shared/certified/results.js";
import { MerkleStateMachine, buildStateMap } from "../../../shared/certified/state-machine.js";
import type { ChunkRecord } from "../../../shared/certified/types.js";
import type { TypeName } from "../../../shared/datatypes/index.js";
import type { KeyRecord } from "../../../shared/materialize.js";
import type { SignedOp } from "../../../shared/ops.js";
import { CLIENTS, op } from "../../support/trusted-ops.js";

/** Big enough that serveChunk returns the whole state as one chunk of records. */
const WHOLE = { records: 1e9, bytes: 1e12 };

/** Random ops over a few keys, so types collide, withdraws overdraw, sets churn and keys are deleted. */
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
      // a delete removes its key: the tree must equal one built from what is left
      fc.record({
        type: fc.constantFrom("counter" as const, "account" as const, "set" as const, "register" as const),
        op: fc.constant("delete"),
        args: fc.constant({}),
      }),
    ),
    fc.nat(1),
  )
  .map(([key, o, c]) => op(key, o.type, o.op, o.args, c));

const batchesArb = fc.array(fc.array(opArb, { maxLength: 8 }), { maxLength: 8 });

/** Run batches at versions 1, 2, …; the executions. */
function run(sm: MerkleStateMachine, batches: readonly SignedOp[][], from = 1) {
  return batches.map((b, i) => sm.execute(b, from + i));
}

/** Every record of the machine's current state, executed-ids records included. */
function allRecords(sm: MerkleStateMachine, version: number): ChunkRecord[] {
  const chunk = sm.serveChunk(sm.handle(), version, "", WHOLE);
  if (!("records" in chunk)) throw new Error("expected one chunk of records");
  return chunk.records;
}

describe("MerkleStateMachine", () => {
  it("replaying the same batches gives identical executions and roots", () => {
    fc.assert(
      fc.property(batchesArb, (batches) => {
        const a = new MerkleStateMachine();
        const b = new MerkleStateMachine();
        batches.forEach((batch, i) => expect(a.execute(batch, i + 1)).toEqual(b.execute(batch, i + 1)));
        expect(a.stateRoot()).toBe(b.stateRoot());
        expect(a.handle().root).toBe(a.stateRoot());
      }),
    );
  });

  it("the incremental state root equals a from-scratch build over the same records", () => {
    fc.assert(
      fc.property(batchesArb, (batches) => {
        const sm = new MerkleStateMachine();
        // An independent model: user records via executeOps, executed ids via entryAdd.
        const records = new Map<string, KeyRecord>();
        const executed = new Map<string, ExecutedEntry>();
        batches.forEach((batch, i) => {
          const ex = sm.execute(batch, i + 1);
          executeOps(recordStoreOver(records), batch);
          for (const o of batch)
            executed.set(o.client, entryAdd(executed.get(o.client) ?? EMPTY_ENTRY, o.seq));
          const all = new Map(records);
          for (const [c, e] of executed)
            all.set(executedKey(c), { type: EXECUTED_TYPE as TypeName, state: e });
          expect(ex.stateRoot).toBe(buildStateMap(all).root());
          // ... and over every record the machine's store holds (as a whole-state chunk serves them).
          const stored = allRecords(sm, i + 1).map(([k, type, state]): [string, KeyRecord] => [
            k,
            { type: type as TypeName, state },
          ]);
          expect(stored.length).toBe(all.size);
          expect(buildStateMap(stored).root()).toBe(ex.stateRoot);
        });
        // User records alone give another root: the root commits to the executed ids too.
        if (records.size > 0) expect(buildStateMap(records).root()).not.toBe(sm.stateRoot());
      }),
    );
  });

  it("executes an op proposed twice (in one batch or across batches) once", () => {
    const pool = Array.from({ length: 6 }, (_, i) => op(`d${i % 3}`, "counter", "add", { n: i + 1 }, i % 2));
    fc.assert(
      fc.property(fc.array(fc.array(fc.nat(pool.length - 1), { maxLength: 6 }), { maxLength: 6 }), (idx) => {
        const sm = new MerkleStateMachine();
        const seen = new Set<SignedOp>();
        idx.forEach((batch, i) => {
          const proposed = batch.map((j) => pool[j]!);
          const ex = sm.execute(proposed, i + 1);
          const fresh = proposed.filter((o) => !seen.has(o) && (seen.add(o), true));
          expect(ex.ops).toEqual(fresh);
          expect(ex.results.length).toBe(fresh.length);
          for (const o of proposed) expect(sm.hasExecuted(o)).toBe(true);
        });
        // Each key holds the sum of the distinct ops on it: none counted twice.
        for (const k of ["d0", "d1", "d2"]) {
          const sum = pool
            .filter((o) => o.key === k && seen.has(o))
            .reduce((s, o) => s + (o.args.n as number), 0);
          expect(sm.proveKey(k).value?.value ?? 0).toBe(sum);
        }
      }),
    );
    const sm = new MerkleStateMachine();
    const a = op("c", "counter", "add", { n: 5 });
    const ex1 = sm.execute([a, a], 1);
    expect(ex1.ops).toEqual([a]);
    const ex2 = sm.execute([a], 2);
    expect(ex2).toEqual({ ops: [], results: [], stateRoot: ex1.stateRoot, resultsRoot: resultsRoot([]) });
    expect(sm.proveKey("c").value?.value).toBe(5);
  });

  it("decides account.withdraw against the certified order", () => {
    const sm = new MerkleStateMachine();
    const ex1 = sm.execute(
      [op("acct", "account", "deposit", { n: 10 }), op("acct", "account", "withdraw", { n: 7 }, 1)],
      1,
    );
    expect(ex1.results.map((r) => [r.status, r.value])).toEqual([
      ["ok", 10],
      ["ok", 3],
    ]);
    // Tentatively accepted at another replica (which saw balance 10), but certified after the first: rejected.
    const before = sm.proveKey("acct");
    const ex2 = sm.execute([op("acct", "account", "withdraw", { n: 7 })], 2);
    expect(ex2.results[0]).toMatchObject({ status: "rejected", reason: "insufficient_funds", value: 3 });
    // The rejected op is executed (its id is recorded, so the root moves), but the account is unchanged.
    expect(ex2.stateRoot).not.toBe(ex1.stateRoot);
    expect(sm.proveKey("acct").value).toEqual(before.value);
    // A withdraw on a fresh account is rejected and creates no key.
    const ex3 = sm.execute([op("fresh", "account", "withdraw", { n: 1 })], 3);
    expect(ex3.results[0]!.status).toBe("rejected");
    expect(sm.get("fresh")).toBeUndefined();
    expect(verifyStateProof(sm.stateRoot(), "fresh", null, sm.proveKey("fresh").proof)).toBe(true);
  });

  it("rejects an op on a key of another type with type_mismatch", () => {
    const sm = new MerkleStateMachine();
    const ex = sm.execute([op("c", "counter", "add", { n: 5 }), op("c", "account", "deposit", { n: 1 })], 1);
    expect(ex.results[1]).toMatchObject({ status: "rejected", reason: "type_mismatch", value: 5 });
    expect(sm.proveKey("c").value).toMatchObject({ type: "counter", value: 5 });
  });

  it("the state root commits to each record's whole state: a chunk with other hidden state is refused", () => {
    const sm = new MerkleStateMachine();
    sm.execute([op("r", "register", "set", { v: "a" }), op("s", "set", "add", { x: "a" })], 1);
    const root = sm.stateRoot();
    const records = allRecords(sm, 1);
    expect(sm.checkChunk("", root, { records })).toMatchObject({ ok: true });
    const at = (key: string) => records.findIndex(([k]) => k === key);
    const tamper = (i: number, f: (state: Record<string, unknown>) => void) => {
      const copy = structuredClone(records);
      f(copy[i]![2] as Record<string, unknown>);
      return sm.checkChunk("", root, { records: copy });
    };
    // Same visible values, other hidden state: a register clock pinned far ahead, an extra removed
    // tag, an executed-ids record that claims more ops executed.
    const ahead = (s: Record<string, unknown>) =>
      (s.stamp = { wall: Number.MAX_SAFE_INTEGER - 1, logical: 0 });
    expect(tamper(at("r"), ahead)).toEqual({ ok: false, reason: "records_hash" });
    expect(tamper(at("s"), (s) => (s.removed as string[]).push("ghost"))).toEqual({
      ok: false,
      reason: "records_hash",
    });
    expect(tamper(at(executedKey(CLIENTS[0]!)), (s) => (s.floor = (s.floor as number) + 5))).toEqual({
      ok: false,
      reason: "records_hash",
    });
    const kp = sm.proveKey("r");
    expect(verifyStateProof(root, "r", kp.value, kp.proof)).toBe(true);
    expect(verifyStateProof(root, "r", { ...kp.value!, stateHash: "0".repeat(64) }, kp.proof)).toBe(false);
    // An inclusion proof carries no other leaf: one that does is not an inclusion proof.
    const other = { keyHash: "ab".repeat(32), valueHash: "cd".repeat(32) };
    expect(verifyStateProof(root, "r", kp.value, { ...kp.proof, leaf: other })).toBe(false);
  });

  it("an op-shaped entry without a valid id is executed as invalid_op, not a crash", () => {
    const sm = new MerkleStateMachine();
    const junk = [{}, { client: 5, seq: 1 }, { client: "c", seq: 0 }] as unknown as SignedOp[];
    const ex = sm.execute(junk, 1);
    expect(ex.results.map((r) => [r.status, r.reason])).toEqual(junk.map(() => ["rejected", "invalid_op"]));
  });

  it("proves every key's certified value and every result against the batch's roots", () => {
    fc.assert(
      fc.property(batchesArb, (batches) => {
        const sm = new MerkleStateMachine();
        batches.forEach((batch, i) => {
          const ex = sm.execute(batch, i + 1);
          expect(ex.resultsRoot).toBe(resultsRoot(ex.results));
          const proofs = proveResults(ex.results);
          ex.results.forEach((r, j) => expect(verifyResultProof(ex.resultsRoot, r, proofs[j]!)).toBe(true));
          for (const key of ["k1", "k2", "k3", "k4", "k5"]) {
            const kp = sm.proveKey(key);
            expect(verifyStateProof(ex.stateRoot, key, kp.value, kp.proof)).toBe(true);
            if (kp.value) expect(verifyStateProof(ex.stateRoot, key, null, kp.proof)).toBe(false);
          }
        });
      }),
    );
  });

  it("rejects a malformed op deterministically instead of crashing or corrupting state", () => {
    const first = op("c", "counter", "add", { n: 2 });
    const setup = () => {
      const sm = new MerkleStateMachine();
      sm.execute([first], 1);
      return sm;
    };
    const sm = setup();
    const before = sm.proveKey("c");
    const bad = [
      op("c", "counter", "add", { n: 1e300 }),
      op("c", "counter", "add", { n: "x" }),
      op("c", "counter", "explode", {}),
      { ...op("c", "counter", "add", { n: 1 }), type: "nosuchtype" } as unknown as SignedOp,
      { ...op("c", "counter", "add", { n: 1 }), key: "" },
      // a write to a reserved executed-ids key: not a user key
      op(executedKey(CLIENTS[0]!), "counter", "add", { n: 1 }),
    ];
    const ex = sm.execute(bad, 2);
    expect(ex.ops).toEqual(bad);
    expect(ex.results.map((r) => [r.status, r.reason])).toEqual(bad.map(() => ["rejected", "invalid_op"]));
    expect(ex.results[0]!.value).toBe(2);
    expect(ex.results[5]!.value).toBe(null);
    // The root does change (the rejected ops' ids are now executed: the executed-ids record moved),
    // so check what users see instead: "c" holds the same value, proven against the new root.
    const after = sm.proveKey("c");
    expect(after.value).toEqual(before.value);
    expect(verifyStateProof(ex.stateRoot, "c", after.value, after.proof)).toBe(true);
    expect(sm.get(executedKey(CLIENTS[0]!))).toBeUndefined();
    for (const o of bad) expect(sm.hasExecuted(o)).toBe(true);
    // Deterministic: another machine gets the same execution.
    expect(setup().execute(bad, 2)).toEqual(ex);
  });

  it("an empty batch changes nothing and has the empty results root", () => {
    const sm = new MerkleStateMachine();
    sm.execute([op("c", "counter", "add", { n: 1 })], 1);
    const root = sm.stateRoot();
    const ex = sm.execute([], 2);
    expect(ex).toEqual({ ops: [], results: [], stateRoot: root, resultsRoot: resultsRoot([]) });
    expect(new MerkleStateMachine().execute([], 1).stateRoot).toBe("0".repeat(64));
  });

  it("continues from its stores: a machine over the same stores has the same state", () => {
    fc.assert(
      fc.property(batchesArb, batchesArb, (before, after) => {
        const a = new MerkleStateMachine();
        run(a, before);
        const b = new MerkleStateMachine({ records: a.stores.records, nodes: a.stores.nodes });
        expect(b.stateRoot()).toBe(a.stateRoot());
        const c = new MerkleStateMachine();
        run(c, before);
        run(b, after, before.length + 1).forEach((ex, i) =>
          expect(ex).toEqual(c.execute(after[i]!, before.length + 1 + i)),
        );
      }),
    );
  });
  // An op whose id is not one (seq 1.5) is rejected as invalid_op but not recorded as executed:
  // executed-ids records hold only valid ids, so every state can be transferred.
  it("a state reached by executing malformed ops can still be transferred", () => {
    const sm = new MerkleStateMachine();
    const bad = { ...op("c", "counter", "add", { n: 1 }), seq: 1.5 };
    const ex = sm.execute([op("c", "counter", "add", { n: 1 }), bad], 1);
    expect(ex.results[1]).toMatchObject({ status: "rejected", reason: "invalid_op" });
    const chunk = sm.serveChunk(sm.handle(), 1, "", WHOLE);
    expect(new MerkleStateMachine().checkChunk("", sm.stateRoot(), chunk)).toMatchObject({ ok: true });
  });
});

/** A machine after one batch adding 1 to each of `keys`. */
function machine(keys: string[]): MerkleStateMachine {
  const sm = new MerkleStateMachine();
  sm.execute(
    keys.map((k) => op(k, "counter", "add", { n: 1 })),
    1,
  );
  return sm;
}

describe("execute: op ids that are not ids", () => {
  it("a seq below 1 or a missing key is executed and rejected as invalid_op, never skipped", () => {
    const sm = new MerkleStateMachine();
    const zero: SignedOp = { ...op("z", "counter", "add", { n: 1 }), seq: 0 };
    const neg: SignedOp = { ...op("z", "counter", "add", { n: 1 }), seq: -1 };
    const noKey = { ...op("z", "counter", "add", { n: 1 }) } as Partial<SignedOp>;
    delete noKey.key;
    const out = sm.execute([zero, neg, noKey as SignedOp], 1);
    expect(out.ops.length).toBe(3);
    expect(out.results.map((r) => [r.status, r.reason, r.value])).toEqual([
      ["rejected", "invalid_op", null],
      ["rejected", "invalid_op", null],
      ["rejected", "invalid_op", null],
    ]);
  });

  it("counts tree hashes (benchmarks read hashCount)", () => {
    const sm = machine(["a", "b"]);
    expect(sm.hashCount).toBeGreaterThan(0);
  });
});

describe("buildStateMap", () => {
  it("builds into the node store it is given", () => {
    const store = new MemoryNodeStore();
    const sm = machine(["a"]);
    const recs: [string, KeyRecord][] = [["a", sm.get("a")!]];
    const map = buildStateMap(recs, store);
    expect(map.root()).toBe(buildStateMap(recs).root());
    expect(new MerkleStateMachine({ records: new MemoryRecordStore(), nodes: store }).stateRoot()).toBe(
      map.root(),
    );
  });
});

describe("executed-ids entries", () => {
  it("adding a seq already executed returns the entry unchanged (an op is executed once)", () => {
    const e = { floor: 5, above: [8] };
    expect(entryAdd(e, 8)).toBe(e);
    expect(entryAdd(e, 3)).toBe(e);
    expect(entryAdd(e, 7)).toEqual({ floor: 5, above: [7, 8] });
    expect(entryAdd({ floor: 5, above: [7, 9] }, 8)).toEqual({ floor: 5, above: [7, 8, 9] });
  });

  it("a peer's null, array or number entry is refused, never a throw", () => {
    expect(isExecutedEntry(null)).toBe(false);
    expect(isExecutedEntry(5)).toBe(false);
    expect(isExecutedEntry(["a", "b"])).toBe(false);
    expect(isExecutedEntry({ floor: 1, above: [3] })).toBe(true);
  });
});
