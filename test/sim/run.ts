/**
 * One seeded simulation: a fault phase (loss, duplication, delay, partitions, crash-restarts, a
 * deploy that restarts every node at once, one Byzantine node), then healing and a liveness phase:
 * every op a correct node accepted must be certified within `LIVENESS_BOUND_TICKS`.
 * Safety and invariants are checked after every step (see world.ts and checker.ts).
 */
import { createHash } from "node:crypto";
import { merkleStateMachines } from "../../shared/certified/state-machine.js";
import { useNativeSha256 } from "../../shared/hash.js";
import type { PbftConfig } from "../../shared/pbft/config.js";
import { BYZANTINE_MODES, type ByzantineMode } from "./byzantine.js";
import { Prng } from "./prng.js";
import { World } from "./world.js";

useNativeSha256((d) => new Uint8Array(createHash("sha256").update(d).digest()));

/** After healing, every owed op is certified within this many ticks. */
export const LIVENESS_BOUND_TICKS = 3000;

export interface SeedPlan {
  seed: number;
  crypto: "stand-in" | "ed25519";
  byzantine: { node: number; mode: ByzantineMode } | null;
  config: Partial<PbftConfig>;
  faultTicks: number;
  loss: number;
  dup: number;
  delayMax: number;
  partitionRate: number;
  crashRate: number;
  deployAt: number | null;
  opRate: number;
}

export interface SeedResult {
  seed: number;
  ok: boolean;
  plan: SeedPlan;
  error?: string;
  trace?: string;
  summary: string;
  certifiedSeqs: number;
  certifiedOps: number;
  owedOps: number;
  ticksToLive: number;
  viewChanges: number;
  stateTransfers: number;
  rejected: number;
}

/** Everything about a run is decided from the seed here, first, so a plan prints and replays. */
/**
 * `full` (the CLI) runs longer fault phases; `quick` (the vitest seed sweep) shorter ones with the
 * same kinds of faults, to keep 200+ seeds within the test budget.
 */
export type PlanProfile = "full" | "quick";

export function planFor(
  seed: number,
  overrides: Partial<SeedPlan> = {},
  profile: PlanProfile = "full",
): SeedPlan {
  const quick = profile === "quick";
  const rng = new Prng(seed ^ 0x5eed);
  const byzMode: ByzantineMode | null = rng.chance(0.75) ? rng.pick(BYZANTINE_MODES) : null;
  const batchSizeMax = rng.pick([1, 3, 10]);
  return {
    seed,
    crypto: seed % 10 === 0 ? "ed25519" : "stand-in",
    byzantine: byzMode
      ? { node: byzMode === "equivocate" && rng.chance(0.7) ? 0 : rng.int(0, 3), mode: byzMode }
      : null,
    config: {
      batchSizeMax,
      poolSizeMax: 400,
      checkpointIntervalSeqs: rng.pick([2, 4, 8]),
      logWindowSeqs: 16,
      requestTimeoutTicks: 60,
      viewChangeTimeoutTicks: 40,
      viewChangeTimeoutTicksMax: 640,
      relayAfterTicks: 20,
      statusIntervalTicks: 5,
      retransmitAfterTicks: 5,
      stateTransferIntervalTicks: 20,
      uncertifiedGiveUpTicks: 200,
      timeSkewMaxMs: 2_000,
    },
    faultTicks: quick ? rng.int(80, 160) : rng.int(150, 350),
    loss: rng.pick([0, 0.02, 0.1, 0.25]),
    dup: rng.pick([0, 0.05, 0.2]),
    delayMax: rng.pick([1, 3, 8]),
    partitionRate: rng.pick([0, 0.005, 0.02]),
    crashRate: rng.pick([0, 0.003, 0.01]),
    deployAt: rng.chance(0.3) ? rng.int(20, quick ? 70 : 180) : null,
    opRate: rng.pick([0.1, 0.3, 0.6]),
    ...overrides,
  };
}

export async function runSeed(
  seed: number,
  opts: { traceAll?: boolean; plan?: Partial<SeedPlan>; profile?: PlanProfile } = {},
): Promise<SeedResult> {
  const plan = planFor(seed, opts.plan, opts.profile);
  const world = await World.create({
    seed,
    crypto: plan.crypto,
    config: plan.config,
    byzantine: plan.byzantine ? [plan.byzantine] : [],
    machines: merkleStateMachines,
    traceAll: opts.traceAll,
  });
  const rng = world.rng;
  const byz = plan.byzantine?.node ?? -1;
  let ticksToLive = -1;
  const result = (ok: boolean, error?: string): SeedResult => {
    const stats = world.nodes.map((n) => n.replica?.stats ?? {});
    const sum = (k: string) => stats.reduce((a, s) => a + (s[k] ?? 0), 0);
    return {
      seed,
      ok,
      plan,
      ...(error ? { error, trace: world.traceTail() } : {}),
      summary: world.summary(),
      certifiedSeqs: world.checker.replayedSeq,
      certifiedOps: world.checker.certifiedOps.size,
      owedOps: world.owed.size,
      ticksToLive,
      viewChanges: sum("view_change.installed"),
      stateTransfers: sum("state_transfer.adopted"),
      rejected: world.nodes.reduce(
        (a, n) =>
          a + (n.boundary.stats["drop.malformed"] ?? 0) + (n.boundary.stats["drop.bad_signature"] ?? 0),
        0,
      ),
    };
  };

  try {
    // Fault phase.
    world.net.loss = plan.loss;
    world.net.dup = plan.dup;
    world.net.delayMax = plan.delayMax;
    let partitionUntil = -1;
    for (let t = 0; t < plan.faultTicks; t++) {
      if (world.tick === plan.deployAt) {
        for (let i = 0; i < world.n; i++) world.crash(i, world.tick + rng.int(1, 10));
        world.log("DEPLOY: every node restarts");
      }
      if (partitionUntil < world.tick && world.net.partition) {
        world.net.partition = null;
        world.log("partition healed");
      }
      if (!world.net.partition && rng.chance(plan.partitionRate)) {
        world.net.partition = world.nodes.map(() => rng.int(0, 1));
        partitionUntil = world.tick + rng.int(10, 100);
        world.log(`partition ${world.net.partition.join("")} until T${partitionUntil}`);
      }
      if (rng.chance(plan.crashRate)) {
        const i = rng.int(0, world.n - 1);
        if (i !== byz) world.crash(i, world.tick + rng.int(5, 80));
      }
      await submitSome(world, plan.opRate);
      await world.runTick();
    }

    // Heal: the network is fair again, crashed nodes come back; the Byzantine node stays Byzantine.
    world.net.partition = null;
    world.net.loss = 0;
    world.net.dup = 0.02;
    world.net.delayMax = 2;
    for (let i = 0; i < world.n; i++) await world.restart(i);
    world.log("HEALED");
    const healedAt = world.tick;
    for (let t = 0; t < 30; t++) {
      await submitSome(world, plan.opRate);
      await world.runTick();
    }
    while (world.uncertifiedOwed().length > 0) {
      if (world.tick - healedAt > LIVENESS_BOUND_TICKS)
        return result(
          false,
          `liveness: ${world.uncertifiedOwed().length} ops not certified ${LIVENESS_BOUND_TICKS} ticks after healing`,
        );
      await world.runTick();
    }
    ticksToLive = world.tick - healedAt;
    return result(true);
  } catch (e) {
    return result(false, (e as Error).stack ?? String(e));
  }
}

async function submitSome(world: World, rate: number): Promise<void> {
  const rng = world.rng;
  if (!rng.chance(rate)) return;
  const op = await world.makeOp();
  const to = rng.chance(0.8) ? world.nodes.map((n) => n.id) : [rng.int(0, world.n - 1)];
  // A duplicate submission now and then: dedupe by op id.
  await world.submit(op, to);
  if (rng.chance(0.05)) await world.submit(op, to);
}

export function formatFailure(r: SeedResult): string {
  return [
    `SEED ${r.seed} FAILED — replay: npm run sim -- --seed ${r.seed} --trace`,
    `plan: ${JSON.stringify(r.plan)}`,
    `error: ${r.error}`,
    `state:\n${r.summary}`,
    `trace (last lines):\n${r.trace ?? ""}`,
  ].join("\n");
}
