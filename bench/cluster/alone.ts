/**
 * The cluster alone: client-signed ops (16 clients by default) fed straight to the four PBFT nodes
 * through `POST /v1/dev/submit` (workers/dev-submit.ts: the replicate consumer's own path,
 * `submitToNodes`, with no replica in front), in requests of `batch` ops from `senders` concurrent
 * senders, each holding back while more than `window` submitted ops are still uncertified (so the
 * pools never overflow: the sustained rate, not a burst). Certified ops/s and lag as the replica's
 * latest certificate shows them, and beside that poll what the nodes and replicas say themselves
 * (monitor.ts): the longest time with ops pending and no new certificate, from both. Every request
 * has a deadline, so a lost reply is counted and the feed goes on. workerd RSS (every workerd
 * process under the wrangler) and the Worker's JS heap sampled every `rssEvery` certified ops, so
 * a plateau (or growth) shows.
 */
import { performance } from "node:perf_hooks";
import type { DevServer } from "../../test/support/wrangler-dev.js";
import { signOp } from "../../shared/ops.js";
import { RequestTimeout, makeAgent, post } from "../ec/load.js";
import { makeClients } from "../ec/workload.js";
import { cpuMs, workerdPids } from "../ec/proc-stats.js";
import { CertPoller, lagsOf, weightedPercentile, type Ack } from "./cert-poll.js";
import { REPLICA } from "./ingress.js";
import { systemPids, type MemoryProbe } from "./memory.js";
import { ClusterMonitor, type MonitorSummary } from "./monitor.js";
import { longestGap, mergeProgress, type Gap } from "./progress.js";

export const DEV_TOKEN_HEADER = "x-aspec-fault-token";
/** A submit answered with an error (or none by its deadline) is sent again this many times at most. */
const SUBMIT_RETRIES = 3;
/** A submit of one batch unanswered this long is given up (counted) and sent again. */
const SUBMIT_TIMEOUT_MS = 30_000;
/** How long the monitor's first sample is waited for before the clock starts. */
const MONITOR_FIRST_MS = 10_000;
/** No new certificate for this long while ops are outstanding: the feed stops (and the run says so). */
const STALL_MS = 30_000;

export interface RssSample {
  certified: number;
  elapsedS: number;
  /** RSS (MiB) per workerd process, largest first. */
  rssMiB: number[];
  /** The Worker isolate's JS heap, used and allocated (MiB); null: not read. */
  heapUsedMiB: number | null;
  heapTotalMiB: number | null;
}

export interface AloneResult {
  ops: number;
  certified: number;
  elapsedMs: number;
  submittedOpsPerSec: number;
  certifiedOpsPerSec: number;
  lagP50: number;
  lagP99: number;
  refused: number;
  /** The feed stopped because nothing was certified for STALL_MS with ops outstanding. */
  stalled: boolean;
  /** The longest time with ops pending and no new certificate (poll and replica stats merged). */
  gap: Gap;
  /** What the nodes and replicas said (views, seqs, op counts) and how their polls went. */
  monitor: MonitorSummary;
  /** Certificate polls: failed (timed out of them) and the slowest answered (ms). */
  polls: { failed: number; timedOut: number; slowestMs: number };
  /** Submits past their deadline (each also counted in `retried` or `failed`). */
  timedOut: number;
  /** Requests sent again after an error reply, and ops given up after the retries. */
  retried: number;
  failed: number;
  errors: string[];
  /** Node answers inside a 200 reply that were errors (a node that did not take the ops in time). */
  nodeErrors: number;
  nodeErrorSamples: string[];
  rss: RssSample[];
  /** workerd CPU (all processes) per certified op, ms. */
  cpuMsPerOp: number;
  /** The nodes' workerd CPU per certified op, ms (/proc: every part of it, JS or not); null in one process. */
  nodesCpuMsPerOp: number | null;
  signMs: number;
}

export interface AloneOptions {
  ops: number;
  keys: number;
  clients: number;
  batch: number;
  senders: number;
  window: number;
  rssEvery: number;
  token: string;
  /** Stop feeding after this long (ms), whatever is left: the run says how far it got. */
  budgetMs: number;
  /** The nodes' and replicas' sampling period (monitor.ts); 0 while a profile runs. */
  monitorMs?: number;
}

/** Every op signed up front (the nodes check no client clock; the clock starts after). */
async function signAll(o: AloneOptions): Promise<string[]> {
  const clients = await makeClients(o.clients);
  const run = Date.now().toString(36);
  const ts = Date.now();
  const out: string[] = new Array<string>(o.ops);
  const pending: Promise<void>[] = [];
  for (let i = 0; i < o.ops; i++) {
    const c = clients[i % o.clients]!;
    const seq = ++c.seq;
    pending.push(
      signOp(c.kp.secret, {
        client: c.kp.publicKey,
        seq,
        key: `alone-${run}/k${(i * 7919) % o.keys}`,
        type: "counter",
        op: "add",
        args: { n: 1 },
        ts,
      }).then((op) => void (out[i] = JSON.stringify(op))),
    );
    if (pending.length >= 2000) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runClusterAlone(
  server: DevServer,
  o: AloneOptions,
  log: (s: string) => void,
  probe: MemoryProbe,
): Promise<AloneResult> {
  const ts0 = performance.now();
  const ops = await signAll(o);
  const signMs = performance.now() - ts0;
  const agent = makeAgent(o.senders + 1);
  const poller = new CertPoller(agent, server.port, REPLICA, 100);
  const monitor = new ClusterMonitor(server.port, o.monitorMs);
  const pids = systemPids(server);
  const nodePids = server.nodes ? workerdPids(server.nodes.pid) : [];
  const cpuOf = (ps: number[]) => ps.reduce((n, p) => n + cpuMs(p), 0);
  const cpu0 = cpuOf(pids);
  const nodesCpu0 = cpuOf(nodePids);
  const rss: RssSample[] = [];
  monitor.start();
  for (
    const until = performance.now() + MONITOR_FIRST_MS;
    monitor.enabled && !monitor.replicas.length && performance.now() < until;
  )
    await sleep(50);
  await poller.start();
  const t0 = performance.now();
  // certified ops now, by the poll or by the replica's own stats, whichever saw more
  const certifiedNow = () => Math.max(poller.latest, monitor.certifiedOf(REPLICA).at(-1)?.count ?? 0);
  const sampleMemory = async (certified: number, t: number) => {
    const m = await probe.sample();
    const s = { certified, elapsedS: (t - t0) / 1000, ...m };
    rss.push(s);
    return s;
  };
  await sampleMemory(0, t0);
  let nextSample = o.rssEvery;
  poller.onPoll = (p) => {
    if (p.count < nextSample) return;
    nextSample += o.rssEvery;
    // the heap read has its own deadline; the poll loop does not wait on it
    void sampleMemory(p.count, p.t).then((s) =>
      log(
        `  certified ${s.certified}: workerd RSS ${s.rssMiB.map((m) => m.toFixed(0)).join(" + ")} MiB, JS heap ${s.heapUsedMiB?.toFixed(0) ?? "?"} MiB (${s.elapsedS.toFixed(0)} s)`,
      ),
    );
  };
  const acks: Ack[] = [];
  const errors: string[] = [];
  const nodeErrorSamples: string[] = [];
  let nodeErrors = 0;
  let refused = 0;
  let timedOut = 0;
  let retried = 0;
  let failed = 0;
  let next = 0;
  let acked = 0;
  const deadline = t0 + o.budgetMs;
  let inflight = 0;
  let lastCount = -1;
  let lastProgress = performance.now();
  let stalled = false;
  const sender = async () => {
    while (next < ops.length && performance.now() < deadline && !stalled) {
      const certified = certifiedNow();
      if (certified !== lastCount) {
        lastCount = certified;
        lastProgress = performance.now();
      }
      if (acked + inflight - certified > o.window) {
        // no certificate for a while with ops outstanding: say so and stop feeding
        if (performance.now() - lastProgress > STALL_MS) stalled = true;
        await sleep(20);
        continue;
      }
      const from = next;
      const to = Math.min(ops.length, from + o.batch);
      next = to;
      inflight += to - from;
      const body = `[${ops.slice(from, to).join(",")}]`;
      // a failed or unanswered request is sent again (the nodes dedupe), as the queue would
      // redeliver; counted
      const submit = () =>
        post(
          agent,
          server.port,
          "/v1/dev/submit",
          body,
          true,
          { [DEV_TOKEN_HEADER]: o.token },
          SUBMIT_TIMEOUT_MS,
        ).catch((e: unknown) => {
          if (e instanceof RequestTimeout) timedOut++;
          return { status: 0, body: String(e) };
        });
      let r = await submit();
      for (let attempt = 1; r.status !== 200 && attempt <= SUBMIT_RETRIES; attempt++) {
        retried++;
        if (errors.length < 3) errors.push(`${r.status} ${r.body.slice(0, 200)}`);
        r = await submit();
      }
      inflight -= to - from;
      if (r.status !== 200) {
        failed += to - from;
        continue;
      }
      const reply = JSON.parse(r.body) as {
        nodes: { admitted?: number; refused?: number; error?: string }[];
      };
      for (const n of reply.nodes) {
        refused += n.refused ?? 0;
        if (n.error) nodeErrors++;
        if (n.error && nodeErrorSamples.length < 3) nodeErrorSamples.push(n.error.slice(0, 300));
      }
      acked += to - from;
      acks.push({ t: performance.now(), cum: acked });
    }
  };
  await Promise.all(Array.from({ length: o.senders }, sender));
  const tSent = performance.now();
  // until every acknowledged op is certified by either source, for a minute at most
  for (
    const until = performance.now() + (stalled ? 0 : 60_000);
    certifiedNow() < acked && performance.now() < until;
  )
    await sleep(50);
  const tStop = performance.now();
  await poller.stop();
  const summary = await monitor.stop();
  const timeline = mergeProgress(acks, poller.polls, monitor.certifiedOf(REPLICA));
  const done = timeline.find((p) => p.acked >= acked && p.certified >= acked)?.t;
  const tEnd = done ?? tStop;
  const certified = Math.min(acked, certifiedNow());
  const last = rss[rss.length - 1]!;
  if (last.certified < certified) await sampleMemory(certified, tEnd);
  const cpu = cpuOf(pids) - cpu0;
  const nodesCpu = cpuOf(nodePids) - nodesCpu0;
  agent.destroy();
  const lags = lagsOf(acks, poller.polls);
  const gap = longestGap(timeline, tStop);
  return {
    ops: acked,
    certified,
    elapsedMs: tEnd - t0,
    submittedOpsPerSec: (acked / (tSent - t0)) * 1000,
    certifiedOpsPerSec: (certified / (tEnd - t0)) * 1000,
    lagP50: weightedPercentile(lags, 50),
    lagP99: weightedPercentile(lags, 99),
    refused,
    stalled,
    gap,
    monitor: summary,
    polls: { failed: poller.failures, timedOut: poller.timedOut, slowestMs: poller.slowestMs },
    timedOut,
    retried,
    failed,
    errors,
    nodeErrors,
    nodeErrorSamples,
    rss,
    cpuMsPerOp: cpu / Math.max(1, certified),
    nodesCpuMsPerOp: server.nodes ? nodesCpu / Math.max(1, certified) : null,
    signMs,
  };
}
