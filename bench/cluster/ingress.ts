/**
 * Sustained ingress through the edge: signed `counter.add` ops, closed loop, `connections`
 * keep-alive connections to one replica, and — with the cluster on — certification as the
 * replica's latest certificate shows it (cert-poll.ts): certified ops/s from the start until every
 * accepted op is certified, and each op's lag from its reply to its certificate.
 */
import { performance } from "node:perf_hooks";
import type { DevServer } from "../../test/support/wrangler-dev.js";
import { makeAgent, runLoad } from "../ec/load.js";
import { summarize } from "../ec/stats.js";
import { buildWorkload, makeClients } from "../ec/workload.js";
import { CertPoller, lagsOf, weightedPercentile, type Ack } from "./cert-poll.js";

export const REPLICA = "weur";

export interface IngressResult {
  ops: number;
  acceptedOpsPerSec: number;
  ecP50: number;
  ecP99: number;
  errors: number;
  errorSamples: string[];
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
  },
): Promise<IngressResult> {
  const agent = makeAgent(o.connections + 1);
  const clients = await makeClients(o.connections);
  const load = await buildWorkload({ ops: o.ops, clients, prefix: o.prefix, keys: o.keys, sampleEvery: 0 });
  const poller = o.certify ? new CertPoller(agent, server.port, REPLICA) : undefined;
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
    errorSamples: res.errorSamples,
    certifiedOpsPerSec: null,
    allCertifiedMs: null,
    lagP50: null,
    lagP99: null,
    lagOverTime: [],
  };
  if (!poller) {
    agent.destroy();
    return base;
  }
  const done = await poller.waitFor(acks.length, o.drainTimeoutMs ?? 120_000);
  await poller.stop();
  agent.destroy();
  const lags = lagsOf(acks, poller.polls);
  const allCertifiedMs = done === null ? null : done - t0;
  return {
    ...base,
    certifiedOpsPerSec: allCertifiedMs === null ? null : (acks.length / allCertifiedMs) * 1000,
    allCertifiedMs,
    lagP50: lags.length ? weightedPercentile(lags, 50) : null,
    lagP99: lags.length ? weightedPercentile(lags, 99) : null,
    lagOverTime: lags.map((l) => ({ s: (l.t - t0) / 1000, lagMs: l.lag })),
  };
}
