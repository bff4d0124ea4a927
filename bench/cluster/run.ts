/**
 * `npm run bench:cluster` (tsx bench/cluster/run.ts): the certification path's speed, every figure
 * from the same run on the same machine, each setup in a fresh `wrangler dev` (one at a time):
 *
 * a. sustained ingress through the edge (8 connections, one replica): EC alone (`CERTIFY=off`)
 *    beside EC + the four PBFT nodes — accepted ops/s, certified ops/s, certification lag p50/p99
 *    (reply → certificate at the replica) and the lag over time (an SVG);
 * b. what one writer waits for, 1 connection: the bare Worker + SQLite DO baseline (bench/baseline),
 *    an EC write, and a certified write (k = 0: POST, then GET /v1/ops/:id?wait=certified);
 * e. the same ingress and writer latencies with every node-to-node message delayed by an
 *    inter-region hop (`delayMs` node fault, 70–150 ms, through POST /v1/dev/faults);
 * f. where the time goes, by role (a CPU profile of the Worker isolate during an ingress: profile.ts);
 * c. the cluster alone: client-signed ops fed to the four nodes through POST /v1/dev/submit (the
 *    queue consumer's `submitToNodes`), certified ops/s and lag;
 * d. workerd RSS and the Worker's JS heap along that run (100,000 certified ops over 10,000 keys by
 *    default), and after `--idle-s` idle.
 *
 * A run you can trust: every request and poll has a deadline (a late one is counted, never waited
 * on); certification is read from the nodes and replicas themselves (monitor.ts: views, executed
 * seqs, certified op counts) beside the certificate poll; wrangler runs at the level that keeps the
 * Worker's own logs in each setup's log file; and wrangler's reloads of the Worker (a source file
 * changed under it: each answers in-flight writes 503) are counted per setup.
 *
 * Prints a Markdown summary; a full run with the default flags writes bench/results/cluster-latest.md,
 * its figures as bench/results/cluster-latest.json (results-json.ts) and bench/results/cluster-lag.svg
 * (a partial run only with --out PATH.md: PATH.json beside it). Not a test.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { PBFT_NODES } from "../../shared/cluster-config.js";
import {
  DEV_FAULT_TOKEN,
  REPO_ROOT,
  installCleanup,
  runScript,
  startWranglerDev,
  type DevServer,
} from "../../test/support/wrangler-dev.js";
import { get, makeAgent, post } from "../ec/load.js";
import { fmt } from "../ec/stats.js";
import { intFlag } from "../int-flag.js";
import { resultsPath } from "../results-path.js";
import { DEV_TOKEN_HEADER, runClusterAlone, type AloneResult } from "./alone.js";
import { REPLICA, runIngress, type IngressResult } from "./ingress.js";
import { lagSvg } from "./lag-svg.js";
import { MemoryProbe, type MemorySample } from "./memory.js";
import { ClusterMonitor, type MonitorSummary } from "./monitor.js";
import { profileRoles, type RoleTable } from "./profile.js";
import { clusterJson, jsonPathOf, writeModel } from "./results-json.js";
import { certifiedWrites, serialWrites, type SerialResult } from "./writer-latency.js";

const OPTIONS = {
  ops: { type: "string", default: "2000" },
  connections: { type: "string", default: "8" },
  keys: { type: "string", default: "500" },
  "serial-ops": { type: "string", default: "300" },
  "wait-ops": { type: "string", default: "100" },
  "delay-ms": { type: "string", default: "70,150" },
  "delay-ops": { type: "string", default: "1000" },
  "delay-wait-ops": { type: "string", default: "40" },
  "profile-ops": { type: "string", default: "1500" },
  "profile-alone-ops": { type: "string", default: "3000" },
  "alone-ops": { type: "string", default: "100000" },
  "alone-keys": { type: "string", default: "10000" },
  "alone-clients": { type: "string", default: "16" },
  "alone-batch": { type: "string", default: "200" },
  "alone-senders": { type: "string", default: "3" },
  "alone-window": { type: "string", default: "800" },
  "alone-budget-s": { type: "string", default: "420" },
  "idle-s": { type: "string", default: "60" },
  phases: { type: "string", default: "baseline,ec,cluster,delay,profile,alone,profile-alone" },
  out: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;
const PHASES = ["baseline", "ec", "cluster", "delay", "profile", "alone", "profile-alone"] as const;
const COMMITTED = "bench/results/cluster-latest.md";

const USAGE = `usage: npm run bench:cluster -- [options]   (defaults in brackets)
  --ops N --connections N --keys N   ingress through the edge [2000, 8, 500]
  --serial-ops N                     1-connection EC / baseline writes [300]
  --wait-ops N                       1-connection certified writes (k = 0) [100]
  --delay-ms MIN,MAX                 node-to-node delay of the delay phase [70,150]
  --delay-ops N --delay-wait-ops N   ingress / certified writes under the delay [1000, 40]
  --profile-ops N                    ingress ops under the CPU profiler [1500]
  --profile-alone-ops N              cluster-alone ops under the CPU profiler, after the run [3000]
  --alone-ops N --alone-keys N       cluster alone: ops and keys [100000, 10000]
  --alone-clients N --alone-batch N --alone-senders N --alone-window N   [16, 200, 3, 800]
  --alone-budget-s N                 stop feeding the cluster after N s [420]
  --idle-s N                         memory again after N s idle after the cluster-alone run [60]
  --phases LIST                      any of ${PHASES.join(",")} [all]
  --out PATH                         write the summary (and PATH's -lag.svg) there`;

function parseCli() {
  try {
    return parseArgs({ options: OPTIONS, strict: true }).values;
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
}
const flags = parseCli();
if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}
const changed = (Object.keys(OPTIONS) as (keyof typeof OPTIONS)[]).filter((k) => {
  const d = (OPTIONS[k] as { default?: string }).default;
  return d !== undefined && flags[k] !== d;
});
const int = (name: keyof typeof flags, min = 1) => intFlag(flags, name, min);
const OPS = int("ops");
const CONNECTIONS = int("connections");
const KEYS = int("keys");
const SERIAL_OPS = int("serial-ops");
const WAIT_OPS = int("wait-ops");
const DELAY = (flags["delay-ms"] ?? "").split(",").map(Number) as [number, number];
if (DELAY.length !== 2 || !DELAY.every(Number.isSafeInteger) || DELAY[0] > DELAY[1])
  throw new Error("--delay-ms is MIN,MAX (integers, MIN ≤ MAX)");
const DELAY_OPS = int("delay-ops");
const DELAY_WAIT_OPS = int("delay-wait-ops");
const PROFILE_OPS = int("profile-ops");
const phases = new Set((flags.phases ?? "").split(",").filter(Boolean));
for (const p of phases)
  if (!(PHASES as readonly string[]).includes(p)) throw new Error(`unknown phase ${p}: ${PHASES.join(", ")}`);

const log = (s: string) => console.log(s);
const run = Date.now().toString(36);
/** wrangler's reloads of the Worker per setup (test/support/wrangler-dev.ts RELOAD_LINE): 0 expected. */
const reloads: Record<string, number> = {};
/**
 * The certified-write model's batching and queue-hop terms (ms): a node's tick (NODE_CONFIG.tickMs in
 * durable-objects/pbft-node.ts), within which the primary proposes what is pooled, and the
 * replicate queue's delivery with max_batch_timeout 0 after the outbox drain's window
 * (DRAIN_DELAY_MS in wrangler.jsonc).
 */
const MODEL_BATCHING_MS = 50;
const MODEL_QUEUE_HOP_MS = 20;

async function withServer<T>(
  name: string,
  vars: Record<string, string>,
  f: (s: DevServer) => Promise<T>,
  config?: string,
): Promise<T> {
  log(`# ${name}: starting wrangler dev`);
  const server = await startWranglerDev({
    name: `bench-cluster-${name}`,
    logFile: join(tmpdir(), `aspec-bench-cluster-${name}.log`),
    readyPath: config ? "/" : "/v1/replicas",
    ...(config ? { config } : {}),
    vars,
  });
  try {
    return await f(server);
  } finally {
    reloads[name] = server.reloads();
    if (reloads[name])
      log(`# ${name}: wrangler reloaded the Worker ${reloads[name]} times (a source file changed)`);
    await server.stop();
  }
}

async function setNodeFaults(server: DevServer, faults: Record<string, unknown>): Promise<void> {
  const agent = makeAgent(1);
  for (const n of PBFT_NODES) {
    const r = await post(
      agent,
      server.port,
      "/v1/dev/faults",
      JSON.stringify({ target: n.id, faults }),
      true,
      {
        [DEV_TOKEN_HEADER]: DEV_FAULT_TOKEN,
      },
    );
    if (r.status !== 200) throw new Error(`POST /v1/dev/faults ${n.id}: ${r.status} ${r.body.slice(0, 300)}`);
  }
  agent.destroy();
}

let viewAfterDelay: number | null = null;

/** The primary's view now (0 unless a view change happened); null if the status did not come in time. */
async function clusterView(server: DevServer): Promise<number | null> {
  const agent = makeAgent(1);
  try {
    const r = await get(agent, server.port, "/v1/cluster/status", 10_000);
    return r.status === 200 ? ((JSON.parse(r.body) as { view?: number }).view ?? null) : null;
  } catch {
    return null;
  } finally {
    agent.destroy();
  }
}

interface Report {
  baseline?: SerialResult;
  ec?: { ingress: IngressResult; serial: SerialResult };
  cluster?: { ingress: IngressResult; serial: SerialResult; certified: SerialResult };
  delay?: {
    ingress: IngressResult;
    serial: SerialResult;
    certified: SerialResult;
    /** The nodes over the whole delayed phase (ingress and writes). */
    monitor: MonitorSummary;
  };
  roles?: RoleTable;
  rolesAlone?: RoleTable;
  alone?: AloneResult;
  memory?: {
    start: MemorySample;
    afterRun: MemorySample & { certifiedOps: number };
    afterIdle: (MemorySample & { idleS: number }) | null;
  };
}

const ms = (x: number | null | undefined, d = 1) => (x === null || x === undefined ? "—" : fmt(x, d));
const pair = (a: number | null, b: number | null, d = 0) => (a === null ? "—" : `${ms(a, d)} / ${ms(b, d)}`);

function ingressRow(label: string, r: IngressResult): string {
  const pct =
    r.certifiedOpsPerSec === null ? "" : ` (${fmt((r.certifiedOpsPerSec / r.acceptedOpsPerSec) * 100, 0)}%)`;
  return `| ${label} | ${fmt(r.acceptedOpsPerSec, 0)} | ${ms(r.ecP50)} / ${ms(r.ecP99)} | ${r.certifiedOpsPerSec === null ? "—" : fmt(r.certifiedOpsPerSec, 0) + pct} | ${r.allCertifiedMs === null ? "—" : fmt(r.allCertifiedMs / 1000, 1) + " s"} | ${pair(r.lagP50, r.lagP99)} | ${r.errors} |`;
}

/** What the certification figures of an ingress rest on: the poll's misses, the nodes' own account. */
function trustLine(label: string, r: IngressResult): string | undefined {
  if (!r.monitor || !r.polls) return undefined;
  const m = r.monitor;
  const executed = Object.entries(m.nodesExecuted)
    .map(([id, n]) => `${id} ${n ?? "—"}`)
    .join(", ");
  const replicas = Object.entries(m.replicasCertifiedOps)
    .map(([name, n]) => `${name} ${n ?? "—"}`)
    .join(", ");
  return (
    `- ${label}: ${r.certifiedOps ?? "—"} of ${r.accepted} accepted ops certified (certified / accepted rate ${ms(r.certifiedFraction, 2)}), longest time with ops pending and no new certificate ${ms(r.longestGapMs, 0)} ms; ` +
    `certificate polls failed ${r.polls.failed} (${r.polls.timedOut} past their deadline), slowest ${ms(r.polls.slowestMs, 0)} ms; ` +
    `the nodes' own status (${m.samples} samples, ${m.status.failed} failed): seqs executed ${executed}; views moved ${m.viewChanges ?? "—"}; ` +
    `the replicas' certified ops ${replicas}; writes past their deadline ${r.timedOut}.`
  );
}

function serialRow(label: string, r: SerialResult): string {
  return `| ${label} | ${ms(r.lat.p50, 2)} | ${ms(r.lat.p99, 2)} | ${r.lat.count} | ${r.errors + r.pending} |`;
}

const verdict = (ok: boolean) => (ok ? "met" : "**missed**");

function render(r: Report, date: string): string {
  const L: string[] = [];
  L.push(
    `# bench:cluster — ${date}`,
    "",
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}; wrangler dev (workerd) on 127.0.0.1, each setup in a fresh one; flags: ${changed.length ? changed.map((k) => `--${k} ${flags[k]}`).join(" ") : "defaults"}.`,
    "",
  );
  if (r.ec || r.cluster || r.delay) {
    L.push(
      `## a. Sustained ingress through the edge (${CONNECTIONS} connections, replica ${REPLICA}, signed counter.add over ${KEYS} keys)`,
      "",
      "| setup | accepted ops/s | EC write ms p50 / p99 | certified ops/s (of accepted) | all certified after | certification lag ms p50 / p99 | errors |",
      "|---|---:|---:|---:|---:|---:|---:|",
    );
    if (r.ec) L.push(ingressRow(`EC only (CERTIFY=off), ${r.ec.ingress.ops} ops`, r.ec.ingress));
    if (r.cluster) L.push(ingressRow(`EC + 4 PBFT nodes, ${r.cluster.ingress.ops} ops`, r.cluster.ingress));
    if (r.delay)
      L.push(
        ingressRow(
          `EC + 4 PBFT nodes, node hops +${DELAY[0]}–${DELAY[1]} ms, ${r.delay.ingress.ops} ops`,
          r.delay.ingress,
        ),
      );
    const trust = [
      r.cluster && trustLine("EC + 4 PBFT nodes", r.cluster.ingress),
      r.delay && trustLine(`node hops +${DELAY[0]}–${DELAY[1]} ms`, r.delay.ingress),
    ].filter((x): x is string => !!x);
    if (trust.length)
      L.push(
        "",
        "Certification as the nodes and replicas tell it (GET /v1/cluster/status, /v1/replicas):",
        "",
        ...trust,
      );
    if (r.cluster?.ingress.certifiedOpsPerSec) {
      const c = r.cluster.ingress;
      L.push(
        "",
        `Targets: certified ≥ 95% of accepted — ${verdict(c.certifiedOpsPerSec! >= 0.95 * c.acceptedOpsPerSec)}; lag p99 ≤ 1 s — ${verdict((c.lagP99 ?? Infinity) <= 1000)}. Lag over time: [cluster-lag.svg](cluster-lag.svg).`,
      );
    }
    L.push("");
  }
  if (r.baseline || r.ec || r.cluster) {
    L.push(
      "## b. What one writer waits for (1 connection, one request in flight)",
      "",
      "| write | p50 ms | p99 ms | n | errors / timed out |",
      "|---|---:|---:|---:|---:|",
    );
    if (r.baseline) L.push(serialRow("bare Worker + SQLite DO (bench/baseline)", r.baseline));
    if (r.ec) L.push(serialRow("EC write, CERTIFY=off", r.ec.serial));
    if (r.cluster) {
      L.push(serialRow("EC write, cluster on", r.cluster.serial));
      L.push(serialRow("certified write (POST + GET ?wait=certified, k = 0)", r.cluster.certified));
    }
    if (r.delay) {
      L.push(serialRow(`EC write, node hops +${DELAY[0]}–${DELAY[1]} ms`, r.delay.serial));
      L.push(serialRow(`certified write, node hops +${DELAY[0]}–${DELAY[1]} ms`, r.delay.certified));
    }
    L.push("");
    if (r.cluster) {
      const x = r.cluster.certified.lat.p50 / r.cluster.serial.lat.p50;
      L.push(`- certified / EC write at p50: ${fmt(x, 1)}× (target: EC ≥ 10× faster — ${verdict(x >= 10)})`);
    }
    if (r.baseline && r.cluster) {
      const x = r.cluster.serial.lat.p50 / r.baseline.lat.p50;
      L.push(
        `- EC write (cluster on) / baseline at p50: ${fmt(x, 2)}× (target ≤ 1.3× — ${verdict(x <= 1.3)})`,
      );
    }
    if (r.baseline && r.ec) {
      const x = r.ec.serial.lat.p50 / r.baseline.lat.p50;
      L.push(`- EC write (CERTIFY=off) / baseline at p50: ${fmt(x, 2)}×`);
    }
    L.push("");
  }
  if (r.delay && r.cluster) {
    L.push(
      `## e. Off the critical path: node-to-node hops delayed ${DELAY[0]}–${DELAY[1]} ms (delayMs fault on all four nodes), same server`,
      "",
      "| | no delay | with delay |",
      "|---|---:|---:|",
      `| EC write p50 / p99 ms (1 connection) | ${ms(r.cluster.serial.lat.p50, 2)} / ${ms(r.cluster.serial.lat.p99, 2)} | ${ms(r.delay.serial.lat.p50, 2)} / ${ms(r.delay.serial.lat.p99, 2)} |`,
      `| EC write p50 / p99 ms (ingress, ${CONNECTIONS} connections) | ${ms(r.cluster.ingress.ecP50)} / ${ms(r.cluster.ingress.ecP99)} | ${ms(r.delay.ingress.ecP50)} / ${ms(r.delay.ingress.ecP99)} |`,
      `| certified write p50 / p99 ms (1 connection) | ${ms(r.cluster.certified.lat.p50, 0)} / ${ms(r.cluster.certified.lat.p99, 0)} | ${ms(r.delay.certified.lat.p50, 0)} / ${ms(r.delay.certified.lat.p99, 0)} |`,
      `| certification lag p50 / p99 ms (ingress) | ${pair(r.cluster.ingress.lagP50, r.cluster.ingress.lagP99)} | ${pair(r.delay.ingress.lagP50, r.delay.ingress.lagP99)} |`,
      "",
      `The cluster's view after the delayed ingress: ${viewAfterDelay ?? "?"}; views the nodes moved through over the whole delayed phase (their own status, sampled every second): ${r.delay.monitor.viewChanges ?? "?"} (0: no view change happened).`,
      "",
      `PBFT's three message delays (PRE-PREPARE, PREPARE, COMMIT) at ${DELAY[0]}–${DELAY[1]} ms add about ${3 * DELAY[0]}–${3 * DELAY[1]} ms (mean ${(3 * (DELAY[0] + DELAY[1])) / 2}).`,
      "",
    );
  }
  if (r.roles) {
    L.push(
      `## f. Where the time goes (CPU profile of the Worker isolate, ${r.roles.ops} ops of ingress with the cluster)`,
      "",
      r.roles.markdown,
      "",
    );
  }
  if (r.rolesAlone) {
    L.push(
      `## f. Where the node time goes: the cluster alone (CPU profile of the Worker isolate, ${r.rolesAlone.ops} ops through POST /v1/dev/submit, after the run below)`,
      "",
      r.rolesAlone.markdown,
      "",
    );
  }
  if (r.alone) {
    const a = r.alone;
    L.push(
      `## c. The cluster alone (POST /v1/dev/submit → submitToNodes; ${flags["alone-clients"]} clients, batches of ${flags["alone-batch"]}, ${flags["alone-senders"]} senders, ≤ ${flags["alone-window"]} uncertified)`,
      "",
      "| ops certified | elapsed | submitted ops/s | certified ops/s | lag ms p50 / p99 | workerd CPU ms / op | refused | target |",
      "|---:|---:|---:|---:|---:|---:|---:|---|",
      `| ${a.certified} of ${a.ops} | ${fmt(a.elapsedMs / 1000, 0)} s | ${fmt(a.submittedOpsPerSec, 0)} | ${fmt(a.certifiedOpsPerSec, 0)} | ${ms(a.lagP50, 0)} / ${ms(a.lagP99, 0)} | ${fmt(a.cpuMsPerOp, 2)} | ${a.refused} | > 1,125 (BFT-SMaRt 2.0, n = 4) — ${verdict(a.certifiedOpsPerSec > 1125)} |`,
      "",
    );
    L.push(
      `Longest time with ops pending and no new certificate: ${fmt(a.gap.longestMs / 1000, 1)} s${a.gap.open ? " (still open at the end: ops left uncertified)" : ""} (target ≤ 2 s — ${verdict(a.gap.longestMs <= 2000 && !a.gap.open)}). ` +
        `Certificate polls failed ${a.polls.failed} (${a.polls.timedOut} past their deadline, slowest ${fmt(a.polls.slowestMs, 0)} ms); submits past their deadline ${a.timedOut}; ` +
        `the nodes' own status: ${a.monitor.samples} samples (${a.monitor.status.failed} failed), seqs executed ${Object.entries(
          a.monitor.nodesExecuted,
        )
          .map(([id, n]) => `${id} ${n ?? "—"}`)
          .join(", ")}, views moved ${a.monitor.viewChanges ?? "—"}.`,
      "",
    );
    if (a.stalled)
      L.push(
        `The feed **stalled**: no new certificate for 30 s with ops outstanding, so it stopped at ${a.ops} acknowledged ops.`,
        "",
      );
    if (a.nodeErrors)
      L.push(
        `${a.nodeErrors} node answers inside accepted submits were errors (that node did not take the batch in time; the submit is not sent again); first: ${a.nodeErrorSamples.join("; ")}`,
        "",
      );
    if (a.errors.length)
      L.push(
        `${a.retried} requests were answered with an error and sent again (${a.failed} ops given up); first errors: ${a.errors.join("; ")}`,
        "",
      );
    L.push(
      `## d. workerd RSS and the Worker's JS heap over the cluster-alone run (${a.certified} certified ops over ${flags["alone-keys"]} keys)`,
      "",
      "| certified ops | s | RSS MiB per workerd process | total | JS heap MiB used / allocated (128 MB deployed) |",
      "|---:|---:|---:|---:|---:|",
      ...[...a.rss]
        .sort((x, y) => x.certified - y.certified)
        .map(
          (s) =>
            `| ${s.certified} | ${fmt(s.elapsedS, 0)} | ${s.rssMiB.map((m) => fmt(m, 0)).join(" + ")} | ${fmt(
              s.rssMiB.reduce((n, m) => n + m, 0),
              0,
            )} | ${ms(s.heapUsedMiB, 0)} / ${ms(s.heapTotalMiB, 0)} |`,
        ),
      "",
    );
    const idle = r.memory?.afterIdle;
    if (idle)
      L.push(
        `After ${idle.idleS} s idle: RSS ${fmt(
          idle.rssMiB.reduce((n, m) => n + m, 0),
          0,
        )} MiB, JS heap ${ms(idle.heapUsedMiB, 0)} / ${ms(idle.heapTotalMiB, 0)} MiB.`,
        "",
      );
  }
  const restarted = Object.entries(reloads).filter(([, n]) => n > 0);
  L.push(
    restarted.length
      ? `**wrangler reloaded the Worker mid-run** (${restarted.map(([k, n]) => `${k}: ${n}`).join(", ")}): a source file of the Worker or the wrangler.jsonc changed under it; each reload answers the writes in flight \`503 Your worker restarted mid-request\`. Rerun on a checkout nothing edits.`
      : "wrangler reloaded the Worker 0 times (no source file changed under a run).",
    "",
  );
  return L.join("\n");
}

runScript(async () => {
  installCleanup();
  const r: Report = {};
  const vars = (certify: boolean) => ({ ENVIRONMENT: "dev", CERTIFY: certify ? "on" : "off" });
  if (phases.has("baseline"))
    r.baseline = await withServer(
      "baseline",
      {},
      (s) => serialWrites(s.port, "/", SERIAL_OPS, `base-${run}`),
      join(REPO_ROOT, "bench", "baseline", "wrangler.toml"),
    );
  if (phases.has("ec"))
    r.ec = await withServer("ec", vars(false), async (s) => {
      const ingress = await runIngress(s, {
        ops: OPS,
        connections: CONNECTIONS,
        keys: KEYS,
        certify: false,
        prefix: `ec-${run}`,
      });
      log(ingressRow("EC only", ingress));
      const serial = await serialWrites(s.port, `/v1/ops?replica=${REPLICA}`, SERIAL_OPS, `ec1-${run}`);
      return { ingress, serial };
    });
  const clusterPhases = ["cluster", "delay", "profile"].filter((p) => phases.has(p));
  if (clusterPhases.length)
    await withServer("cluster", vars(true), async (s) => {
      if (phases.has("cluster")) {
        const ingress = await runIngress(s, {
          ops: OPS,
          connections: CONNECTIONS,
          keys: KEYS,
          certify: true,
          prefix: `cl-${run}`,
        });
        log(ingressRow("EC + cluster", ingress));
        const serial = await serialWrites(s.port, `/v1/ops?replica=${REPLICA}`, SERIAL_OPS, `cl1-${run}`);
        const certified = await certifiedWrites(s.port, WAIT_OPS, `clw-${run}`);
        log(serialRow("EC write", serial) + "\n" + serialRow("certified write", certified));
        r.cluster = { ingress, serial, certified };
      }
      if (phases.has("profile")) {
        r.roles = await profileRoles(s, () =>
          runIngress(s, {
            ops: PROFILE_OPS,
            connections: CONNECTIONS,
            keys: KEYS,
            certify: true,
            prefix: `pr-${run}`,
            monitorMs: 0,
          }),
        );
        r.roles.ops = PROFILE_OPS;
        log(r.roles.markdown);
      }
      if (phases.has("delay")) {
        await setNodeFaults(s, { delayMs: DELAY });
        const monitor = new ClusterMonitor(s.port);
        monitor.start();
        try {
          const ingress = await runIngress(s, {
            ops: DELAY_OPS,
            connections: CONNECTIONS,
            keys: KEYS,
            certify: true,
            prefix: `dl-${run}`,
          });
          log(ingressRow("EC + cluster, delayed hops", ingress));
          viewAfterDelay = await clusterView(s);
          const serial = await serialWrites(
            s.port,
            `/v1/ops?replica=${REPLICA}`,
            Math.min(SERIAL_OPS, 100),
            `dl1-${run}`,
          );
          const certified = await certifiedWrites(s.port, DELAY_WAIT_OPS, `dlw-${run}`);
          log(
            serialRow("EC write, delayed hops", serial) +
              "\n" +
              serialRow("certified write, delayed hops", certified),
          );
          r.delay = { ingress, serial, certified, monitor: await monitor.stop() };
        } finally {
          await monitor.stop();
          await setNodeFaults(s, {});
        }
      }
    });
  const aloneOptions = (ops: number) => ({
    ops,
    keys: int("alone-keys"),
    clients: int("alone-clients"),
    batch: int("alone-batch"),
    senders: int("alone-senders"),
    window: int("alone-window"),
    rssEvery: Math.max(1000, Math.floor(int("alone-ops") / 10)),
    token: DEV_FAULT_TOKEN,
    budgetMs: int("alone-budget-s") * 1000,
  });
  if (phases.has("alone") || phases.has("profile-alone"))
    await withServer("alone", vars(true), async (s) => {
      if (phases.has("alone")) {
        // the Worker's heap through the inspector proxy: closed before the profile takes it
        const probe = await MemoryProbe.open(s, log);
        try {
          const a = await runClusterAlone(s, aloneOptions(int("alone-ops")), log, probe);
          r.alone = a;
          const start = a.rss[0]!;
          const last = a.rss[a.rss.length - 1]!;
          const idleS = int("idle-s", 0);
          let afterIdle: (MemorySample & { idleS: number }) | null = null;
          if (idleS > 0) {
            log(`  idle ${idleS} s, then memory again`);
            await new Promise((res) => setTimeout(res, idleS * 1000));
            afterIdle = { idleS, ...(await probe.sample()) };
          }
          r.memory = { start, afterRun: { ...last, certifiedOps: last.certified }, afterIdle };
        } finally {
          probe.close();
        }
      }
      if (phases.has("profile-alone")) {
        const ops = int("profile-alone-ops");
        const probe = MemoryProbe.rssOnly(s);
        r.rolesAlone = await profileRoles(s, () =>
          runClusterAlone(s, { ...aloneOptions(ops), monitorMs: 0 }, () => {}, probe),
        );
        r.rolesAlone.ops = ops;
        log(r.rolesAlone.markdown);
      }
    });
  const date = new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC";
  const md = render(r, date);
  log("\n" + md);
  const json = clusterJson({
    date,
    flags: Object.fromEntries(changed.map((k) => [k, String(flags[k])])),
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? "?", loadavg: loadavg() },
    nodes: PBFT_NODES.length,
    replicas: Object.keys(r.alone?.monitor.replicasCertifiedOps ?? {}).length || 3,
    ...(r.baseline ? { baseline: r.baseline } : {}),
    ...(r.cluster ? { cluster: r.cluster } : {}),
    ...(r.delay
      ? {
          delay: {
            ingress: { ...r.delay.ingress, viewChanges: r.delay.monitor.viewChanges },
            certified: r.delay.certified,
            delayMs: DELAY,
          },
        }
      : {}),
    model: writeModel(DELAY, MODEL_BATCHING_MS, MODEL_QUEUE_HOP_MS),
    ...(r.roles ? { roles: r.roles } : {}),
    ...(r.rolesAlone ? { rolesAlone: r.rolesAlone } : {}),
    ...(r.alone
      ? {
          alone: {
            ops: r.alone.ops,
            certified: r.alone.certified,
            certifiedOpsPerSec: r.alone.certifiedOpsPerSec,
            longestGapMs: r.alone.gap.longestMs,
            gapOpen: r.alone.gap.open,
            stalled: r.alone.stalled,
            nodesCpuMsPerOp: r.alone.nodesCpuMsPerOp,
          },
        }
      : {}),
    ...(r.memory ? { memory: r.memory } : {}),
    workerReloads: reloads,
  });
  log("\n" + JSON.stringify(json, null, 2));
  const { path, why } = resultsPath({ out: flags.out, committed: COMMITTED, changed });
  log(`\n(${why})`);
  if (path) {
    const abs = resolve(REPO_ROOT, path);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, md + "\n");
    writeFileSync(jsonPathOf(abs), JSON.stringify(json, null, 2) + "\n");
    const svgPath = abs.replace(/(-latest)?\.md$/, "") + "-lag.svg";
    const series = [
      r.cluster && {
        label: `EC + 4 PBFT nodes (${r.cluster.ingress.ops} ops)`,
        colour: "#1f77b4",
        points: r.cluster.ingress.lagOverTime,
      },
      r.delay && {
        label: `node hops +${DELAY[0]}–${DELAY[1]} ms (${r.delay.ingress.ops} ops)`,
        colour: "#d62728",
        points: r.delay.ingress.lagOverTime,
      },
    ].filter((x) => !!x);
    if (series.length)
      writeFileSync(
        svgPath,
        lagSvg(`Certification lag over time, ${CONNECTIONS} connections through the edge`, series),
      );
    log(`wrote ${abs}, ${jsonPathOf(abs)}${series.length ? ` and ${svgPath}` : ""}`);
  }
});
