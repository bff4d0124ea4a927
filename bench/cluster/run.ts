/**
 * `npm run bench:cluster` (tsx bench/cluster/run.ts): sustained ingress of signed ops through the
 * edge under `wrangler dev`, with the four PBFT Durable Objects certifying in the background,
 * beside the same load with the cluster switched off (`CERTIFY=off`: plain EC), measured in the
 * same run on the same machine. Reports accepted ops/s, certified ops/s (from the replicas' latest
 * certificate, polled every 50 ms), the time until every accepted op is certified, EC write latency
 * with and without the cluster, and certification lag (per op: from its reply to the first poll
 * whose certificate's op count covers as many ops as had been acknowledged by then — an upper
 * bound of each op's lag, since the order of acknowledgement is not the certified order). Not a test.
 *
 * Flags: --ops N (2000)  --connections N (8)  --keys N (500)
 */
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { signOp } from "../../shared/ops.js";
import { runScript, startWranglerDev, type DevServer } from "../../test/support/wrangler-dev.js";
import { get, makeAgent, runLoad } from "../ec/load.js";
import { fmt, sortedCopy, summarize } from "../ec/stats.js";
import { makeClients } from "../ec/workload.js";
import { intFlag } from "../int-flag.js";

const { values: flags } = parseArgs({
  options: {
    ops: { type: "string", default: "2000" },
    connections: { type: "string", default: "8" },
    keys: { type: "string", default: "500" },
    help: { type: "boolean", short: "h", default: false },
  },
  strict: true,
});
if (flags.help) {
  console.log("usage: npm run bench:cluster -- [--ops N (2000)] [--connections N (8)] [--keys N (500)]");
  process.exit(0);
}
const OPS = intFlag(flags, "ops", 1);
const CONNECTIONS = intFlag(flags, "connections", 1);
const KEYS = intFlag(flags, "keys", 1);
const REPLICAS = ["weur", "enam", "apac"];

interface RunResult {
  label: string;
  acceptedOpsPerSec: number;
  ecP50: number;
  ecP99: number;
  certifiedOpsPerSec: number | null;
  allCertifiedMs: number | null;
  lagP50: number | null;
  lagP99: number | null;
  errors: number;
}

async function bodies(): Promise<string[][]> {
  const clients = await makeClients(CONNECTIONS);
  const out: string[][] = clients.map(() => []);
  const run = Date.now().toString(36);
  for (let i = 0; i < OPS; i++) {
    const c = i % CONNECTIONS;
    const cl = clients[c]!;
    const seq = ++cl.seq;
    const op = await signOp(cl.kp.secret, {
      client: cl.kp.publicKey,
      seq,
      key: `bench-${run}/k${i % KEYS}`,
      type: "counter",
      op: "add",
      args: { n: 1 },
      ts: Date.now(),
    });
    out[c]!.push(JSON.stringify(op));
  }
  return out;
}

async function opCountAt(server: DevServer, agent: ReturnType<typeof makeAgent>): Promise<number> {
  const r = await get(agent, server.port, "/v1/certificates/latest?replica=weur");
  const body = JSON.parse(r.body) as { certificate: { body: { opCount: number } } | null };
  return body.certificate?.body.opCount ?? 0;
}

async function runOne(label: string, certify: boolean): Promise<RunResult> {
  const server = await startWranglerDev({
    name: `bench-cluster-${label}`,
    readyPath: "/v1/replicas",
    vars: { ENVIRONMENT: "dev", CERTIFY: certify ? "on" : "off" },
  });
  try {
    const agent = makeAgent(CONNECTIONS + 1);
    const load = await bodies();
    const base = certify ? await opCountAt(server, agent) : 0;
    const acked: number[] = []; // reply times, in order
    const polls: { t: number; count: number }[] = [];
    let polling = certify;
    const poller = (async () => {
      while (polling) {
        polls.push({ t: performance.now(), count: (await opCountAt(server, agent)) - base });
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const t0 = performance.now();
    const res = await runLoad(agent, {
      port: server.port,
      path: "/v1/ops?replica=weur",
      bodies: load,
      onReply: (_c, _i, status, _b, t) => {
        if (status === 200) acked.push(t);
      },
    });
    const tEnd = performance.now();
    let allCertifiedMs: number | null = null;
    if (certify) {
      const deadline = tEnd + 60_000;
      while (performance.now() < deadline) {
        const n = polls[polls.length - 1]?.count ?? 0;
        if (n >= acked.length) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      polling = false;
      await poller;
      const done = polls.find((p) => p.count >= acked.length);
      allCertifiedMs = done ? done.t - t0 : null;
    }
    const lags: number[] = [];
    if (certify)
      acked.forEach((t, i) => {
        const p = polls.find((q) => q.t >= t && q.count >= i + 1);
        if (p) lags.push(p.t - t);
      });
    const lat = summarize(res.latenciesMs);
    const lag = lags.length ? sortedCopy(lags) : null;
    return {
      label,
      acceptedOpsPerSec: res.opsPerSec,
      ecP50: lat.p50,
      ecP99: lat.p99,
      certifiedOpsPerSec: allCertifiedMs ? (acked.length / allCertifiedMs) * 1000 : null,
      allCertifiedMs,
      lagP50: lag ? lag[Math.floor(lag.length / 2)]! : null,
      lagP99: lag ? lag[Math.floor(lag.length * 0.99)]! : null,
      errors: res.errors,
    };
  } finally {
    await server.stop();
  }
}

runScript(async () => {
  // Each setup in a fresh wrangler dev, EC alone first (the baseline), then with the cluster.
  const ec = await runOne("ec", false);
  const withCluster = await runOne("cluster", true);
  const row = (r: RunResult) =>
    `| ${r.label === "ec" ? "EC only (CERTIFY=off)" : "EC + 4 PBFT nodes"} | ${fmt(r.acceptedOpsPerSec, 0)} | ${fmt(r.ecP50)} / ${fmt(r.ecP99)} | ${r.certifiedOpsPerSec === null ? "—" : fmt(r.certifiedOpsPerSec, 0)} | ${r.allCertifiedMs === null ? "—" : fmt(r.allCertifiedMs, 0)} | ${r.lagP50 === null ? "—" : `${fmt(r.lagP50, 0)} / ${fmt(r.lagP99!, 0)}`} | ${r.errors} |`;
  console.log(
    [
      `bench:cluster — ${OPS} signed counter.add ops over ${KEYS} keys, ${CONNECTIONS} connections to one replica (weur), wrangler dev on this machine`,
      "",
      "| setup | accepted ops/s | EC write ms p50 / p99 | certified ops/s | all certified after (ms from start) | certification lag ms p50 / p99 (upper bound) | errors |",
      "|---|---:|---:|---:|---:|---:|---:|",
      row(ec),
      row(withCluster),
    ].join("\n"),
  );
});
