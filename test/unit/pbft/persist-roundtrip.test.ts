/**
 * A replica's rows (shared/pbft/persist.ts) hold its whole durable state: restored from them, a
 * node has the same certificates, uncertified batches, slots, checkpoints, pool and view, and writes
 * every row back exactly as it was read.
 */
import { describe, expect, it } from "vitest";
import { MerkleStateMachine } from "../../../shared/certified/state-machine.js";
import { persistOps } from "../../../shared/pbft/persist.js";
import { PbftReplica } from "../../../shared/pbft/replica.js";
import type { ReplicaState } from "../../../shared/pbft/state.js";
import { CLUSTER, Harness, makeOp, UNIT_CONFIG } from "./harness.js";

/** What a restore must bring back (plain data, comparable). */
const durable = (s: ReplicaState) => ({
  view: s.view,
  lastExecuted: s.lastExecuted,
  stable: s.stable,
  stableHeader: s.stableHeader,
  certificates: [...s.certificates],
  uncertified: [...s.uncertified].map(([seq, r]) => [seq, r.body, r.ops, r.results, r.share]),
  uncertifiedFrom: s.uncertifiedFrom,
  slots: [...s.slots].map(([seq, x]) => [seq, x.view, x.digest, x.proposal, x.preparedCert, x.commitProof]),
  checkpoints: [...s.checkpoints].map(([seq, e]) => [seq, e.mine]),
  pool: [...s.pool.keys()],
  logRoot: s.logRoot,
  opCount: s.opCount,
});

describe("a replica's rows", () => {
  it("restore its whole durable state, and are written back as they were read", () => {
    const config = { ...UNIT_CONFIG, certificatesKeptMax: 64 };
    const h = new Harness(config);
    h.tickAll(1_000);
    for (let seq = 1; seq <= 5; seq++) {
      // node 2 gets no share or certificate of the last batch: it stays uncertified there
      if (seq === 5)
        h.drop = (to, env) => to === 2 && (env.msg.type === "share" || env.msg.type === "certificate");
      for (let i = 0; i < 4; i++) h.step(i, { kind: "submit", op: makeOp(seq) });
      h.run();
    }
    h.step(2, { kind: "submit", op: makeOp(9) }); // pooled
    const before = h.nodes[2]!.state;
    expect(before.certificates.size).toBeGreaterThan(0);
    expect(before.uncertified.has(5)).toBe(true);
    expect(before.checkpoints.size + before.slots.size).toBeGreaterThan(0);

    const rows = [...h.storage[2]!] as [string, never][];
    const { replica } = PbftReplica.restore(
      {
        cluster: CLUSTER,
        me: 2,
        config,
        sm: new MerkleStateMachine((before.sm as MerkleStateMachine).stores),
      },
      rows,
    );
    expect(durable(replica.state)).toEqual(durable(before));

    replica.state.dirty.clear();
    for (const [key] of rows) replica.state.dirty.add(key);
    const back = persistOps(replica.state);
    expect(back.filter((o) => o.op === "delete")).toEqual([]);
    expect(new Map(back.map((o) => [o.key, (o as { value: unknown }).value]))).toEqual(new Map(rows));
  });
});
