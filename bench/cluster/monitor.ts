/**
 * Certification as the nodes and replicas tell it, beside the benchmark's certificate poll: every
 * `everyMs`, `GET /v1/cluster/status` (each node's view and last executed seq) and `GET /v1/replicas`
 * (each replica's certified seq and op count), each on its own connection and with a deadline. A
 * slow or failed sample is counted and the next one taken on time: the loop never waits on a reply
 * past its deadline, and the feed never waits on the monitor.
 */
import { performance } from "node:perf_hooks";
import { PBFT_NODES } from "../../shared/cluster-config.js";
import { RequestTimeout, get, makeAgent } from "../ec/load.js";
import type { CountAt, ViewSample } from "./progress.js";
import { viewChanges } from "./progress.js";

/**
 * The sampling period. Not free: a node's `status` counts its fallback rows (a table scan, tens of
 * ms under load in a profile), so the monitor is off while a profile runs and samples once a second.
 */
export const MONITOR_EVERY_MS = 1_000;

/** A status or replicas request unanswered this long is given up (counted). */
export const MONITOR_TIMEOUT_MS = 5_000;

export interface ClusterSample {
  t: number;
  /** Per node (PBFT_NODES order): view and last executed seq; null when it did not answer. */
  views: (number | null)[];
  lastExecuted: (number | null)[];
}

export interface ReplicaSample {
  t: number;
  /** Per replica name: certified seq and op count (null: no answer from it). */
  seq: Record<string, number | null>;
  opCount: Record<string, number | null>;
}

export interface PollCounts {
  sent: number;
  failed: number;
  timedOut: number;
  slowestMs: number;
}

export interface MonitorSummary {
  samples: number;
  status: PollCounts;
  replicas: PollCounts;
  viewChanges: number | null;
  /** Per node: the last executed seq at the end, minus at the start (null: never answered). */
  nodesExecuted: Record<string, number | null>;
  /** Per replica: certified ops at the end minus at the start (null: never answered). */
  replicasCertifiedOps: Record<string, number | null>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
const emptyCounts = (): PollCounts => ({ sent: 0, failed: 0, timedOut: 0, slowestMs: 0 });

export class ClusterMonitor {
  readonly cluster: ClusterSample[] = [];
  readonly replicas: ReplicaSample[] = [];
  readonly statusCounts = emptyCounts();
  readonly replicaCounts = emptyCounts();
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly agent = makeAgent(2);

  /** `everyMs` 0: off (no sample, an empty summary), for a phase that profiles the nodes. */
  constructor(
    private readonly port: number,
    private readonly everyMs = MONITOR_EVERY_MS,
  ) {}

  get enabled(): boolean {
    return this.everyMs > 0;
  }

  start(): void {
    if (!this.enabled) return;
    this.running = true;
    this.loops = [
      this.loop(this.statusCounts, "/v1/cluster/status", (t, body) => this.onStatus(t, body)),
      this.loop(this.replicaCounts, "/v1/replicas", (t, body) => this.onReplicas(t, body)),
    ];
  }

  async stop(): Promise<MonitorSummary> {
    this.running = false;
    this.agent.destroy();
    await Promise.all(this.loops);
    return this.summary();
  }

  /** Certified op counts of `replica` over time, relative to its first sample (for mergeProgress). */
  certifiedOf(replica: string): CountAt[] {
    const xs = this.replicas.flatMap((s) => {
      const c = s.opCount[replica];
      return c === null || c === undefined ? [] : [{ t: s.t, count: c }];
    });
    const base = xs[0]?.count ?? 0;
    return xs.map((x) => ({ t: x.t, count: x.count - base }));
  }

  summary(): MonitorSummary {
    const nodesExecuted: Record<string, number | null> = {};
    PBFT_NODES.forEach((n, i) => {
      const seen = this.cluster.map((s) => s.lastExecuted[i]).filter(isCount);
      nodesExecuted[n.id] = seen.length ? seen[seen.length - 1]! - seen[0]! : null;
    });
    const names = new Set(this.replicas.flatMap((s) => Object.keys(s.opCount)));
    const replicasCertifiedOps: Record<string, number | null> = {};
    for (const name of names) {
      const c = this.certifiedOf(name);
      replicasCertifiedOps[name] = c.length ? c[c.length - 1]!.count : null;
    }
    return {
      samples: Math.max(this.cluster.length, this.replicas.length),
      status: { ...this.statusCounts },
      replicas: { ...this.replicaCounts },
      viewChanges: viewChanges(this.cluster.map((s): ViewSample => s.views)),
      nodesExecuted,
      replicasCertifiedOps,
    };
  }

  private async loop(
    counts: PollCounts,
    path: string,
    take: (t: number, body: unknown) => void,
  ): Promise<void> {
    while (this.running) {
      const t0 = performance.now();
      counts.sent++;
      try {
        const r = await get(this.agent, this.port, path, MONITOR_TIMEOUT_MS);
        const t = performance.now();
        counts.slowestMs = Math.max(counts.slowestMs, t - t0);
        if (r.status !== 200) counts.failed++;
        else take(t, JSON.parse(r.body) as unknown);
      } catch (e) {
        // stop() cuts the sample in flight short: not a failure of the cluster's
        if (!this.running) break;
        counts.failed++;
        if (e instanceof RequestTimeout) counts.timedOut++;
      }
      // the next sample on time: a slow one does not push the schedule back further
      await sleep(Math.max(0, this.everyMs - (performance.now() - t0)));
    }
  }

  private onStatus(t: number, body: unknown): void {
    const nodes = (body as { nodes?: Record<string, { view?: unknown; lastExecuted?: unknown } | null> })
      ?.nodes;
    const of = (id: string, k: "view" | "lastExecuted") => {
      const v = nodes?.[id]?.[k];
      return isCount(v) ? v : null;
    };
    this.cluster.push({
      t,
      views: PBFT_NODES.map((n) => of(n.id, "view")),
      lastExecuted: PBFT_NODES.map((n) => of(n.id, "lastExecuted")),
    });
  }

  private onReplicas(t: number, body: unknown): void {
    const b = body as {
      certification?: Record<string, { seq?: unknown; opCount?: unknown } | null>;
    };
    const seq: Record<string, number | null> = {};
    const opCount: Record<string, number | null> = {};
    for (const [name, s] of Object.entries(b?.certification ?? {})) {
      seq[name] = isCount(s?.seq) ? s.seq : null;
      opCount[name] = isCount(s?.opCount) ? s.opCount : null;
    }
    this.replicas.push({ t, seq, opCount });
  }
}
