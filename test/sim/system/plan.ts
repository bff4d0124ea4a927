/**
 * Everything about a system run is decided from its seed here, first, so a plan prints and
 * replays: the PBFT config and its Byzantine node (the PBFT simulator's behaviours), the two
 * channels' faults, crash rates of replicas and nodes, the clients' mix.
 */
import type { PbftConfig } from "../../../shared/pbft/config.js";
import { BYZANTINE_BEHAVIOURS, type ByzantineBehaviour } from "../modes.js";
import { simTimingConfig } from "../plan.js";
import { Prng } from "../prng.js";

/** A channel's faults during the fault phase (after healing: no loss, few duplicates, short delays). */
export interface ChannelFaults {
  loss: number;
  dup: number;
  delayMax: number;
}

export interface SystemPlan {
  seed: number;
  quick: boolean;
  crypto: "stand-in" | "ed25519";
  /** At most one Byzantine PBFT node (f = 1). */
  byzantine: { node: number; behaviours: ByzantineBehaviour[] } | null;
  /** At most one Byzantine replica: it lies in the entries it sends (per entry, `replicaLieRate`). */
  byzantineReplica: number | null;
  replicaLieRate: number;
  /** The Byzantine node also posts tampered certified batches to replicas (per tick). */
  byzantinePostRate: number;
  config: Partial<PbftConfig>;
  faultTicks: number;
  /** Between replicas (the replicate queue and anti-entropy answers). */
  replicate: ChannelFaults;
  /** From nodes to replicas (posts, fallback posts, catch-up answers). */
  certificates: ChannelFaults;
  /** Among the PBFT nodes. */
  pbft: ChannelFaults;
  /** Chance per tick that an up replica crashes (restarting 5–60 ticks later). */
  replicaCrashRate: number;
  /** Chance per client write that its replica dies inside the write's transaction. */
  crashInWriteRate: number;
  /** Chance per tick that a correct node crashes (f = 1: only if no node is Byzantine). */
  nodeCrashRate: number;
  /** Chance per tick that a client acts. */
  opRate: number;
  /** Chance per tick that a reading client sends one verified request (readers.ts). */
  readRate: number;
  /** Chance per reply that the Byzantine replica lies to a reading client (lying-replies.ts). */
  replyLieRate: number;
  /** Chance per message of a Byzantine replica or node that it plays a boundary trick (boundary-tricks.ts). */
  trickRate: number;
  /** Chance per replica step on peer entries or a certified batch that the replica dies inside it. */
  crashMidStepRate: number;
  /** Of the nodes' crashes, the share that strikes inside a step that writes (storage.ts `armCrash`). */
  nodeCrashInStepShare: number;
}

export function systemPlanFor(seed: number, quick: boolean): SystemPlan {
  const rng = new Prng(seed ^ 0x5157);
  const channel = (): ChannelFaults => ({
    loss: rng.pick([0, 0.05, 0.2, 0.4]),
    dup: rng.pick([0, 0.05, 0.2]),
    delayMax: rng.pick([1, 3, 10, 30]),
  });
  const byz = rng.chance(0.5);
  const behaviours = byz
    ? [
        ...new Set([
          rng.pick(BYZANTINE_BEHAVIOURS),
          ...(rng.chance(0.4) ? [rng.pick(BYZANTINE_BEHAVIOURS)] : []),
        ]),
      ]
    : [];
  return {
    seed,
    quick,
    // every 10th seed signs client ops and certificates with real Ed25519 (as the PBFT sweep does)
    crypto: seed % 10 === 0 ? "ed25519" : "stand-in",
    byzantine: byz ? { node: rng.int(0, 3), behaviours } : null,
    byzantinePostRate: byz ? rng.pick([0, 0.05, 0.2]) : 0,
    // drawn from a PRNG of its own, so the rest of each seed's plan is what it was without it
    ...byzantineReplicaFor(seed),
    ...readersFor(seed),
    config: {
      ...simTimingConfig(rng),
      heartbeatTicks: rng.pick([0, 40, 120]),
    },
    faultTicks: quick ? rng.int(60, 120) : rng.int(200, 400),
    replicate: channel(),
    certificates: channel(),
    pbft: { loss: rng.pick([0, 0.02, 0.1]), dup: rng.pick([0, 0.05]), delayMax: rng.pick([1, 3, 8]) },
    replicaCrashRate: rng.pick([0, 0.003, 0.01]),
    crashInWriteRate: rng.pick([0, 0.02]),
    nodeCrashRate: byz ? 0 : rng.pick([0, 0.003, 0.01]),
    opRate: rng.pick([0.15, 0.3, 0.5]),
  };
}

function byzantineReplicaFor(seed: number): { byzantineReplica: number | null; replicaLieRate: number } {
  const rng = new Prng(seed ^ 0xb12e);
  return rng.chance(0.3)
    ? { byzantineReplica: rng.int(0, 2), replicaLieRate: rng.pick([0.1, 0.3, 0.8]) }
    : { byzantineReplica: null, replicaLieRate: 0 };
}

/** The reading clients', the boundary tricks' and the mid-step crashes' rates, from a PRNG of their own (so the rest of a seed's plan is unchanged). */
function readersFor(seed: number) {
  const rng = new Prng(seed ^ 0x7ead);
  return {
    readRate: rng.pick([0.1, 0.2, 0.4]),
    replyLieRate: rng.pick([0.2, 0.5, 0.9]),
    trickRate: rng.pick([0.05, 0.2, 0.5]),
    crashMidStepRate: rng.pick([0, 0.005, 0.02]),
    nodeCrashInStepShare: rng.pick([0, 0.5, 1]),
  };
}

/** The command that runs exactly this seed again. */
export const systemReplayCommand = (plan: SystemPlan): string =>
  `npm run sim:system -- --seed ${plan.seed}${plan.quick ? " --quick" : ""}`;
