/** Named scenarios, scripted on the simulated world (no random faults unless stated). */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { useNativeSha256 } from "../../shared/hash.js";
import { opIdOf } from "../../shared/ops.js";
import { OPEN_REJECTIONS } from "../../shared/pbft/boundary.js";
import type { PbftConfig } from "../../shared/pbft/config.js";
import type { ByzantineBehaviour } from "./modes.js";
import { SCENARIO_CONFIG, all, runUntil, submitOps } from "./scenario-kit.js";
import { World } from "./world.js";

useNativeSha256((d) => new Uint8Array(createHash("sha256").update(d).digest()));

const CONFIG: Partial<PbftConfig> = SCENARIO_CONFIG;

async function world(
  seed: number,
  byzantine: { node: number; behaviours: ByzantineBehaviour[] }[] = [],
): Promise<World> {
  return World.create({ seed, config: CONFIG, byzantine });
}

const allCertified = (w: World, ids: string[]) => () => ids.every((id) => w.checker.certifiedOps.has(id));
const correct = (w: World) => w.nodes.filter((n) => n.byzantine === null);

describe("PBFT scenarios", () => {
  it("an equivocating primary is replaced; its conflicting batches and view changes do not split the cluster", async () => {
    const w = await world(11, [{ node: 0, behaviours: ["equivocate"] }]);
    const ids = await submitOps(w, 6);
    await runUntil(w, allCertified(w, ids), 1_500);
    for (const n of correct(w)) expect(n.replica!.state.view).toBeGreaterThanOrEqual(1);
    const equivocations = correct(w).reduce((a, n) => a + (n.replica!.stats["drop.equivocation"] ?? 0), 0);
    expect(equivocations).toBeGreaterThan(0);
    // More ops in the new view, while the old primary keeps lying.
    const more = await submitOps(w, 6);
    await runUntil(w, allCertified(w, more), 1_500);
    expect(w.checker.certifiedOps.size).toBe(12);
  });

  it("a view change keeps a batch prepared at only one node (it is re-proposed, not lost or duplicated)", async () => {
    const w = await world(12);
    // Only node 1 gathers 2f+1 PREPAREs; no COMMIT gets through: seq 1 is prepared at node 1 alone.
    w.dropIf = (_from, to, env) => env.msg.type === "commit" || (env.msg.type === "prepare" && to !== 1);
    const [id] = await submitOps(w, 1);
    await runUntil(w, () => w.nodes[1]!.replica!.state.slots.get(1)?.preparedCert != null, 50);
    expect(w.nodes[2]!.replica!.state.slots.get(1)?.preparedCert ?? null).toBeNull();
    expect(w.nodes[3]!.replica!.state.slots.get(1)?.preparedCert ?? null).toBeNull();
    // The primary dies; view 0 can make no more progress (its votes stay lost); the backups change view.
    w.crash(0, null);
    w.dropIf = (_from, _to, env) =>
      (env.msg.type === "commit" || env.msg.type === "prepare") && env.msg.view === 0;
    await runUntil(w, allCertified(w, [id!]), 1_000);
    const b = w.checker.certified.get(1)!;
    expect(b.ops.map(opIdOf)).toEqual([id]);
    expect(b.body.view).toBe(0); // the proposal of view 0, re-proposed in view 1
    for (const i of [1, 2, 3]) expect(w.nodes[i]!.replica!.state.view).toBeGreaterThanOrEqual(1);
    await w.restart(0);
    const more = await submitOps(w, 3);
    await runUntil(w, allCertified(w, more), 1_000);
  });

  it("a node that missed more than 10 checkpoints catches up by state transfer", async () => {
    const w = await world(13);
    w.dropIf = (from, to) => from === 3 || to === 3;
    const ids: string[] = [];
    for (let i = 0; i < 48; i++) {
      ids.push(...(await submitOps(w, 1, [0, 1, 2])));
      await w.runTick();
    }
    await runUntil(w, allCertified(w, ids), 2_000);
    const ahead = w.nodes[0]!.replica!.state;
    expect(ahead.stable.seq).toBeGreaterThanOrEqual(11 * 4);
    expect(w.nodes[3]!.replica!.state.lastExecuted).toBe(0);
    w.dropIf = null;
    const lagging = w.nodes[3]!.replica!;
    await runUntil(w, () => lagging.state.lastExecuted >= ahead.lastExecuted, 500);
    expect(lagging.stats["state_transfer.adopted"]).toBeGreaterThanOrEqual(1);
    expect(lagging.state.sm.stateRoot()).toBe(w.nodes[0]!.replica!.state.sm.stateRoot());
    // And it takes part again: with node 0 gone, progress needs it.
    w.crash(0, null);
    const more = await submitOps(w, 3, [1, 2, 3]);
    await runUntil(w, allCertified(w, more), 1_500);
  });

  it("all four nodes crash and restart at once (a deploy) without losing or reordering anything", async () => {
    const w = await world(14);
    w.net.loss = 0.05;
    w.net.delayMax = 3;
    const ids = await submitOps(w, 10);
    for (let i = 0; i < 4; i++) await w.runTick(); // some batches in flight
    const before = w.nodes.map((n) => n.replica!.state.lastExecuted);
    for (const n of w.nodes) w.crash(n.id, w.tick + 3);
    await w.runTick();
    await w.runTick();
    await w.runTick();
    await w.runTick();
    w.nodes.forEach((n, i) =>
      expect(n.replica!.state.lastExecuted).toBeGreaterThanOrEqual(
        Math.min(before[i]!, n.replica!.state.stable.seq),
      ),
    );
    ids.push(...(await submitOps(w, 10)));
    await runUntil(w, allCertified(w, ids), 1_500);
    // A second deploy right away.
    for (const n of w.nodes) w.crash(n.id, w.tick + 1);
    ids.push(...(await submitOps(w, 5))); // nobody is up: these are not owed
    await w.runTick();
    await w.runTick();
    const after = await submitOps(w, 5);
    await runUntil(w, allCertified(w, after), 1_500);
    expect(new Set(w.nodes.map((n) => n.replica!.state.sm.stateRoot())).size).toBeLessThanOrEqual(2);
  });

  it("heartbeat: with no faults and no ops, a certificate every heartbeatTicks, its time that much later", async () => {
    const beat = 20;
    const w = await World.create({ seed: 16, config: { ...CONFIG, heartbeatTicks: beat } });
    for (let i = 0; i < 20 * beat; i++) await w.runTick();
    const certs = [...w.checker.certified.values()].sort((a, b) => a.body.seq - b.body.seq);
    // proposed at ticks 20, 40, ...: the last may still be in flight
    expect(certs.length).toBeGreaterThanOrEqual(19);
    expect(certs.map((c) => c.body.seq)).toEqual(certs.map((_, i) => i + 1));
    for (const [i, c] of certs.entries()) {
      expect(c.ops).toEqual([]);
      expect(c.body.opCount).toBe(0);
      if (i > 0) expect(c.body.time - certs[i - 1]!.body.time).toBe(beat * 10); // 10 ms ticks
    }
    for (const n of w.nodes) expect(n.replica!.state.view).toBe(0);
    // ops still go through, and the heartbeat picks up after them
    const ids = await submitOps(w, 3);
    await runUntil(w, allCertified(w, ids), 500);
    const at = w.checker.replayedSeq;
    await runUntil(w, () => w.checker.replayedSeq > at + 2, 4 * beat);
  });

  it("forged and replayed messages are rejected at the boundary and never crash a node", async () => {
    const w = await world(15, [{ node: 2, behaviours: ["forge"] }]);
    const ids = await submitOps(w, 8);
    await runUntil(w, allCertified(w, ids), 1_000);
    for (let i = 0; i < 100; i++) await w.runTick();
    const rejected = correct(w).reduce(
      (a, n) => a + OPEN_REJECTIONS.reduce((b, reason) => b + (n.boundary.stats[`drop.${reason}`] ?? 0), 0),
      0,
    );
    expect(rejected).toBeGreaterThan(10);
  });
});
