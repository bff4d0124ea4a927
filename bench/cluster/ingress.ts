/**
 * Sustained ingress through the edge: signed `counter.add` ops, closed loop, `connections`
 * keep-alive connections to one replica, and — with the cluster on — certification as the
 * replica's latest certificate shows it (cert-poll.ts): certified ops/s from the start until every
 * accepted op is certified, and each op's lag from its reply to its certificate. Beside that poll,
 * the nodes' and replicas' own account (monitor.ts): their op counts join the poll's in one
 * timeline, so a slow poll cannot hide certification, and the cluster's views show view changes.
 * Every request has a deadline (load.ts): one past it is counted as an error, never waited on.
 */
import { performance } from "node:perf_hooks";
import type { DevServer } from "../../test/support/wrangler-dev.js";
import { makeAgent, runLoad } from "../ec/load.js";
import { summarize } from "../ec/stats.js";
import { buildWorkload, makeClients } from "../ec/workload.js";
import { CertPoller, lagsOf, weightedPercentile, type Ack } from "./cert-poll.js";
import { ClusterMonitor, type MonitorSummary } from "./monitor.js";
import { longestGap, mergeProgress } from "./progress.js";

export const REPLICA = "weur";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface IngressResult {
  ops: number;
  acceptedOpsPerSec: number;
  ecP50: number;
  ecP99: number;
  errors: number;
  /** Writes past their deadline (counted in `errors` too). */
  timedOut: number;
  errorSamples: string[];
  /** Ops answered 200. */
  accepted: number;
  /** Accepted ops certified by the end of the drain (poll and replica stats merged). */
  certifiedOps: number | null;
  /**
   * Certified ops/s (certified ops over the time until the last of them was certified, or until
   * the drain gave up) over accepted ops/s: 1 when certification keeps pace with the writes.
   */
  certifiedFraction: number | null;
  /** The longest time with ops pending and no new certificate (ms). */
  longestGapMs: number | null;
  monitor: MonitorSummary | null;
  polls: { failed: number; timedOut: number; slowestMs: number } | null;
  /** With the cluster: ops/s from the first request until every accepted op was certified. */
  certifiedOpsPerSec: number | null;
  allCertifiedMs: number | null;
  lagP50: number | null;
  lagP99: number | null;
  /** Lag per reply, seconds since the load started (for the plot). */
  lagOverTime: { s: number; lagMs: number }[];
}

export async function runIngress(
  server: DevServer,
  o: {
    ops: number;
    connections: number;
    keys: number;
    certify: boolean;
    prefix: string;
    drainTimeoutMs?: number;
    /** The nodes' and replicas' sampling period (monitor.ts); 0 while a profile runs. */
    monitorMs?: number;
  },
): Promise<IngressResult> {
  const agent = makeAgent(o.connections + 1);
  const clients = await makeClients(o.connections);
  const load = await buildWorkload({ ops: o.ops, clients, prefix: o.prefix, keys: o.keys, sampleEvery: 0 });
  const poller = o.certify ? new CertPoller(agent, server.port, REPLICA) : undefined;
  const monitor = o.certify ? new ClusterMonitor(server.port, o.monitorMs) : undefined;
  monitor?.start();
  await poller?.start();
  const acks: Ack[] = [];
  const t0 = performance.now();
  const res = await runLoad(agent, {
    port: server.port,
    path: `/v1/ops?replica=${REPLICA}`,
    bodies: load.bodies,
    onReply: (_c, _i, status, _b, t) => {
      if (status === 200) acks.push({ t, cum: acks.length + 1 });
    },
  });
  const lat = summarize(res.latenciesMs);
  const base: IngressResult = {
    ops: o.ops,
    acceptedOpsPerSec: res.opsPerSec,
    ecP50: lat.p50,
    ecP99: lat.p99,
    errors: res.errors,
    timedOut: res.timedOut,
    errorSamples: res.errorSamples,
    accepted: acks.length,
    certifiedOps: null,
    certifiedFraction: null,
    longestGapMs: null,
    monitor: null,
    polls: null,
    certifiedOpsPerSec: null,
    allCertifiedMs: null,
    lagP50: null,
    lagP99: null,
    lagOverTime: [],
  };
  if (!poller || !monitor) {
    agent.destroy();
    return base;
  }
  const certifiedNow = () => Math.max(poller.latest, monitor.certifiedOf(REPLICA).at(-1)?.count ?? 0);
  for (const until = performance.now() + (o.drainTimeoutMs ?? 120_000); performance.now() < until;) {
    if (certifiedNow() >= acks.length) break;
    await sleep(50);
  }
  const tStop = performance.now();
  await poller.stop();
  const summary = await monitor.stop();
  agent.destroy();
  const timeline = mergeProgress(acks, poller.polls, monitor.certifiedOf(REPLICA));
  const done = timeline.find((p) => p.acked >= acks.length && p.certified >= acks.length)?.t ?? null;
  const certifiedOps = Math.min(acks.length, timeline.at(-1)?.certified ?? 0);
  // the time the last certified op showed: when all did, else the end of the drain
  const lastMs = (done ?? tStop) - t0;
  const lags = lagsOf(acks, poller.polls);
  const allCertifiedMs = done === null ? null : done - t0;
  return {
    ...base,
    certifiedOps,
    certifiedFraction: acks.length ? certifiedOps / lastMs / (acks.length / res.elapsedMs) : null,
    longestGapMs: longestGap(timeline, tStop).longestMs,
    monitor: summary,
    polls: { failed: poller.failures, timedOut: poller.timedOut, slowestMs: poller.slowestMs },
    certifiedOpsPerSec: allCertifiedMs === null ? null : (acks.length / allCertifiedMs) * 1000,
    allCertifiedMs,
    lagP50: lags.length ? weightedPercentile(lags, 50) : null,
    lagP99: lags.length ? weightedPercentile(lags, 99) : null,
    lagOverTime: lags.map((l) => ({ s: (l.t - t0) / 1000, lagMs: l.lag })),
  };
}
