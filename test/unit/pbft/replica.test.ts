import { describe, expect, it } from "vitest";
import { clusterId } from "../../../shared/certified/cluster-id.js";
import { MerkleStateMachine } from "../../../shared/certified/state-machine.js";
import { opIdOf } from "../../../shared/ops.js";
import { proposalDigest } from "../../../shared/pbft/digest.js";
import type { Envelope, PrePrepare } from "../../../shared/pbft/messages.js";
import { PbftReplica } from "../../../shared/pbft/replica.js";
import { CLUSTER, Harness, makeOp, UNIT_CONFIG } from "./harness.js";

describe("PBFT replica: normal case", () => {
  it("orders, executes and certifies a submitted op on every node", () => {
    const h = new Harness();
    h.tickAll(1_000);
    const op = makeOp(1);
    for (let i = 0; i < 4; i++) h.step(i, { kind: "submit", op });
    h.run();
    for (let i = 0; i < 4; i++) {
      const s = h.nodes[i]!.state;
      expect(s.lastExecuted).toBe(1);
      expect(s.pool.size).toBe(0);
      expect(h.certified[i]).toHaveLength(1);
      const c = h.certified[i]![0]!;
      expect(c.certificate.sigs).toHaveLength(3);
      expect(c.body).toMatchObject({ cluster: clusterId(CLUSTER), seq: 1, view: 0, opCount: 1, time: 1_000 });
      expect(c.ops.map(opIdOf)).toEqual([opIdOf(op)]);
    }
  });

  it("submit-many: one step, the same batches and certificates as one submit per op", () => {
    const ops = [1, 2, 3, 4, 5, 6, 7].map((i) => makeOp(i));
    const config = { ...UNIT_CONFIG, batchSizeMax: 3 };
    const one = new Harness(config);
    const many = new Harness(config);
    one.tickAll(1_000);
    many.tickAll(1_000);
    for (let i = 0; i < 4; i++) {
      for (const op of ops) one.step(i, { kind: "submit", op });
      const fx = many.step(i, { kind: "submit-many", ops: [...ops, ops[0]!] });
      expect(fx.persist.filter((p) => p.key.startsWith("pool/"))).toHaveLength(ops.length);
    }
    expect(many.nodes[0]!.stats["drop.op_duplicate"]).toBe(1);
    for (const h of [one, many]) {
      h.run();
      h.tickAll(1_010);
      h.run();
    }
    for (let i = 0; i < 4; i++) {
      expect(many.nodes[i]!.state.opCount).toBe(ops.length);
      expect(many.certified[i]!.map((c) => c.body)).toEqual(one.certified[i]!.map((c) => c.body));
    }
  });

  it("isRedundant: votes for a slot already prepared/committed and shares already certified, nothing else", () => {
    const h = new Harness();
    h.tickAll(1_000);
    const op = makeOp(1);
    const seen: { to: number; env: Envelope; redundant: boolean }[] = [];
    h.drop = (to, env) => {
      seen.push({ to, env, redundant: h.nodes[to]!.isRedundant(env) });
      return false;
    };
    for (let i = 0; i < 4; i++) h.step(i, { kind: "submit", op });
    h.run();
    expect(h.nodes.every((n) => n.state.lastExecuted === 1)).toBe(true);
    const redundant = seen.filter((x) => x.redundant);
    expect(redundant.length).toBeGreaterThan(0);
    for (const { to, env } of redundant) {
      expect(["prepare", "commit", "share"]).toContain(env.msg.type);
      expect(env.from).not.toBe(to); // a node's own messages are never skipped
    }
    // Each node still got a quorum of everything it needed (it executed and certified the batch).
    for (let i = 0; i < 4; i++) expect(h.certified[i]).toHaveLength(1);
    // Dropping every redundant message changes nothing: a fresh cluster that skips them gets there too.
    const skip = new Harness();
    skip.tickAll(1_000);
    skip.drop = (to, env) => skip.nodes[to]!.isRedundant(env);
    for (let i = 0; i < 4; i++) skip.step(i, { kind: "submit", op });
    skip.run();
    for (let i = 0; i < 4; i++) {
      expect(skip.certified[i]!.map((c) => c.body)).toEqual(h.certified[i]!.map((c) => c.body));
    }
  });

  it("deduplicates an op by id across batches, submissions and the executed set", () => {
    const h = new Harness();
    h.tickAll(1_000);
    const op = makeOp(1);
    h.step(0, { kind: "submit", op });
    h.step(0, { kind: "submit", op });
    expect(h.nodes[0]!.stats["drop.op_duplicate"]).toBe(1);
    h.run();
    h.step(0, { kind: "submit", op });
    expect(h.nodes[0]!.stats["drop.op_already_executed"]).toBe(1);
    expect(h.nodes[0]!.state.opCount).toBe(1);
  });

  it("batches up to batchSizeMax and proposes partial batches on a tick", () => {
    const h = new Harness({ ...UNIT_CONFIG, batchSizeMax: 3 });
    h.tickAll(1_000);
    for (let s = 1; s <= 4; s++) h.step(0, { kind: "submit", op: makeOp(s) });
    h.run();
    expect(h.nodes[1]!.state.lastExecuted).toBe(1); // one full batch of 3
    h.tickAll(1_010);
    h.run();
    expect(h.nodes[1]!.state.lastExecuted).toBe(2);
    expect(h.nodes[1]!.state.opCount).toBe(4);
  });

  it("a tick is idempotent", () => {
    const h = new Harness();
    h.step(0, { kind: "tick", nowMs: 5_000 });
    h.step(0, { kind: "tick", nowMs: 5_000 + 100 });
    const again = h.nodes[0]!.step({ kind: "tick", nowMs: 5_100 });
    expect(again.send).toEqual([]);
    expect(again.persist).toEqual([]);
  });
});

describe("PBFT replica: hostile input is counted and dropped", () => {
  function backupWithPrePrepare(mutate: (env: Envelope<PrePrepare>) => void): PbftReplica {
    const node = new PbftReplica({
      cluster: CLUSTER,
      me: 1,
      config: UNIT_CONFIG,
      sm: new MerkleStateMachine(),
    });
    node.step({ kind: "tick", nowMs: 1_000 });
    const proposal = { ops: [makeOp(1)], time: 1_000, view: 0 };
    const env: Envelope<PrePrepare> = {
      from: 0,
      msg: { type: "pre-prepare", view: 0, seq: 1, digest: proposalDigest(proposal) },
      sig: "",
      proposal,
    };
    mutate(env);
    node.step({ kind: "message", envelope: env });
    node.checkInvariants();
    return node;
  }

  it.each([
    ["pre_prepare_not_from_primary", (e: Envelope<PrePrepare>) => void (e.from = 2)],
    ["future_view", (e: Envelope<PrePrepare>) => void (e.msg.view = 4)],
    ["out_of_window", (e: Envelope<PrePrepare>) => void (e.msg.seq = 99)],
    ["bad_digest", (e: Envelope<PrePrepare>) => void (e.msg.digest = "0".repeat(64))],
    ["time_out_of_bound", (e: Envelope<PrePrepare>) => void (e.proposal!.time = 10_000_000)],
  ])("%s", (reason, mutate) => {
    const node = backupWithPrePrepare(mutate);
    expect(node.stats[`drop.${reason}`]).toBe(1);
    expect(node.state.slots.get(1)?.digest ?? null).toBeNull();
  });

  it("a second, different PRE-PREPARE for the same view and seq is equivocation", () => {
    const node = backupWithPrePrepare(() => {});
    const other = { ops: [makeOp(2)], time: 1_000, view: 0 };
    node.step({
      kind: "message",
      envelope: {
        from: 0,
        msg: { type: "pre-prepare", view: 0, seq: 1, digest: proposalDigest(other) },
        sig: "",
        proposal: other,
      },
    });
    expect(node.stats["drop.equivocation"]).toBe(1);
  });

  it("the pool is bounded", () => {
    const node = new PbftReplica({
      cluster: CLUSTER,
      me: 1,
      config: { ...UNIT_CONFIG, poolSizeMax: 2 },
      sm: new MerkleStateMachine(),
    });
    for (let s = 1; s <= 3; s++) node.step({ kind: "submit", op: makeOp(s) });
    expect(node.state.pool.size).toBe(2);
    expect(node.stats["drop.pool_full"]).toBe(1);
  });

  it("a step's effects count the ops the full pool refused (the node answers them busy)", () => {
    const node = new PbftReplica({
      cluster: CLUSTER,
      me: 1,
      config: { ...UNIT_CONFIG, poolSizeMax: 2 },
      sm: new MerkleStateMachine(),
    });
    const first = node.step({ kind: "submit-many", ops: [makeOp(1), makeOp(1), makeOp(2)] });
    expect(first.poolFull ?? 0).toBe(0); // a duplicate is not busy
    const second = node.step({ kind: "submit-many", ops: [makeOp(3), makeOp(4), makeOp(5)] });
    expect(second.poolFull).toBe(3);
    expect(node.stats["drop.pool_full"]).toBe(3);
  });
});

describe("PBFT replica: checkpoints, restart", () => {
  it("checkpoints become stable and collect the log", () => {
    const h = new Harness();
    h.tickAll(1_000);
    for (let s = 1; s <= 5; s++) {
      for (let i = 0; i < 4; i++) h.step(i, { kind: "submit", op: makeOp(s) });
      h.run();
    }
    for (const n of h.nodes) {
      expect(n.state.lastExecuted).toBe(5);
      expect(n.state.stable.seq).toBe(4);
      expect([...n.state.slots.keys()]).toEqual([5]);
    }
  });

  it("restores from its persisted rows to the same state", () => {
    const h = new Harness();
    h.tickAll(1_000);
    for (let s = 1; s <= 3; s++) {
      for (let i = 0; i < 4; i++) h.step(i, { kind: "submit", op: makeOp(s) });
      h.run();
    }
    h.step(2, { kind: "submit", op: makeOp(9) });
    const before = h.nodes[2]!.state;
    const { replica, effects } = PbftReplica.restore(
      // the same stores: the state machine's writes went in with the rows
      {
        cluster: CLUSTER,
        me: 2,
        config: UNIT_CONFIG,
        sm: new MerkleStateMachine((before.sm as MerkleStateMachine).stores),
      },
      [...h.storage[2]!] as [string, never][],
    );
    replica.checkInvariants();
    // It comes back at the last executed seq from its stores: nothing is executed again.
    expect(effects.executed).toEqual([]);
    expect(replica.state.lastExecuted).toBe(before.lastExecuted);
    expect(replica.state.sm.stateRoot()).toBe(before.sm.stateRoot());
    expect(replica.state.logRoot).toBe(before.logRoot);
    expect([...replica.state.pool.keys()]).toEqual([opIdOf(makeOp(9))]);
  });
});
