/**
 * Named scenarios for the faults of a stronger adversary: each reproduces one bug found by review
 * (a poisoned state transfer, a NEW-VIEW that conflicts with a held commit proof, certificates lost
 * across a restart, seqs left uncertifiable by a share-withholding node) and fails without its fix.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { useNativeSha256 } from "../../shared/hash.js";
import { opIdOf } from "../../shared/ops.js";
import type { PbftConfig } from "../../shared/pbft/config.js";
import { SCENARIO_CONFIG, all, runUntil, submitOps } from "./scenario-kit.js";
import { World } from "./world.js";

useNativeSha256((d) => new Uint8Array(createHash("sha256").update(d).digest()));

const CONFIG: Partial<PbftConfig> = { ...SCENARIO_CONFIG, uncertifiedGiveUpTicks: 60 };

async function world(
  seed: number,
  byzantine: { node: number; mode: "silent" }[] = [],
  config: Partial<PbftConfig> = {},
): Promise<World> {
  return World.create({ seed, config: { ...CONFIG, ...config }, byzantine });
}

async function runTicks(w: World, ticks: number): Promise<void> {
  for (let i = 0; i < ticks; i++) await w.runTick();
}

const allCertified = (w: World, ids: string[]) => () => ids.every((id) => w.checker.certifiedOps.has(id));

describe("PBFT under a stronger adversary", () => {
  it("restart: batches restored uncertified are not given up at the first STATUS (bug 3)", async () => {
    // Node 3 never speaks, so every certificate needs nodes 0, 1 and 2.
    const w = await world(31, [{ node: 3, mode: "silent" }]);
    // Late enough that a restored batch "since tick 0" looks older than the give-up bound (in a
    // Durable Object ticks are epoch-based, so this is always the case).
    await runTicks(w, 2 * CONFIG.uncertifiedGiveUpTicks!);
    w.dropIf = (_from, _to, env) => env.msg.type === "share" || env.msg.type === "certificate";
    const ids = await submitOps(w, 6);
    const n2 = () => w.nodes[2]!.replica!.state;
    await runUntil(w, () => n2().stable.seq >= 4 && n2().lastExecuted >= 6, 300);
    w.crash(2, w.tick + 1);
    await runTicks(w, 2 * CONFIG.statusIntervalTicks! + 2);
    expect(n2().uncertified.has(1)).toBe(true);
    w.dropIf = null;
    await runUntil(w, allCertified(w, ids), 400);
  });

  it("a node withholding its shares plus a correct node catching up by STATE: every op is still certified (bug 4)", async () => {
    const w = await world(32);
    // Node 0 (the primary) orders, votes and checkpoints but its shares never leave it, and it
    // never hears anyone's (so it forms no certificate either): a share-withholding node.
    const withholding = (from: number, to: number, env: { msg: { type: string } }) =>
      (from === 0 || to === 0) && (env.msg.type === "share" || env.msg.type === "certificate");
    // Node 3 is cut off while the others run well past a few checkpoints.
    w.dropIf = (from, to, env) => from === 3 || to === 3 || withholding(from, to, env);
    const ids = await submitOps(w, 14, [0, 1, 2]);
    const n1 = () => w.nodes[1]!.replica!.state;
    await runUntil(w, () => n1().lastExecuted >= 14 && n1().stable.seq >= 12, 400);
    expect(w.checker.certifiedOps.size).toBe(0); // nodes 1 and 2 alone are too few signers
    // Longer than the old give-up bound: time alone must not drop those seqs.
    await runTicks(w, 2 * CONFIG.uncertifiedGiveUpTicks!);
    w.dropIf = withholding;
    await runUntil(w, allCertified(w, ids), 600);
    const lagging = w.nodes[3]!.replica!;
    expect(lagging.stats["state_transfer.adopted"]).toBeGreaterThanOrEqual(1);
    expect(lagging.stats["share.endorsed"]).toBeGreaterThanOrEqual(1);
  });

  it("restart: in-flight batches complete in the same view (votes are re-sent, not only awaited)", async () => {
    const w = await world(33);
    // Every node prepares seq 1 and sends COMMIT; no COMMIT arrives anywhere.
    w.dropIf = (_from, _to, env) => env.msg.type === "commit";
    const ids = await submitOps(w, 1);
    await runUntil(w, () => w.nodes.every((n) => n.replica!.state.slots.get(1)?.sentCommit === true), 50);
    for (const n of w.nodes) w.crash(n.id, w.tick + 1);
    w.dropIf = null;
    await runUntil(w, allCertified(w, ids), 3 * CONFIG.requestTimeoutTicks!);
    for (const n of w.nodes) expect(n.replica!.state.view).toBe(0);
  });
});
