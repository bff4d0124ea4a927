/**
 * State transfer at scale: a node that missed more than 10 checkpoints of a 10,000-key state
 * catches up by fetching only what changed (chunks checked against the checkpoint's root), also
 * when the peer it asks first serves tampered chunks.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { useNativeSha256 } from "../../shared/hash.js";
import type { PbftConfig } from "../../shared/pbft/config.js";
import type { ByzantineBehaviour } from "./modes.js";
import { SCENARIO_CONFIG, runUntil, submitOps } from "./scenario-kit.js";
import { World } from "./world.js";

useNativeSha256((d) => new Uint8Array(createHash("sha256").update(d).digest()));

const KEYS = 10_000;
const CONFIG: Partial<PbftConfig> = {
  ...SCENARIO_CONFIG,
  batchSizeMax: 500,
  poolSizeMax: KEYS + 1_000,
  stateChunkRecordsMax: 256,
  requestTimeoutTicks: 400,
};

async function caughtUp(
  byzantine: { node: number; behaviours: ByzantineBehaviour[] }[],
  /** Called each tick while node 3 catches up; may crash and restart it. */
  during?: (w: World) => Promise<void>,
) {
  const w = await World.create({ seed: 21, config: CONFIG, byzantine, deepInvariantsEvery: 500 });
  const lagging = w.nodes[3]!;
  // 10,000 keys everywhere, node 3 included.
  const ids = await submitOps(w, KEYS, [0, 1, 2, 3], (i) => `key-${i}`);
  await runUntil(w, () => ids.every((id) => w.checker.certifiedOps.has(id)), 3_000);
  expect(lagging.replica!.state.sm.stateRoot()).toBe(w.nodes[1]!.replica!.state.sm.stateRoot());
  const base = lagging.replica!.state.lastExecuted;
  // Node 3 is cut off for more than 10 checkpoints (4 seqs each) that change 60 keys.
  w.dropIf = (from, to) => from === 3 || to === 3;
  const later: string[] = [];
  for (let i = 0; i < 60; i++) {
    later.push(...(await submitOps(w, 1, [0, 1, 2], () => `key-${(i * 163) % KEYS}`)));
    // Spaced out, so each op is a batch of its own (batches grow with load: see maybePropose).
    for (let k = 0; k < 3; k++) await w.runTick();
  }
  await runUntil(w, () => later.every((id) => w.checker.certifiedOps.has(id)), 3_000);
  const ahead = w.nodes[1]!.replica!.state;
  expect(ahead.stable.seq - base).toBeGreaterThan(10 * 4);
  expect(lagging.replica!.state.lastExecuted).toBe(base);
  w.dropIf = null;
  let r = lagging.replica!;
  // With a Byzantine peer: only it offers the checkpoint at first, so it is the one asked for chunks.
  if (byzantine.length)
    w.dropIf = (from, to, env) => to === 3 && env.msg.type === "state" && from !== byzantine[0]!.node;
  await runUntil(
    w,
    () => {
      r = lagging.replica ?? r;
      return lagging.replica !== null && r.state.lastExecuted >= ahead.stable.seq;
    },
    1_500,
    during && (() => during(w)),
  );
  expect(r.stats["state_transfer.adopted"]).toBeGreaterThanOrEqual(1);
  expect(r.state.sm.stateRoot()).toBe(ahead.sm.stateRoot());
  return { w, r };
}

describe("state transfer of a 10,000-key state", () => {
  it("a node that missed more than 10 checkpoints fetches what changed, not the whole state", async () => {
    const { r } = await caughtUp([]);
    const fetched = r.stats["state_transfer.records_fetched"] ?? 0;
    // 60 changed keys, and the executed-ids records: subtrees this node has keys in are fetched
    // in chunks of ≤ stateChunkRecordsPatch (8) records, so at most ~8 records per change.
    expect(fetched).toBeGreaterThan(0);
    expect(fetched).toBeLessThanOrEqual(64 * 8);
    expect(r.state.transfer).toBeNull();
  }, 120_000);

  it("a peer serving tampered chunks only slows it down", async () => {
    const { w, r } = await caughtUp([{ node: 0, behaviours: ["tamper-state"] }]);
    expect(w.faults["tampered_chunk"] ?? 0).toBeGreaterThan(0);
    const bad = Object.entries(r.stats)
      .filter(([k]) => k.startsWith("drop.bad_chunk."))
      .reduce((a, [, v]) => a + v, 0);
    expect(bad).toBeGreaterThan(0);
  }, 120_000);

  it("a transfer resumes after a crash with the chunks it had verified, and is adopted once", async () => {
    let crashed = false;
    let keptAtCrash = 0;
    let fetchedAtRestart: number | null = null;
    const { w, r } = await caughtUp([], async (w) => {
      const n = w.nodes[3]!;
      const t = n.replica?.state.transfer;
      if (!crashed && t && t.fetched.size >= 2) {
        crashed = true;
        keptAtCrash = t.fetched.size;
        w.crash(3, w.tick + 5);
      } else if (crashed && fetchedAtRestart === null && n.replica)
        // the first tick after the restart: what it came back with
        fetchedAtRestart = n.replica.state.transfer?.fetched.size ?? 0;
    });
    expect(crashed).toBe(true);
    // The restarted node came back with the verified chunks (persisted) and did not start over.
    expect(fetchedAtRestart).toBeGreaterThanOrEqual(keptAtCrash);
    expect(r.stats["state_transfer.adopted"]).toBe(1);
    expect(r.stats["restored"]).toBe(1);
    expect(w.checker.replayedSeq).toBeGreaterThan(0);
  }, 120_000);
});
