/**
 * Everything about a run is decided from its seed here, first, so a plan prints and replays:
 * the seed draws its modes (modes.ts) from the eligible ones, and the modes decide the faults.
 */
import type { PbftConfig } from "../../shared/pbft/config.js";
import {
  BYZANTINE_BEHAVIOURS,
  isByzantineBehaviour,
  MODES,
  type ByzantineBehaviour,
  type Mode,
} from "./modes.js";
import { Prng } from "./prng.js";
import type { CrashPoint } from "./storage.js";

/**
 * The core's timing and bounds in a simulated cluster, scaled to its short runs (ticks of 10 ms), with
 * the batch size and checkpoint interval drawn from the seed: the PBFT sweep's and the whole-system
 * simulator's plans alike (the two draws, in this order, are part of each seed's plan).
 */
export const simTimingConfig = (rng: Prng): Partial<PbftConfig> => ({
  batchSizeMax: rng.pick([1, 3, 10]),
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
});

/**
 * `full` (the CLI's default) runs longer fault phases; `quick` (the vitest seed sweep) shorter
 * ones with the same kinds of faults, to keep 200+ seeds within the test budget.
 */
export type PlanProfile = "full" | "quick";

export interface SeedPlan {
  seed: number;
  profile: PlanProfile;
  /** The modes this seed could draw from (null: all of them). */
  eligible: Mode[] | null;
  /** The modes it drew (after fitting them into the f budget). */
  modes: Mode[];
  f: number;
  crypto: "stand-in" | "ed25519";
  byzantine: { node: number; behaviours: ByzantineBehaviour[] }[];
  byzantineCrash: boolean;
  loseWrites: { node: number; syncEverySteps: number } | null;
  config: Partial<PbftConfig>;
  faultTicks: number;
  loss: number;
  dup: number;
  delayMax: number;
  longDelay: { p: number; maxTicks: number } | null;
  /** Per tick: chance of holding one node's messages back, and for how long at most. */
  holdRate: number;
  holdTicksMax: number;
  skewMaxMs: number;
  partitionRate: number;
  crashRate: number;
  /** Per tick: chance of arming a crash inside a correct node's next writing step, and where. */
  crashPersistRate: number;
  crashPoints: CrashPoint[];
  /** Per tick: chance of cutting one correct node off for a while (so it falls behind). */
  isolateRate: number;
  /** Per tick: chance of holding back what the current primary sends (so views change). */
  primaryHoldRate: number;
  deployAt: number | null;
  opRate: number;
  bigOps: boolean;
  /** Test-only: once this seq is certified, feed the checker a conflicting body (a planted failure). */
  plantAtSeq: number | null;
}

/** Chance that each eligible mode is drawn (at least one always is). */
const MODE_CHANCE = 0.3;
const TIME_SKEW_MAX_MS = 2_000;

export function planFor(
  seed: number,
  opts: { profile?: PlanProfile; modes?: readonly Mode[] | null; plantAtSeq?: number | null } = {},
): SeedPlan {
  const profile = opts.profile ?? "full";
  const quick = profile === "quick";
  const eligible = opts.modes && opts.modes.length ? [...opts.modes] : null;
  const rng = new Prng(seed ^ 0x5eed);
  const pool = eligible ?? MODES;
  let modes = pool.filter(() => rng.chance(MODE_CHANCE));
  if (modes.length === 0) modes = [rng.pick(pool)];
  const has = (m: Mode) => modes.includes(m);

  const f = has("f2") ? 2 : 1;
  const n = 3 * f + 1;
  let behaviours = modes.filter(isByzantineBehaviour);
  if (has("byz-crash") && behaviours.length === 0) {
    const b = rng.pick(BYZANTINE_BEHAVIOURS);
    behaviours = [b];
    modes.push(b);
  }
  // Faulty nodes (Byzantine ones and a node that loses writes) fit in f.
  let loseWrites = has("lose-writes");
  if (loseWrites && behaviours.length && f === 1) {
    if (rng.chance(0.5)) loseWrites = false;
    else behaviours = [];
  }
  const byzCount =
    behaviours.length === 0
      ? 0
      : f - (loseWrites ? 1 : 0) >= 2 && behaviours.length >= 2 && rng.chance(0.7)
        ? 2
        : 1;
  const lists: ByzantineBehaviour[][] = Array.from({ length: byzCount }, () => []);
  for (const b of behaviours) lists[rng.int(0, byzCount - 1)]!.push(b);
  for (let i = 0; i < lists.length; i++)
    if (lists[i]!.length === 0) lists[i]!.push(lists[(i + 1) % lists.length]!.pop()!);
  // A silent node does nothing else, so silence shares a node with nothing: mostly the other
  // behaviours win (they would never show), sometimes silence does.
  for (let i = 0; i < lists.length; i++) {
    const l = lists[i]!;
    if (l.includes("silent") && l.length > 1)
      lists[i] = rng.chance(0.25) ? ["silent"] : l.filter((b) => b !== "silent");
  }
  const free = Array.from({ length: n }, (_, i) => i);
  const take = (preferred: number | null): number => {
    const i = preferred !== null && free.includes(preferred) ? preferred : rng.pick(free);
    free.splice(free.indexOf(i), 1);
    return i;
  };
  const byzantine = lists.map((bs) => ({
    // An equivocating primary is most useful as primary of view 0, a NEW-VIEW equivocator of view 1.
    node: take(
      bs.includes("equivocate") && rng.chance(0.6)
        ? 0
        : bs.includes("new-view-equivocate") && rng.chance(0.6)
          ? 1
          : null,
    ),
    behaviours: bs,
  }));
  const lw = loseWrites ? { node: take(null), syncEverySteps: rng.int(2, 8) } : null;
  const assigned = new Set(byzantine.flatMap((b) => b.behaviours));
  modes = modes.filter((m) =>
    isByzantineBehaviour(m) ? assigned.has(m) : m !== "lose-writes" || lw !== null,
  );
  if (!byzantine.length) modes = modes.filter((m) => m !== "byz-crash");
  const big = has("big");

  return {
    seed,
    profile,
    eligible,
    modes,
    f,
    crypto: seed % 10 === 0 ? "ed25519" : "stand-in",
    byzantine,
    byzantineCrash: has("byz-crash"),
    loseWrites: lw,
    config: {
      ...simTimingConfig(rng),
      timeSkewMaxMs: TIME_SKEW_MAX_MS,
      // Near the limits: a batch of 10 big ops is ~80 KB, a VIEW-CHANGE of 16 of them ~1.3 MB.
      ...(big ? { messageBytesMax: 256 * 1024, bulkMessageBytesMax: 8 * 1024 * 1024, relayOpsMax: 24 } : {}),
      heartbeatTicks: heartbeatFor(seed),
    },
    // n = 7 costs about three times n = 4 per tick (messages grow with n²): its quick plans are shorter.
    faultTicks: quick ? (f === 2 ? rng.int(50, 100) : rng.int(80, 160)) : rng.int(150, 350),
    loss: has("loss") ? rng.pick([0.02, 0.1, 0.25]) : 0,
    dup: has("loss") ? rng.pick([0.05, 0.2]) : 0,
    delayMax: rng.pick([1, 3, 8]),
    longDelay: has("long-delay")
      ? { p: rng.pick([0.02, 0.1, 0.3]), maxTicks: rng.pick([60, 150, 400, 700]) }
      : null,
    holdRate: has("hold") ? rng.pick([0.01, 0.03]) : 0,
    holdTicksMax: rng.pick([60, 150, 300]),
    // Pairwise at most 90% of the bound: a proposal also ages in transit.
    skewMaxMs: has("skew") ? 0.45 * TIME_SKEW_MAX_MS : 200,
    partitionRate: has("partition") ? rng.pick([0.005, 0.02]) : 0,
    crashRate: has("crash") ? rng.pick([0.003, 0.01, 0.02]) : 0,
    crashPersistRate: has("crash-persist") || has("mid-persist") ? rng.pick([0.01, 0.03]) : 0,
    crashPoints: [
      ...(has("crash-persist") ? (["after-persist", "before-persist"] as const) : []),
      ...(has("mid-persist") ? (["mid-persist"] as const) : []),
    ],
    // The attacks that need a victim behind the others, or views that change, get them.
    isolateRate: has("tamper-state") || has("withhold-shares") ? 0.02 : 0,
    primaryHoldRate: has("new-view-equivocate") || has("hostile-bulk") ? 0.02 : 0,
    deployAt: has("deploy") ? rng.int(20, quick ? 70 : 180) : null,
    opRate: rng.pick([0.1, 0.3, 0.6]),
    bigOps: big,
    plantAtSeq: opts.plantAtSeq ?? null,
  };
}

/**
 * Half the seeds run with a heartbeat (an idle primary's empty batches), short enough to meet every
 * fault mode. Drawn from a PRNG of its own, so the rest of every seed's plan is what it was.
 */
const heartbeatFor = (seed: number): number => new Prng(seed ^ 0xbea7).pick([0, 0, 15, 40, 120]);

/** The command that runs exactly this plan again. */
export function replayCommand(plan: SeedPlan): string {
  const args = ["--seed", String(plan.seed)];
  if (plan.profile === "quick") args.push("--quick");
  if (plan.eligible) args.push("--modes", plan.eligible.join(","));
  if (plan.plantAtSeq !== null) args.push("--plant-at-seq", String(plan.plantAtSeq));
  return `npm run sim -- ${args.join(" ")}`;
}
