/**
 * The cluster alone: client-signed ops (16 clients by default) fed straight to the four PBFT nodes
 * through `POST /v1/dev/submit` (workers/dev-submit.ts: the replicate consumer's own path,
 * `submitToNodes`, with no replica in front), in requests of `batch` ops from `senders` concurrent
 * senders, each holding back while more than `window` submitted ops are still uncertified (so the
 * pools never overflow: the sustained rate, not a burst). Certified ops/s and lag as the replica's
 * latest certificate shows them; workerd RSS (every workerd process under the wrangler) sampled
 * every `rssEvery` certified ops, so a plateau (or growth) shows.
 */
import { performance } from "node:perf_hooks";
import type { DevServer } from "../../test/support/wrangler-dev.js";
import { signOp } from "../../shared/ops.js";
import { makeAgent, post } from "../ec/load.js";
import { makeClients } from "../ec/workload.js";
import { cpuMs, memKiB, workerdPids } from "../ec/proc-stats.js";
import { CertPoller, lagsOf, weightedPercentile, type Ack } from "./cert-poll.js";
import { REPLICA } from "./ingress.js";

export const DEV_TOKEN_HEADER = "x-aspec-fault-token";
/** A submit answered with an error is sent again this many times at most. */
const SUBMIT_RETRIES = 3;
/** No new certificate for this long while ops are outstanding: the feed stops (and the run says so). */
const STALL_MS = 30_000;

export interface RssSample {
  certified: number;
  elapsedS: number;
  /** RSS (MiB) per workerd process, largest first. */
  rssMiB: number[];
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
  /** Requests sent again after an error reply, and ops given up after the retries. */
  retried: number;
  failed: number;
  errors: string[];
  rss: RssSample[];
  /** workerd CPU (all processes) per certified op, ms. */
  cpuMsPerOp: number;
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

const rssOf = (pids: number[]) => pids.map((p) => memKiB(p).rss / 1024).sort((a, b) => b - a);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runClusterAlone(
  server: DevServer,
  o: AloneOptions,
  log: (s: string) => void,
): Promise<AloneResult> {
  const ts0 = performance.now();
  const ops = await signAll(o);
  const signMs = performance.now() - ts0;
  const agent = makeAgent(o.senders + 1);
  const poller = new CertPoller(agent, server.port, REPLICA, 100);
  const pids = workerdPids(server.pid);
  const cpu0 = pids.reduce((n, p) => n + cpuMs(p), 0);
  const rss: RssSample[] = [];
  await poller.start();
  const t0 = performance.now();
  rss.push({ certified: 0, elapsedS: 0, rssMiB: rssOf(pids) });
  let nextSample = o.rssEvery;
  poller.onPoll = (p) => {
    if (p.count < nextSample) return;
    nextSample += o.rssEvery;
    const s = { certified: p.count, elapsedS: (p.t - t0) / 1000, rssMiB: rssOf(pids) };
    rss.push(s);
    log(
      `  certified ${s.certified}: workerd RSS ${s.rssMiB.map((m) => m.toFixed(0)).join(" + ")} MiB (${s.elapsedS.toFixed(0)} s)`,
    );
  };
  const acks: Ack[] = [];
  const errors: string[] = [];
  let refused = 0;
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
      if (poller.latest !== lastCount) {
        lastCount = poller.latest;
        lastProgress = performance.now();
      }
      if (acked + inflight - poller.latest > o.window) {
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
      // a failed request is sent again (the nodes dedupe), as the queue would redeliver; counted
      let r = await post(agent, server.port, "/v1/dev/submit", body, true, {
        [DEV_TOKEN_HEADER]: o.token,
      });
      for (let attempt = 1; r.status !== 200 && attempt <= SUBMIT_RETRIES; attempt++) {
        retried++;
        if (errors.length < 3) errors.push(`${r.status} ${r.body.slice(0, 200)}`);
        r = await post(agent, server.port, "/v1/dev/submit", body, true, {
          [DEV_TOKEN_HEADER]: o.token,
        });
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
        if (n.error && errors.length < 5) errors.push(n.error.slice(0, 300));
      }
      acked += to - from;
      acks.push({ t: performance.now(), cum: acked });
    }
  };
  await Promise.all(Array.from({ length: o.senders }, sender));
  const tSent = performance.now();
  const done = await poller.waitFor(acked, stalled ? 1 : 60_000);
  await poller.stop();
  const tEnd = done ?? performance.now();
  const certified = Math.min(acked, poller.latest);
  const last = rss[rss.length - 1]!;
  if (last.certified < certified) rss.push({ certified, elapsedS: (tEnd - t0) / 1000, rssMiB: rssOf(pids) });
  const cpu = pids.reduce((n, p) => n + cpuMs(p), 0) - cpu0;
  agent.destroy();
  const lags = lagsOf(acks, poller.polls);
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
    retried,
    failed,
    errors,
    rss,
    cpuMsPerOp: cpu / Math.max(1, certified),
    signMs,
  };
}
