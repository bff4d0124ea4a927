/**
 * `delete` in the certified order: the key leaves the certified state (its record and its leaf),
 * a read proves absence, the root is the one of a state that never held the key, the next op on it
 * starts from nothing (any type), and an account is deleted only at 0.
 */
import { describe, expect, it } from "vitest";
import { verifyStateProof } from "../../../shared/certified/proofs.js";
import { MerkleStateMachine, memoryStores } from "../../../shared/certified/state-machine.js";
import { op } from "../../support/trusted-ops.js";

describe("delete in the certified order", () => {
  for (const [type, write] of [
    ["register", { op: "set", args: { v: "x" } }],
    ["counter", { op: "add", args: { n: 5 } }],
    ["set", { op: "add", args: { x: "a" } }],
  ] as const) {
    it(`${type}: the key is removed, and a read proves its absence`, () => {
      const sm = new MerkleStateMachine();
      sm.execute([op("k", type, write.op, write.args), op("other", "counter", "add", { n: 1 })], 1);
      const ex = sm.execute([op("k", type, "delete", {})], 2);
      expect(ex.results[0]).toMatchObject({ status: "ok" });
      expect(sm.get("k")).toBeUndefined();
      const p = sm.proveKey("k");
      expect(p.value).toBeNull();
      expect(verifyStateProof(sm.stateRoot(), "k", null, p.proof)).toBe(true);
      // the proof of absence is not a proof of the value the key had
      expect(
        verifyStateProof(sm.stateRoot(), "k", { type, value: null, stateHash: "0".repeat(64) }, p.proof),
      ).toBe(false);
    });
  }

  it("the root equals the root of a state that never held the key", () => {
    const [a, b] = [new MerkleStateMachine(), new MerkleStateMachine()];
    // the same clients and seqs on both (executed-ids records are in the state too)
    const o1 = op("k", "register", "set", { v: 1 });
    const o2 = op("k", "register", "delete", {});
    const keep = op("j", "counter", "add", { n: 2 });
    a.execute([o1, keep], 1);
    a.execute([o2], 2);
    b.execute([{ ...o1, op: "delete", args: {} }, keep], 1); // a delete of a key never written
    b.execute([o2], 2);
    expect(a.stateRoot()).toBe(b.stateRoot());
    expect(b.get("k")).toBeUndefined();
  });

  it("a delete and a write of the key in one batch: the order within the batch decides", () => {
    const sm = new MerkleStateMachine();
    sm.execute([op("k", "counter", "add", { n: 3 }), op("k", "counter", "delete", {})], 1);
    expect(sm.get("k")).toBeUndefined();
    sm.execute([op("k", "counter", "delete", {}), op("k", "counter", "add", { n: 4 })], 2);
    expect(sm.proveKey("k").value?.value).toBe(4);
  });

  it("the next op recreates the key, of any type, from nothing", () => {
    const sm = new MerkleStateMachine();
    sm.execute([op("k", "counter", "add", { n: 5 })], 1);
    sm.execute([op("k", "counter", "delete", {})], 2);
    const ex = sm.execute([op("k", "register", "set", { v: "now a register" })], 3);
    expect(ex.results[0]).toMatchObject({ status: "ok", value: "now a register" });
    expect(sm.get("k")?.type).toBe("register");
  });

  it("account: rejected not_empty above 0 (nothing changes); after a withdraw to 0, removed", () => {
    const sm = new MerkleStateMachine();
    sm.execute([op("acct", "account", "deposit", { n: 3 })], 1);
    const root = sm.stateRoot();
    // a deposit ordered before the delete makes it a certified rejection
    const ex = sm.execute([op("acct", "account", "delete", {})], 2);
    expect(ex.results[0]).toMatchObject({ status: "rejected", reason: "not_empty", value: 3 });
    expect(sm.proveKey("acct").value?.value).toBe(3);
    expect(sm.stateRoot()).not.toBe(root); // the executed-ids record moved, the account did not
    sm.execute([op("acct", "account", "withdraw", { n: 3 }), op("acct", "account", "delete", {})], 3);
    expect(sm.get("acct")).toBeUndefined();
  });

  it("a node keeps the deleted key's record readable at older versions (it serves its checkpoint)", () => {
    const stores = memoryStores();
    const sm = new MerkleStateMachine(stores);
    sm.execute([op("k", "counter", "add", { n: 5 }, 1)], 1);
    const h1 = sm.handle();
    sm.execute([op("k", "counter", "delete", {}, 1)], 2);
    expect(stores.records.getAt("k", 1)).toEqual({ type: "counter", state: 5 });
    expect(stores.records.getAt("k", 2)).toBeUndefined();
    const chunk = sm.serveChunk(h1, 1, "", { records: 100, bytes: 1e6 });
    expect("records" in chunk && chunk.records.map(([k]) => k)).toContain("k");
  });
});
