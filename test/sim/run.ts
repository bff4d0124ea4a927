/**
 * One seeded simulation: a fault phase (whatever the seed's modes inject: see plan.ts), then
 * healing and a liveness phase: with at most f faulty nodes (which stay faulty) and a fair network,
 * every op a correct node accepted must be certified within `LIVENESS_BOUND_TICKS`.
 * Safety and invariants (the deep check included) are checked after every step (world.ts, checker.ts).
 */
import { createHash } from "node:crypto";
import { useNativeSha256 } from "../../shared/hash.js";
import { OPEN_REJECTIONS, type OpenDrop } from "../../shared/pbft/boundary.js";
import { primaryOf } from "../../shared/pbft/config.js";
import { flip } from "./byzantine.js";
import type { Mode } from "./modes.js";
import { planFor, replayCommand, type PlanProfile, type SeedPlan } from "./plan.js";
import { World } from "./world.js";

export { planFor, replayCommand, type PlanProfile, type SeedPlan } from "./plan.js";

useNativeSha256((d) => new Uint8Array(createHash("sha256").update(d).digest()));

/** After healing, every owed op is certified within this many ticks. */
export const LIVENESS_BOUND_TICKS = 3000;

export interface SeedResult {
  seed: number;
  ok: boolean;
  plan: SeedPlan;
  /** "safety", "crash" (an exception), "liveness". */
  failure?: "safety" | "crash" | "liveness";
  error?: string;
  trace?: string;
  summary: string;
  certifiedSeqs: number;
  certifiedOps: number;
  owedOps: number;
  ticksToLive: number;
  viewChanges: number;
  stateTransfers: number;
  /** Messages refused at a boundary (every drop reason but `redundant`). */
  rejected: number;
  /** Boundary drops by reason, `redundant` included. */
  drops: Partial<Record<OpenDrop, number>>;
  faults: Record<string, number>;
  ms: number;
}

export interface RunOptions {
  traceAll?: boolean;
  profile?: PlanProfile;
  modes?: readonly Mode[] | null;
  plantAtSeq?: number | null;
}

export async function runSeed(seed: number, opts: RunOptions = {}): Promise<SeedResult> {
  const t0 = Date.now();
  const plan = planFor(seed, opts);
  const world = await World.create({
    seed,
    f: plan.f,
    crypto: plan.crypto,
    config: plan.config,
    byzantine: plan.byzantine,
    loseWrites: plan.loseWrites ? [plan.loseWrites] : [],
    skewMaxMs: plan.skewMaxMs,
    bigOps: plan.bigOps,
    traceAll: opts.traceAll,
  });
  const rng = world.rng;
  const byz = new Set(plan.byzantine.map((b) => b.node));
  const lw = plan.loseWrites?.node ?? -1;
  const correct = world.nodes.filter((nd) => world.isCorrect(nd.id)).map((nd) => nd.id);
  let ticksToLive = -1;
  let planted = false;
  const result = (ok: boolean, error?: string, failure?: SeedResult["failure"]): SeedResult => {
    const stats = world.nodes.map((n) => n.replica?.stats ?? {});
    const sum = (k: string) => stats.reduce((a, s) => a + (s[k] ?? 0), 0);
    return {
      seed,
      ok,
      plan,
      ...(error ? { error, failure, trace: world.traceTail() } : {}),
      summary: world.summary(),
      certifiedSeqs: world.checker.replayedSeq,
      certifiedOps: world.checker.certifiedOps.size,
      owedOps: world.owed.size,
      ticksToLive,
      viewChanges: sum("view_change.installed"),
      stateTransfers: sum("state_transfer.adopted"),
      rejected: OPEN_REJECTIONS.reduce((a, reason) => a + (world.drops[reason] ?? 0), 0),
      drops: world.drops,
      faults: world.faults,
      ms: Date.now() - t0,
    };
  };

  /** Test-only: a conflicting body for a certified seq, as if a correct node had executed it. */
  const plant = () => {
    if (plan.plantAtSeq === null || planted || world.checker.replayedSeq < plan.plantAtSeq) return;
    planted = true;
    const b = world.checker.certified.get(plan.plantAtSeq)!;
    world.log(`PLANTED a conflicting body at seq ${plan.plantAtSeq}`);
    world.checker.onExecuted(correct[0]!, { ...b, body: { ...b.body, stateRoot: flip(b.body.stateRoot) } });
  };

  /** Faults that go on after healing: faulty nodes stay faulty. */
  const faultyNodesMisbehave = () => {
    if (lw >= 0 && rng.chance(0.02)) world.crash(lw, world.tick + rng.int(1, 30));
    if (plan.byzantineCrash && byz.size && rng.chance(0.01))
      world.crash(rng.pick([...byz]), world.tick + rng.int(5, 80));
  };

  try {
    // Fault phase.
    world.net.loss = plan.loss;
    world.net.dup = plan.dup;
    world.net.delayMax = plan.delayMax;
    world.net.longDelay = plan.longDelay;
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
        if (world.isCorrect(i)) world.crash(i, world.tick + rng.int(5, 80));
      }
      if (rng.chance(plan.crashPersistRate)) {
        const i = rng.pick(correct);
        const point = rng.pick(plan.crashPoints);
        world.armCrash(i, point, world.tick + rng.int(1, 40));
      }
      if (rng.chance(plan.holdRate) && !(world.net.hold && world.net.hold.untilTick > world.tick)) {
        const node = rng.int(0, world.n - 1);
        const dir = rng.pick(["out", "in", "both"] as const);
        world.net.hold = { node, dir, untilTick: world.tick + rng.int(10, plan.holdTicksMax) };
        world.log(`HOLD n${node} ${dir} until T${world.net.hold.untilTick}`);
      }
      if (rng.chance(plan.primaryHoldRate) && !(world.net.hold && world.net.hold.untilTick > world.tick)) {
        const view = Math.max(...correct.map((i) => world.nodes[i]!.replica?.state.view ?? 0));
        const node = primaryOf(view, world.n);
        world.net.hold = { node, dir: "out", untilTick: world.tick + rng.int(40, 150) };
        world.log(`HOLD primary n${node} of view ${view} until T${world.net.hold.untilTick}`);
      }
      if (rng.chance(plan.isolateRate) && !(world.net.cut && world.net.cut.untilTick > world.tick)) {
        const node = rng.pick(correct);
        world.net.cut = { node, untilTick: world.tick + rng.int(30, 120) };
        world.log(`CUT n${node} off until T${world.net.cut.untilTick}`);
      }
      faultyNodesMisbehave();
      await submitSome(world, plan.opRate);
      await world.runTick();
      plant();
    }

    // Heal: the network is fair again, crashed correct nodes come back; faulty nodes stay faulty.
    world.net.heal();
    for (const i of correct) {
      world.nodes[i]!.storage.armed = null;
      await world.restart(i);
    }
    if (plan.byzantineCrash) for (const i of byz) await world.restart(i);
    world.log("HEALED");
    const healedAt = world.tick;
    for (let t = 0; t < 30; t++) {
      faultyNodesMisbehave();
      await submitSome(world, plan.opRate);
      await world.runTick();
      plant();
    }
    while (world.uncertifiedOwed().length > 0) {
      if (world.tick - healedAt > LIVENESS_BOUND_TICKS)
        return result(
          false,
          `liveness: ${world.uncertifiedOwed().length} ops not certified ${LIVENESS_BOUND_TICKS} ticks after healing`,
          "liveness",
        );
      faultyNodesMisbehave();
      await world.runTick();
      plant();
    }
    ticksToLive = world.tick - healedAt;
    return result(true);
  } catch (e) {
    const err = e as Error;
    return result(false, err.stack ?? String(e), err.name === "SafetyViolation" ? "safety" : "crash");
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
    `SEED ${r.seed} FAILED (${r.failure}; modes ${r.plan.modes.join(",")}) — replay: ${replayCommand(r.plan)}   (add --trace to print every event)`,
    `plan: ${JSON.stringify(r.plan)}`,
    `error: ${r.error}`,
    `state:\n${r.summary}`,
    `trace (last lines):\n${r.trace ?? ""}`,
  ].join("\n");
}
