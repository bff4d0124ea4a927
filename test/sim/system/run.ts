/**
 * One seeded system run: a fault phase (lossy, duplicating, reordering channels; replica and node
 * crashes; a write cut by its replica's crash; the plan's Byzantine node), then healing (channels
 * fair, every replica up; a Byzantine node stays Byzantine) and a liveness phase: every
 * acknowledged op must be certified at every replica within `SETTLE_BOUND_TICKS`. The checks run
 * after every step (checks.ts), the PBFT simulator's own after every node step.
 */
import { createHash } from "node:crypto";
import { useNativeSha256 } from "../../../shared/hash.js";
import type { CrashPoint } from "../storage.js";
import { SystemViolation } from "./checks.js";
import { systemPlanFor, systemReplayCommand, type SystemPlan } from "./plan.js";
import type { Plants } from "./replica.js";
import type { ReaderPlants } from "./readers.js";
import { SystemWorld } from "./world.js";

useNativeSha256((d) => new Uint8Array(createHash("sha256").update(d).digest()));

/** After healing, every acknowledged op is certified everywhere within this many ticks (10 ms each). */
export const SETTLE_BOUND_TICKS = 2000;
const CRASH_POINTS: readonly CrashPoint[] = ["before-persist", "mid-persist", "after-persist"];

export interface SystemResult {
  seed: number;
  ok: boolean;
  plan: SystemPlan;
  failure?: "violation" | "crash" | "liveness";
  error?: string;
  trace?: string;
  summary: string;
  /** Ops acknowledged by some replica (op ids). */
  acked: number;
  certifiedOps: number;
  certifiedSeqs: number;
  ticksToSettle: number;
  counts: Record<string, number>;
  /** A hash of the end state (every replica's records and clock, the trace's tail): equal runs, equal hashes. */
  fingerprint: string;
  ms: number;
}

export interface SystemRunOptions {
  quick?: boolean;
  traceAll?: boolean;
  plants?: Partial<Record<number, Plants>>;
  readerPlants?: ReaderPlants;
  laxParsers?: boolean;
  settleBoundTicks?: number;
}

export async function runSystemSeed(seed: number, opts: SystemRunOptions = {}): Promise<SystemResult> {
  const t0 = Date.now();
  const plan = systemPlanFor(seed, opts.quick ?? false);
  const w = await SystemWorld.create({
    plan,
    plants: opts.plants,
    readerPlants: opts.readerPlants,
    laxParsers: opts.laxParsers,
    traceAll: opts.traceAll,
  });
  const rng = w.rng;
  let ticksToSettle = -1;
  const result = (ok: boolean, error?: string, failure?: SystemResult["failure"]): SystemResult => ({
    seed,
    ok,
    plan,
    ...(error ? { error, failure, trace: w.pbft.traceTail(120) } : {}),
    summary: w.summary(),
    acked: w.checker.acked.size,
    certifiedOps: w.pbft.checker.certifiedOps.size,
    certifiedSeqs: w.pbft.checker.replayedSeq,
    ticksToSettle,
    counts: w.counts,
    fingerprint: w.fingerprint(),
    ms: Date.now() - t0,
  });
  const correctNodes = w.pbft.nodes.filter((n) => w.pbft.isCorrect(n.id)).map((n) => n.id);
  try {
    w.setFaults(plan.replicate, plan.certificates, plan.pbft);
    for (let t = 0; t < plan.faultTicks; t++) {
      for (const r of w.replicas) if (r.up && rng.chance(plan.replicaCrashRate)) w.crashReplica(r);
      if (rng.chance(plan.nodeCrashRate)) {
        const i = rng.pick(correctNodes);
        const restartAt = w.tick + rng.int(5, 60);
        // some crashes strike inside the node's next step that writes (before, amid or after its rows)
        if (w.crashRng.chance(plan.nodeCrashInStepShare))
          w.pbft.armCrash(i, w.crashRng.pick(CRASH_POINTS), restartAt);
        else w.pbft.crash(i, restartAt);
      }
      if (rng.chance(plan.opRate)) await w.clientActs(plan.crashInWriteRate);
      await w.runTick();
    }
    w.heal();
    for (const i of correctNodes) w.pbft.nodes[i]!.storage.armed = null;
    for (const i of correctNodes) await w.pbft.restart(i);
    for (const r of w.replicas) if (!r.up) r.restartAt = w.tick + 1;
    w.log("HEALED");
    const healedAt = w.tick;
    const bound = opts.settleBoundTicks ?? SETTLE_BOUND_TICKS;
    for (;;) {
      await w.runTick();
      const left = w.checker.unsettled(w.replicas);
      if (left.length === 0) break;
      if (w.tick - healedAt > bound)
        return result(false, `liveness: ${bound} ticks after healing: ${left.join("; ")}`, "liveness");
    }
    ticksToSettle = w.tick - healedAt;
    w.checker.checkCertifiedVersions();
    return result(true);
  } catch (e) {
    const err = e as Error;
    const violation = err instanceof SystemViolation || err.name === "SafetyViolation";
    return result(false, err.stack ?? String(e), violation ? "violation" : "crash");
  }
}

export function formatSystemFailure(r: SystemResult): string {
  return [
    `SEED ${r.seed} FAILED (${r.failure}) — replay: ${systemReplayCommand(r.plan)}   (add --trace to print every event)`,
    `plan: ${JSON.stringify(r.plan)}`,
    `error: ${r.error}`,
    `state:\n${r.summary}`,
    `trace (last lines):\n${r.trace ?? ""}`,
  ].join("\n");
}
