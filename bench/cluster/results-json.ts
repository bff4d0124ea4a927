/**
 * The figures of one `npm run bench:cluster` as JSON, beside its Markdown (pure: run.ts gathers,
 * this shapes). Every field the targets name is present; a figure a partial run did not
 * measure is null, never a stand-in. CPU per op comes from the role tables of the CPU profiles
 * (profile.ts), per process of a role: a node's µs per certified op is the four nodes' samples over
 * the ops over 4, a replica's apply the three replicas' over 3; the edge write is the edge Worker's
 * and the origin replica's `submit` per accepted op (the HTTP handling of the benchmark's own
 * polls is in the edge Worker's row too, so it is an upper bound).
 */
import type { MemorySample } from "./memory.js";
import type { RoleTable } from "./profile.js";

/** The certified-write model's terms (ms): three message delays, the primary's batching, a queue hop. */
export interface WriteModel {
  messageDelaysMs: number;
  batchingMs: number;
  queueHopMs: number;
}

export const modelMs = (m: WriteModel): number => m.messageDelaysMs + m.batchingMs + m.queueHopMs;

/** The model at node hops delayed uniformly in [min, max] ms: 3 × the mean hop. */
export function writeModel(
  delayMs: readonly [number, number],
  batchingMs: number,
  queueHopMs: number,
): WriteModel {
  return { messageDelaysMs: (3 * (delayMs[0] + delayMs[1])) / 2, batchingMs, queueHopMs };
}

interface Lat {
  lat: { p50: number };
}
interface IngressFigures {
  certifiedFraction: number | null;
  lagP99: number | null;
  accepted: number;
  certifiedOps: number | null;
  longestGapMs: number | null;
}

export interface ClusterJsonInput {
  date: string;
  /** The flags that differ from the defaults ("" values for booleans). */
  flags: Record<string, string>;
  machine: { cpus: number; model: string; loadavg: number[] };
  nodes: number;
  replicas: number;
  baseline?: Lat;
  cluster?: { ingress: IngressFigures; serial: Lat; certified: Lat };
  delay?: {
    ingress: IngressFigures & { viewChanges: number | null };
    certified: Lat;
    delayMs: [number, number];
  };
  model: WriteModel;
  roles?: Pick<RoleTable, "ops" | "rows">;
  rolesAlone?: Pick<RoleTable, "ops" | "rows">;
  alone?: {
    ops: number;
    certified: number;
    certifiedOpsPerSec: number;
    longestGapMs: number;
    gapOpen: boolean;
    stalled: boolean;
    /** The nodes' workerd CPU per certified op (ms), when they run as a process of their own. */
    nodesCpuMsPerOp?: number | null;
  };
  memory?: {
    start: MemorySample;
    afterRun: MemorySample & { certifiedOps: number };
    afterIdle: (MemorySample & { idleS: number }) | null;
  };
  /** wrangler's reloads of the Worker per setup (each answers in-flight writes 503): 0 expected. */
  workerReloads: Record<string, number>;
}

const sumRows = (t: Pick<RoleTable, "rows">, pick: (role: string) => boolean) =>
  t.rows.filter((r) => pick(r.role)).reduce((n, r) => n + r.ms, 0);

/** µs per op per process of a role, or null without the profile (or ops). */
function usPerOp(
  t: Pick<RoleTable, "ops" | "rows"> | undefined,
  pick: (role: string) => boolean,
  processes: number,
): number | null {
  if (!t || t.ops <= 0) return null;
  return (sumRows(t, pick) * 1000) / t.ops / processes;
}

const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || !(b > 0) || !Number.isFinite(a) ? null : a / b;

const sum = (xs: readonly number[]) => xs.reduce((n, x) => n + x, 0);

function memoryFigures(m: MemorySample) {
  return {
    rssMiB: sum(m.rssMiB),
    rssMiBPerProcess: m.rssMiB,
    heapUsedMiB: m.heapUsedMiB,
    heapTotalMiB: m.heapTotalMiB,
  };
}

export function clusterJson(r: ClusterJsonInput) {
  const finite = (x: number | null | undefined) =>
    x === null || x === undefined || !Number.isFinite(x) ? null : x;
  return {
    date: r.date,
    flags: r.flags,
    machine: r.machine,
    aloneCertifiedOpsPerSec: finite(r.alone?.certifiedOpsPerSec),
    aloneLongestGapMs: finite(r.alone?.longestGapMs),
    aloneStalled: r.alone ? r.alone.stalled || r.alone.gapOpen : null,
    alone: r.alone ? { ops: r.alone.ops, certified: r.alone.certified, gapOpen: r.alone.gapOpen } : null,
    cpuUsPerOp: {
      // the nodes' own workerd process, from /proc (SQLite, RPC and the runtime included), when the
      // nodes run apart; else their sampled JS (a lower bound: see profile.ts on unsampled time)
      node: finite(
        r.alone?.nodesCpuMsPerOp != null
          ? (r.alone.nodesCpuMsPerOp * 1000) / r.nodes
          : usPerOp(r.rolesAlone, (x) => x.startsWith("PBFT node:"), r.nodes),
      ),
      replicaApply: finite(
        usPerOp(r.rolesAlone, (x) => x === "replicas: apply certified batches", r.replicas),
      ),
      edgeWrite: finite(
        usPerOp(r.roles, (x) => x.startsWith("edge Worker") || x.startsWith("origin replica: submit"), 1),
      ),
    },
    ingress: r.cluster
      ? {
          certifiedFraction: finite(r.cluster.ingress.certifiedFraction),
          lagP99Ms: finite(r.cluster.ingress.lagP99),
          accepted: r.cluster.ingress.accepted,
          certifiedOps: r.cluster.ingress.certifiedOps,
          longestGapMs: finite(r.cluster.ingress.longestGapMs),
        }
      : { certifiedFraction: null, lagP99Ms: null },
    delayed: r.delay
      ? {
          delayMs: r.delay.delayMs,
          viewChanges: r.delay.ingress.viewChanges,
          certifiedFraction: finite(r.delay.ingress.certifiedFraction),
          certifiedWriteP50Ms: finite(r.delay.certified.lat.p50),
          modelMs: modelMs(r.model),
          model: r.model,
          accepted: r.delay.ingress.accepted,
          certifiedOps: r.delay.ingress.certifiedOps,
        }
      : { viewChanges: null, certifiedFraction: null, certifiedWriteP50Ms: null, modelMs: modelMs(r.model) },
    writer: {
      ratio: finite(ratio(r.cluster?.serial.lat.p50, r.baseline?.lat.p50)),
      ecWriteP50Ms: finite(r.cluster?.serial.lat.p50),
      baselineP50Ms: finite(r.baseline?.lat.p50),
      certifiedWriteP50Ms: finite(r.cluster?.certified.lat.p50),
    },
    memory: r.memory
      ? {
          start: memoryFigures(r.memory.start),
          afterRun: { certifiedOps: r.memory.afterRun.certifiedOps, ...memoryFigures(r.memory.afterRun) },
          afterIdle: r.memory.afterIdle
            ? { idleS: r.memory.afterIdle.idleS, ...memoryFigures(r.memory.afterIdle) }
            : null,
        }
      : null,
    workerReloads: r.workerReloads,
  };
}

export type ClusterJson = ReturnType<typeof clusterJson>;

/** The JSON beside a Markdown result: `x.md` → `x.json` (any other name gains `.json`). */
export const jsonPathOf = (mdPath: string): string =>
  /\.md$/.test(mdPath) ? mdPath.replace(/\.md$/, ".json") : `${mdPath}.json`;
