/**
 * A replica's rows (shared/pbft/persist.ts) hold its whole durable state: restored from them, a
 * node has the same certificates, uncertified batches, slots, checkpoints, pool and view, and writes
 * every row back exactly as it was read.
 */
import { describe, expect, it } from "vitest";
import { MerkleStateMachine } from "../../../shared/certified/state-machine.js";
import { markDirty, slotKey } from "../../../shared/pbft/context.js";
import { execKey, skipKey } from "../../../shared/pbft/keys.js";
import { applyRows } from "../../../shared/pbft/driver.js";
import { persistOps, restoreSlotRow, type SlotRow } from "../../../shared/pbft/persist.js";
import { PbftReplica } from "../../../shared/pbft/replica.js";
import type { ReplicaState } from "../../../shared/pbft/state.js";
import { CLUSTER, Harness, makeOp, UNIT_CONFIG } from "./harness.js";

/** What a restore must bring back (plain data, comparable). */
const durable = (s: ReplicaState) => ({
  view: s.view,
  normal: s.normal,
  newView: s.newView,
  lastExecuted: s.lastExecuted,
  stable: s.stable,
  stableHeader: s.stableHeader,
  certificates: [...s.certificates],
  uncertified: [...s.uncertified].map(([seq, r]) => [seq, r.body, r.ops, r.results, r.share]),
  uncertifiedFrom: s.uncertifiedFrom,
  slots: [...s.slots].map(([seq, x]) => [
    seq,
    x.view,
    x.digest,
    x.proposal,
    x.prePrepare,
    x.preparedCert,
    x.commitProof,
    x.committedProposal,
    x.sentCommit,
  ]),
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
    // the votes a quorum proof of the slot's view holds count again
    for (const [seq, x] of replica.state.slots) {
      const was = before.slots.get(seq)!;
      if (was.commitProof?.[0]?.msg.view === was.view)
        expect([...x.commits.keys()].sort(), `slot ${seq}`).toEqual(
          was.commitProof.map((c) => c.from).sort(),
        );
      if (was.preparedCert?.view === was.view)
        expect([...x.prepares.keys()].sort(), `slot ${seq}`).toEqual(
          was.preparedCert.prepares.map((c) => c.from).sort(),
        );
    }

    replica.state.dirty.clear();
    for (const [key] of rows) replica.state.dirty.add(key);
    const back = persistOps(replica.state);
    expect(back.filter((o) => o.op === "delete")).toEqual([]);
    expect(new Map(back.map((o) => [o.key, (o as { value: unknown }).value]))).toEqual(new Map(rows));
  });

  it("a slot row holds its batch once; a row with a copy in each place (earlier versions) restores the same", () => {
    const h = new Harness();
    h.tickAll(1_000);
    h.order(1, 3);
    const before = h.nodes[2]!.state;
    const slot = before.slots.get(3)!;
    // a backup's committed slot: the pre-prepare, the prepared certificate and the committed batch
    expect(slot.prePrepare?.proposal).toBe(slot.proposal);
    expect(slot.preparedCert?.proposal).toBe(slot.proposal);
    expect(slot.committedProposal).toBe(slot.proposal);
    const row = h.storage[2]!.get(slotKey(3)) as unknown as SlotRow;
    const sig = slot.proposal!.ops[0]!.sig;
    expect(JSON.stringify(row).split(sig).length - 1).toBe(1);
    expect(row.shared?.sort()).toEqual(["committedProposal", "prePrepare", "preparedCert"]);

    const { shared: _, ...legacy } = restoreSlotRow(row);
    expect(JSON.stringify(legacy).split(sig).length - 1).toBe(4);
    const fromLegacy = restoreFrom(
      h,
      2,
      [...h.storage[2]!].map(([k, v]) => (k === slotKey(3) ? [k, legacy as never] : [k, v])),
    );
    expect(durable(fromLegacy.replica.state)).toEqual(durable(before));
    expect(durable(restoreFrom(h, 2).replica.state)).toEqual(durable(before));
  });

  it("a restored primary proposes next after the last seq it proposed", () => {
    const h = new Harness();
    h.tickAll(1_000);
    h.order(1, 3);
    const before = h.nodes[0]!.state;
    expect(before.nextSeq).toBe(4);
    const { replica } = PbftReplica.restore(
      {
        cluster: CLUSTER,
        me: 0,
        config: UNIT_CONFIG,
        sm: new MerkleStateMachine((before.sm as MerkleStateMachine).stores),
      },
      [...h.storage[0]!] as [string, never][],
    );
    expect(replica.state.nextSeq).toBe(4);
  });

  it("a slot row at or below the stable checkpoint, or past its window, is dropped and deleted with the first write", () => {
    const h = new Harness();
    h.tickAll(1_000);
    h.order(1, 5);
    const before = h.nodes[2]!.state;
    const stable = before.stable.seq;
    const [key, row] = [...h.storage[2]!].find(([k]) => k === slotKey(5))! as [
      string,
      Record<string, unknown>,
    ];
    expect(row).toBeDefined();
    const stale = [slotKey(stable), { ...row, seq: stable }] as const;
    const far = [
      slotKey(stable + UNIT_CONFIG.logWindowSeqs! + 1),
      { ...row, seq: stable + UNIT_CONFIG.logWindowSeqs! + 1 },
    ] as const;
    const { replica, effects } = PbftReplica.restore(
      {
        cluster: CLUSTER,
        me: 2,
        config: UNIT_CONFIG,
        sm: new MerkleStateMachine((before.sm as MerkleStateMachine).stores),
      },
      [...h.storage[2]!, stale, far] as [string, never][],
    );
    expect([...replica.state.slots.keys()]).toEqual([5]);
    expect(key).toBe(slotKey(5));
    const writes = effects.persist; // the restore's own first write
    expect(
      writes
        .filter((o) => o.op === "delete")
        .map((o) => o.key)
        .sort(),
    ).toEqual([stale[0], far[0]].sort());
  });

  /** Restore node `me` of `h` from its rows (optionally changed). */
  const restoreFrom = (h: Harness, me: number, rows = [...h.storage[me]!]) =>
    PbftReplica.restore(
      {
        cluster: CLUSTER,
        me,
        config: UNIT_CONFIG,
        sm: new MerkleStateMachine((h.nodes[me]!.state.sm as MerkleStateMachine).stores),
      },
      rows as [string, never][],
    );

  it("a restored primary whose proposals got no answer proposes after them, never the same seq again", () => {
    const h = new Harness();
    h.tickAll(1_000);
    h.drop = (to) => to !== 0; // the backups hear nothing
    for (let seq = 1; seq <= 3; seq++) h.step(0, { kind: "submit", op: makeOp(seq) });
    h.run();
    expect(h.nodes[0]!.state.lastExecuted).toBe(0);
    expect(h.nodes[0]!.state.nextSeq).toBe(4);
    const { replica } = restoreFrom(h, 0);
    expect(replica.state.nextSeq).toBe(4);
    expect([...replica.state.slots.keys()].sort()).toEqual([1, 2, 3]);
  });

  it("an own checkpoint not yet stable, and a seq skipped by state transfer, come back", () => {
    const h = new Harness();
    h.tickAll(1_000);
    h.drop = (to, env) => to === 2 && env.msg.type === "checkpoint" && env.from !== 2 && env.msg.seq === 4;
    h.order(1, 5);
    const s = h.nodes[2]!.state;
    expect([s.stable.seq, s.checkpoints.get(4)?.mine?.header.seq]).toEqual([2, 4]);
    // seq 3 as if this node had skipped it by state transfer and endorsed nothing yet
    s.skipped.set(3, { body: null, share: null, sinceTick: s.tick });
    markDirty(s, skipKey(3));
    applyRows(h.storage[2]!, persistOps(s));
    const { replica } = restoreFrom(h, 2);
    expect(replica.state.checkpoints.get(4)?.mine).toEqual(s.checkpoints.get(4)!.mine);
    expect([...replica.state.skipped]).toEqual([[3, { body: null, share: null, sinceTick: 0 }]]);
  });

  it("an uncertified batch's share: kept if it was signed, asked for again if the crash came first", () => {
    const h = new Harness();
    h.tickAll(1_000);
    h.drop = (to, env) => to === 2 && (env.msg.type === "share" || env.msg.type === "certificate");
    h.order(1, 1);
    const rec = h.nodes[2]!.state.uncertified.get(1)!;
    expect(rec.share).not.toBeNull();
    const kept = restoreFrom(h, 2);
    expect(kept.replica.state.shares.get(1)?.get(2)).toEqual(rec.share);
    expect(kept.effects.send.filter((o) => o.msg?.type === "share")).toEqual([]);

    const rows = [...h.storage[2]!].map(([k, v]) =>
      k === execKey(1) ? ([k, { ...(v as object), share: null }] as const) : ([k, v] as const),
    );
    const lost = restoreFrom(h, 2, rows as never);
    expect(lost.replica.state.shares.get(1)?.get(2)).toBeUndefined();
    expect(lost.effects.send.filter((o) => o.msg?.type === "share").map((o) => o.msg)).toEqual([
      { type: "share", body: rec.body },
    ]);
  });

  it("a restarted node casts again its votes for slots still in progress, none for committed ones", () => {
    const h = new Harness();
    h.tickAll(1_000);
    h.order(1, 1); // seq 1 committed everywhere
    h.drop = (_to, env) => env.msg.type === "commit"; // seq 2: prepared, every COMMIT lost
    for (let i = 0; i < 4; i++) h.step(i, { kind: "submit", op: makeOp(2) });
    h.run();
    const slots = h.nodes[1]!.state.slots;
    expect([slots.get(1)!.commitProof !== null, slots.get(2)!.commitProof, slots.get(2)!.sentCommit]).toEqual(
      [true, null, true],
    );
    const votes = restoreFrom(h, 1).effects.send.flatMap((o) =>
      o.msg?.type === "prepare" || o.msg?.type === "commit" ? [[o.msg.type, o.msg.seq, o.msg.digest]] : [],
    );
    expect(votes).toEqual([
      ["prepare", 2, slots.get(2)!.digest],
      ["commit", 2, slots.get(2)!.digest],
    ]);
  });

  it("a dirty key no row kind owns is a bug, named, not a silent write", () => {
    const h = new Harness();
    h.tickAll(1_000);
    const s = h.nodes[0]!.state;
    s.dirty.add("bogus/1");
    expect(() => persistOps(s)).toThrow("pbft: unknown persist key bogus/1");
  });
});
