/**
 * `npm run bench`: the EC write path under `wrangler dev` against a minimal Worker + SQLite DO
 * baseline, in the same run, interleaved (baseline, system, baseline, system, ...) because the
 * machine is shared and noisy; medians of the rounds are reported. Then propagation (time for a
 * write to be visible at every other replica, under the same load) and workerd memory over
 * `--memory-ops` writes. Prints a Markdown summary and writes it to bench/results/ec-latest.md.
 *
 * Memory: workerd RSS is read after warm-up and again after `--memory-ops` system writes (the
 * measured rounds' system writes count towards them; a final phase under the same load makes up the
 * rest and carries the propagation probes), once replication has settled.
 *
 * Batches: after the rounds, `--batch-ops` ops (100) in one `POST /v1/ops/batch` beside as many
 * single requests on one connection, alternated `--batch-rounds` times (5), medians (batch-vs-single.ts).
 * The summary's figures are also written as JSON beside the Markdown (same name, `.json`).
 *
 * Flags: --ops N (per measured round, default 5000), --rounds N (default 3 per system),
 * --warmup N (1000), --memory-ops N (50000), --prop-ops N (minimum size of the propagation phase,
 * 2500), --connections N (10), --sample-every N (50), --keys N (1000),
 * --wrangler-log LEVEL (warn; "info" logs every request with its ms), --dedupe-horizon-ms N (10000:
 * how old a delivered op must be before its row is collected; shortened from the deployed 10 min so
 * the storage plateau shows within one run), --out PATH (where to write the summary; without it,
 * only a run with every default replaces bench/results/ec-latest.md), --help.
 *
 * Storage: the size of the system's persist dir is printed after warm-up, after each round, after
 * the propagation phase and again once log collection has caught up (horizon + 3 collection periods).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { makeAgent, post, runLoad, type LoadResult } from "./load.js";
import { PropagationProbe, waitVisible } from "./propagation.js";
import { fmt, median, summarize } from "./stats.js";
import { buildWorkload, makeClients, signedMarker, type BenchClient } from "./workload.js";
import { intFlag } from "../int-flag.js";
import { cpuMs, memKiB, workerdPids } from "./proc-stats.js";
import { dirBytes } from "./disk.js";
import { resultsPath } from "../results-path.js";
import { batchVsSingle } from "./batch-vs-single.js";
import { BATCH_OPS_MAX } from "../../shared/op-limits.js";
import {
  REPO_ROOT,
  installCleanup,
  runScript,
  isInterrupted,
  startWranglerDev,
  type DevServer,
} from "../../test/support/wrangler-dev.js";

const OPTIONS = {
  ops: { type: "string", default: "5000" },
  rounds: { type: "string", default: "3" },
  warmup: { type: "string", default: "1000" },
  "memory-ops": { type: "string", default: "50000" },
  "prop-ops": { type: "string", default: "2500" },
  connections: { type: "string", default: "10" },
  "sample-every": { type: "string", default: "50" },
  keys: { type: "string", default: "1000" },
  "wrangler-log": { type: "string", default: "warn" },
  "dedupe-horizon-ms": { type: "string", default: "10000" },
  "batch-ops": { type: "string", default: "100" },
  "batch-rounds": { type: "string", default: "5" },
  out: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;
const COMMITTED_RESULTS = "bench/results/ec-latest.md";

const USAGE = `usage: npm run bench -- [options]

The EC write path under wrangler dev against a minimal Worker + SQLite DO baseline, then
propagation and workerd memory. Prints a Markdown summary.

options (default):
  --ops N                 writes per measured round (5000)
  --rounds N              measured rounds per system (3)
  --warmup N              warm-up writes (1000)
  --memory-ops N          system writes before the memory reading (50000)
  --prop-ops N            minimum size of the propagation phase (2500)
  --connections N         concurrent connections (10)
  --sample-every N        propagation probe every N writes (50)
  --keys N                distinct keys (1000)
  --wrangler-log LEVEL    wrangler's log level (warn)
  --dedupe-horizon-ms N   op-log collection horizon (10000)
  --batch-ops N           ops in one batch, beside as many single requests (100)
  --batch-rounds N        rounds of batch vs single, alternated (5)
  --out PATH              write the summary to PATH; without it only a run with every
                          default replaces ${COMMITTED_RESULTS}
  -h, --help              this text`;

/** The flags, or exit 2 with the usage. */
function parseCli() {
  try {
    return parseArgs({ options: OPTIONS, strict: true });
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
}
const flags = parseCli().values;
if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}
/** The flags given with another value than their default: a partial (or different) run. */
const changedFlags = (Object.keys(OPTIONS) as (keyof typeof OPTIONS)[]).filter((k) => {
  const o = OPTIONS[k] as { default?: string };
  return o.default !== undefined && flags[k] !== o.default;
});
const int = (name: keyof typeof flags, min: number): number => intFlag(flags, name, min);
const OPS = int("ops", 1);
const ROUNDS = int("rounds", 1);
const WARMUP = int("warmup", 0);
const MEMORY_OPS = int("memory-ops", 0);
const PROP_OPS = int("prop-ops", 1);
const CONNECTIONS = int("connections", 1);
const SAMPLE_EVERY = int("sample-every", 1);
const KEYS = int("keys", 1);
const LOG_LEVEL = flags["wrangler-log"] as "warn";
const HORIZON_MS = int("dedupe-horizon-ms", 0);
const BATCH_OPS = Math.min(int("batch-ops", 1), BATCH_OPS_MAX);
const BATCH_ROUNDS = int("batch-rounds", 1);
/** Log collection runs every 5 anti-entropy periods (1 s in wrangler.jsonc). */
const GC_PERIOD_MS = 5_000;

const HOME = "weur";
const OTHERS = ["enam", "apac"];
const WRITE_PATH = `/v1/ops?replica=${HOME}`;
const TARGET_THROUGHPUT = 0.7;
const TARGET_P50 = 1.5;

const log = (s: string) => console.log(s);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function describe(label: string, p: Phase): string {
  const r = p.load;
  const s = summarize(r.latenciesMs);
  const err = r.errors ? `  ERRORS ${r.errors}: ${r.errorSamples[0] ?? ""}` : "";
  return (
    `  ${label.padEnd(22)} ${String(r.requests).padStart(6)} ops in ${fmt(r.elapsedMs / 1000, 2)} s: ` +
    `${fmt(r.opsPerSec, 0).padStart(6)} ops/s  p50 ${fmt(s.p50, 2)} ms  p99 ${fmt(s.p99, 2)} ms  max ${fmt(s.max, 1)} ms  workerd CPU ${fmt(p.cpuPerOp, 2)} ms/op${err}`
  );
}

let markerN = 0;
/** Write one op on a fresh key and wait until every other replica shows it: replication caught up. */
async function settle(sys: DevServer, client: BenchClient, prefix: string): Promise<number> {
  const agent = makeAgent(2);
  try {
    const key = `${prefix}/settle${markerN++}`;
    const res = await post(agent, sys.port, WRITE_PATH, await signedMarker(client, key), true);
    if (res.status !== 200) throw new Error(`marker write failed: ${res.status} ${res.body}`);
    return await waitVisible(agent, sys.port, OTHERS, key, 1, 180_000);
  } finally {
    agent.destroy();
  }
}

interface RssSample {
  pids: number[];
  /** Per pid: "proxy" (serves the dev port) or "runtime" (runs the Worker and its DOs). */
  roles: string[];
  perPid: { rss: number; anon: number; file: number; shmem: number }[];
  kib: number;
}

function workerdRss(p: DevServer): RssSample {
  const pids = workerdPids(p.pid).sort((a, b) => a - b);
  const roles = pids.map((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(`entry=127.0.0.1:${p.port}\0`)
        ? "proxy"
        : "runtime";
    } catch {
      return "?";
    }
  });
  const perPid = pids.map(memKiB);
  return { pids, roles, perPid, kib: perPid.reduce((n, m) => n + m.rss, 0) };
}

function machineFacts(): string[] {
  const wranglerVersion = (() => {
    try {
      return (
        JSON.parse(readFileSync(join(REPO_ROOT, "node_modules/wrangler/package.json"), "utf8")) as {
          version: string;
        }
      ).version;
    } catch {
      return "?";
    }
  })();
  let nproc = String(cpus().length);
  try {
    nproc = execFileSync("nproc", { encoding: "utf8" }).trim();
  } catch {
    /* keep os.cpus() */
  }
  return [
    `nproc ${nproc}`,
    `CPU ${cpus()[0]?.model ?? "?"}`,
    `RAM ${fmt(totalmem() / 2 ** 30, 1)} GiB`,
    `Node ${process.version}`,
    `wrangler ${wranglerVersion}`,
    `${new Date().toISOString()}`,
  ];
}

interface Phase {
  load: LoadResult;
  /** workerd CPU time (all processes under the wrangler) per request, ms. */
  cpuPerOp: number;
}

/** CPU time of the workerd processes under a wrangler (proxy + runtime). */
const workerdCpu = (p: DevServer) => workerdPids(p.pid).reduce((n, pid) => n + cpuMs(pid), 0);

async function main(): Promise<void> {
  installCleanup();
  const started = Date.now();
  const logDir = mkdtempSync(join(tmpdir(), "aspec-bench-logs-"));
  const command = `npm run bench${process.argv.length > 2 ? " -- " + process.argv.slice(2).join(" ") : ""}`;
  log(`# Aspec Edge EC bench: ${command}`);
  log(
    `  ${OPS} ops/round × ${ROUNDS} rounds per system, ${CONNECTIONS} connections, warm-up ${WARMUP}, ` +
      `memory over ${Math.max(MEMORY_OPS, ROUNDS * OPS + PROP_OPS)} system ops`,
  );

  log("Starting wrangler dev (system, then baseline)...");
  const sys = await startWranglerDev({
    name: "system",
    config: join(REPO_ROOT, "wrangler.jsonc"),
    vars: { ENVIRONMENT: "dev", DEDUPE_HORIZON_MS: String(HORIZON_MS) },
    logLevel: LOG_LEVEL,
    readyPath: "/v1/replicas",
    logFile: join(logDir, "system.log"),
  });
  const base = await startWranglerDev({
    name: "baseline",
    config: join(REPO_ROOT, "bench/baseline/wrangler.toml"),
    logLevel: LOG_LEVEL,
    readyPath: "/",
    logFile: join(logDir, "baseline.log"),
  });
  log(`  system   ${sys.url} (wrangler pid ${sys.pid}, workerd ${workerdPids(sys.pid).join(",")})`);
  log(`  baseline ${base.url} (wrangler pid ${base.pid}, workerd ${workerdPids(base.pid).join(",")})`);
  log(`  wrangler logs in ${logDir}`);

  const agent = makeAgent(CONNECTIONS);
  const probeAgent = makeAgent(4);
  const sysClients = await makeClients(CONNECTIONS);
  const baseClients = await makeClients(CONNECTIONS);
  const marker = (await makeClients(1))[0]!;
  const mib = (kib: number) => fmt(kib / 1024, 1);
  const run = `b${Date.now().toString(36)}`;
  let systemOps = 0;

  const measure = async (p: DevServer, go: () => Promise<LoadResult>): Promise<Phase> => {
    const c0 = workerdCpu(p);
    const load = await go();
    return { load, cpuPerOp: (workerdCpu(p) - c0) / load.requests };
  };
  /** Sign (just before the phase: ts must be fresh), then run the signed writes against the system. */
  const systemPhase = async (label: string, ops: number, sampleEvery = 0, probe?: PropagationProbe) => {
    const w = await buildWorkload({
      ops,
      clients: sysClients,
      prefix: `${run}/${label}`,
      keys: KEYS,
      sampleEvery,
    });
    systemOps += ops;
    return measure(sys, () =>
      runLoad(agent, {
        port: sys.port,
        path: WRITE_PATH,
        bodies: w.bodies,
        readBody: false,
        ...(probe && {
          onReply: (conn: number, i: number, status: number, _body: string, t: number) => {
            const p = w.probes[conn]![i];
            if (p && status === 200) probe.track(p.key, p.expect, t);
          },
        }),
      }),
    );
  };
  /** The same kind of JSON bodies (signed ops), POSTed to the baseline. */
  const baselinePhase = async (label: string, ops: number) => {
    const w = await buildWorkload({
      ops,
      clients: baseClients,
      prefix: `${run}/${label}`,
      keys: KEYS,
      sampleEvery: 0,
    });
    return measure(base, () =>
      runLoad(agent, { port: base.port, path: "/", bodies: w.bodies, readBody: false }),
    );
  };
  const settleSystem = async () => {
    systemOps++;
    return settle(sys, marker, run);
  };

  // Warm-up: JIT, SQLite pages, DO instances, queue consumer.
  if (WARMUP > 0) {
    log(`Warm-up (${WARMUP} each)...`);
    log(describe("baseline warm-up", await baselinePhase("warm", WARMUP)));
    log(describe("system warm-up", await systemPhase("warm", WARMUP)));
    log(`  replication settled ${fmt(await settleSystem(), 0)} ms later`);
  }
  await sleep(1000);
  const rssBefore = workerdRss(sys);
  const diskBefore = dirBytes(sys.persistDir);
  log(`  persist dir ${mib(diskBefore / 1024)} MiB, workerd RSS ${mib(rssBefore.kib)} MiB after warm-up`);
  const baseRssBefore = workerdRss(base);
  const opsAtBefore = systemOps;

  // Interleaved rounds.
  const baseRounds: Phase[] = [];
  const sysRounds: Phase[] = [];
  const settleMs: number[] = [];
  const rssTrail: number[] = [];
  const diskTrail: number[] = [];
  for (let i = 1; i <= ROUNDS; i++) {
    log(`Round ${i}/${ROUNDS}`);
    const b = await baselinePhase(`r${i}`, OPS);
    log(describe("baseline", b));
    baseRounds.push(b);
    const s = await systemPhase(`r${i}`, OPS);
    log(describe("system", s));
    sysRounds.push(s);
    const st = await settleSystem();
    settleMs.push(st);
    rssTrail.push(workerdRss(sys).kib);
    diskTrail.push(dirBytes(sys.persistDir));
    log(`  replication backlog drained ${fmt(st, 0)} ms after the round`);
    log(
      `  persist dir ${mib(diskTrail[diskTrail.length - 1]! / 1024)} MiB, workerd RSS ${mib(rssTrail[rssTrail.length - 1]!)} MiB`,
    );
  }

  const baseRssAfter = workerdRss(base);

  // A batch beside as many single requests, same system, same run.
  log(
    `Batch vs single: ${BATCH_OPS} ops in one batch beside ${BATCH_OPS} single requests, ${BATCH_ROUNDS} rounds`,
  );
  const batch = await batchVsSingle(sys.port, HOME, marker, `${run}/batch`, BATCH_OPS, BATCH_ROUNDS);
  systemOps += 2 * BATCH_OPS * BATCH_ROUNDS;
  log(
    `  single ${fmt(batch.singleOpsPerSec, 0)} ops/s, batch ${fmt(batch.batchOpsPerSec, 0)} ops/s: ${fmt(batch.ratio, 1)}×`,
  );

  // Propagation under the same load; it also makes up the memory phase's op count.
  const propOps = Math.max(PROP_OPS, MEMORY_OPS - (systemOps - opsAtBefore));
  log(
    `Propagation phase: ${propOps} ops, every ${SAMPLE_EVERY}th on a fresh key followed to ${OTHERS.join(", ")}`,
  );
  const probe = new PropagationProbe({
    port: sys.port,
    agent: probeAgent,
    replicas: OTHERS,
    maxInFlight: 8,
    timeoutMs: 60_000,
  });
  const propPhase = await systemPhase("prop", propOps, SAMPLE_EVERY, probe);
  log(describe("system (+probes)", propPhase));
  await probe.drain();
  const lastSettle = await settleSystem();
  log(`  replication backlog drained ${fmt(lastSettle, 0)} ms after the phase`);
  await sleep(1000);
  const rssAfter = workerdRss(sys);
  const diskAfter = dirBytes(sys.persistDir);
  const memOps = systemOps - opsAtBefore;
  log(`  persist dir ${mib(diskAfter / 1024)} MiB, workerd RSS ${mib(rssAfter.kib)} MiB after ${memOps} ops`);
  // Plateau: wait until every delivered op is past the horizon and collection had 3 periods for it.
  const collectWaitMs = HORIZON_MS + 3 * GC_PERIOD_MS;
  log(`Waiting ${fmt(collectWaitMs / 1000, 0)} s for op-log collection (horizon ${HORIZON_MS} ms)...`);
  await sleep(collectWaitMs);
  const rssCollected = workerdRss(sys);
  const diskCollected = dirBytes(sys.persistDir);
  log(
    `  persist dir ${mib(diskCollected / 1024)} MiB, workerd RSS ${mib(rssCollected.kib)} MiB after collection`,
  );
  // The plateau itself: as many ops again; once collected, their rows' pages are reused.
  log(`Plateau phase: ${memOps} more ops, then collection again...`);
  const again = await systemPhase("plateau", memOps);
  log(describe("system (plateau)", again));
  await settleSystem();
  await sleep(collectWaitMs);
  const rssPlateau = workerdRss(sys);
  const diskPlateau = dirBytes(sys.persistDir);
  log(
    `  persist dir ${mib(diskPlateau / 1024)} MiB, workerd RSS ${mib(rssPlateau.kib)} MiB after collection`,
  );

  // Report.
  const med = (rs: Phase[], f: (p: Phase) => number) => median(rs.map(f));
  const tput = (p: Phase) => p.load.opsPerSec;
  const p50 = (p: Phase) => summarize(p.load.latenciesMs).p50;
  const p99 = (p: Phase) => summarize(p.load.latenciesMs).p99;
  const cpu = (p: Phase) => p.cpuPerOp;
  const B = {
    tput: med(baseRounds, tput),
    p50: med(baseRounds, p50),
    p99: med(baseRounds, p99),
    cpu: med(baseRounds, cpu),
  };
  const S = {
    tput: med(sysRounds, tput),
    p50: med(sysRounds, p50),
    p99: med(sysRounds, p99),
    cpu: med(sysRounds, cpu),
  };
  const ratio = { tput: S.tput / B.tput, p50: S.p50 / B.p50, p99: S.p99 / B.p99, cpu: S.cpu / B.cpu };
  const tputOk = ratio.tput >= TARGET_THROUGHPUT;
  const p50Ok = ratio.p50 <= TARGET_P50;
  const errs = (rs: Phase[]) => rs.reduce((n, r) => n + r.load.errors, 0);
  const sysErrors = errs(sysRounds) + propPhase.load.errors;
  const baseErrors = errs(baseRounds);
  const prop = summarize(probe.samplesMs);
  const signed = (kib: number) => (kib >= 0 ? "+" : "−") + mib(Math.abs(kib));
  const pass = (ok: boolean) => (ok ? "PASS" : "MISS");
  const facts = machineFacts();

  const lines: string[] = [];
  lines.push(`### EC write path vs. baseline (\`wrangler dev\`, local)`);
  lines.push("");
  lines.push(
    `Signed \`counter.add\` ops, \`POST /v1/ops?replica=${HOME}\`, ${CONNECTIONS} keep-alive connections, ` +
      `${OPS} ops per round, median of ${ROUNDS} interleaved rounds per system. ` +
      `Baseline: a Worker → one SQLite-backed DO that inserts the same JSON body into a table (bench/baseline/).`,
  );
  lines.push("");
  lines.push("| | baseline | Aspec Edge | system / baseline | target |");
  lines.push("|---|---:|---:|---:|---|");
  lines.push(
    `| throughput (ops/s) | ${fmt(B.tput, 0)} | ${fmt(S.tput, 0)} | ${fmt(ratio.tput, 2)}× | ≥ ${TARGET_THROUGHPUT}× **${pass(tputOk)}** |`,
  );
  lines.push(
    `| p50 latency (ms) | ${fmt(B.p50, 2)} | ${fmt(S.p50, 2)} | ${fmt(ratio.p50, 2)}× | ≤ ${TARGET_P50}× **${pass(p50Ok)}** |`,
  );
  lines.push(`| p99 latency (ms) | ${fmt(B.p99, 2)} | ${fmt(S.p99, 2)} | ${fmt(ratio.p99, 2)}× | |`);
  lines.push(`| workerd CPU per op (ms) | ${fmt(B.cpu, 2)} | ${fmt(S.cpu, 2)} | ${fmt(ratio.cpu, 2)}× | |`);
  lines.push(
    `| ${BATCH_OPS} ops: ${BATCH_OPS} single requests vs one batch (ops/s) | ${fmt(batch.singleOpsPerSec, 0)} (single) | ${fmt(batch.batchOpsPerSec, 0)} (batch) | ${fmt(batch.ratio, 1)}× (batch / single) | |`,
  );
  lines.push(
    `| propagation ${HOME} → ${OTHERS.join(" + ")} (ms) | | p50 ${fmt(prop.p50, 0)} / p99 ${fmt(prop.p99, 0)} | | |`,
  );
  lines.push(
    `| workerd RSS over ${memOps} ops (MiB) | | ${mib(rssBefore.kib)} → ${mib(rssAfter.kib)} (${signed(rssAfter.kib - rssBefore.kib)}) | | |`,
  );
  lines.push("");
  lines.push("Rounds (ops/s · p50 ms · p99 ms · workerd CPU ms/op):");
  lines.push("");
  const row = (p: Phase) => `${fmt(tput(p), 0)} · ${fmt(p50(p), 2)} · ${fmt(p99(p), 2)} · ${fmt(cpu(p), 2)}`;
  for (let i = 0; i < ROUNDS; i++)
    lines.push(
      `- round ${i + 1}: baseline ${row(baseRounds[i]!)}; system ${row(sysRounds[i]!)}; ` +
        `replication backlog drained ${fmt(settleMs[i]!, 0)} ms after the round`,
    );
  lines.push(
    `- batch vs single: ${BATCH_OPS} signed \`counter.add\` ops sent one \`POST /v1/ops\` after the other on one ` +
      `connection, then ${BATCH_OPS} others in one \`POST /v1/ops/batch\`, alternated ${BATCH_ROUNDS} times (median); ` +
      `ms per round (single · batch): ${batch.perRound.map((p) => `${fmt(p.singleMs, 0)} · ${fmt(p.batchMs, 0)}`).join(", ")}`,
  );
  if (sysErrors || baseErrors) lines.push(`- non-2xx replies: system ${sysErrors}, baseline ${baseErrors}`);
  lines.push(
    `- propagation: ${prop.count} samples (every ${SAMPLE_EVERY}th write of a ${propOps}-op phase under the same load; ` +
      `${probe.skipped} skipped at the in-flight cap, ${probe.timedOut} timed out): p50 ${fmt(prop.p50, 1)}, ` +
      `p90 ${fmt(prop.p90, 1)}, p99 ${fmt(prop.p99, 1)}, max ${fmt(prop.max, 1)} ms, from the write's reply to the ` +
      `poll reply showing it at both (${probe.polls} polls; the phase ran at ${row(propPhase)})`,
  );
  const perRole = (b: RssSample, a: RssSample) =>
    a.pids
      .map((pid, k) => {
        const x = b.perPid[b.pids.indexOf(pid)] ?? { rss: 0, anon: 0, file: 0, shmem: 0 };
        const y = a.perPid[k]!;
        return (
          `${a.roles[k]} (pid ${pid}) ${mib(x.rss)} → ${mib(y.rss)} ` +
          `(anon ${mib(x.anon)} → ${mib(y.anon)}, file ${mib(x.file)} → ${mib(y.file)}, shmem ${mib(x.shmem)} → ${mib(y.shmem)})`
        );
      })
      .join("; ");
  lines.push(
    `- memory (MiB, VmRSS of the workerd processes under wrangler) after warm-up, then after ${memOps} more system ` +
      `writes (the rounds' + the propagation phase's) once replication had settled: ${perRole(rssBefore, rssAfter)}. ` +
      `Total after each system round: ${rssTrail.map(mib).join(", ")}. For scale, the baseline's workerd went ` +
      `${mib(baseRssBefore.kib)} → ${mib(baseRssAfter.kib)} over its ${ROUNDS * OPS} rounds' writes: ${perRole(baseRssBefore, baseRssAfter)}`,
  );
  lines.push(
    `- storage (persist dir, MiB; dedupe horizon ${HORIZON_MS} ms): ${mib(diskBefore / 1024)} after warm-up, ` +
      `${diskTrail.map((b) => mib(b / 1024)).join(", ")} after each round, ${mib(diskAfter / 1024)} after the ` +
      `propagation phase, ${mib(diskCollected / 1024)} once collection caught up (${fmt(collectWaitMs / 1000, 0)} s later; ` +
      `workerd RSS then ${mib(rssCollected.kib)} MiB); after ${memOps} more ops and collection again ` +
      `${mib(diskPlateau / 1024)} (workerd RSS ${mib(rssPlateau.kib)} MiB)`,
  );
  lines.push("");
  lines.push(
    `Command: \`${command}\` · ${facts.join(" · ")} · run took ${fmt((Date.now() - started) / 1000, 0)} s`,
  );
  const md = lines.join("\n") + "\n";
  const json = {
    command,
    machine: facts,
    baseline: B,
    system: S,
    ratio,
    batch: {
      ops: batch.ops,
      rounds: batch.rounds,
      singleOpsPerSec: batch.singleOpsPerSec,
      batchOpsPerSec: batch.batchOpsPerSec,
      ratio: batch.ratio,
      perRound: batch.perRound,
    },
    propagationMs: { p50: prop.p50, p99: prop.p99, samples: prop.count },
  };

  log("");
  log("Side by side (median of rounds):");
  log(`                      baseline     system    ratio   target`);
  log(
    `  throughput ops/s  ${fmt(B.tput, 0).padStart(10)} ${fmt(S.tput, 0).padStart(10)} ${fmt(ratio.tput, 2).padStart(7)}x  >= ${TARGET_THROUGHPUT}x ${pass(tputOk)}`,
  );
  log(
    `  p50 ms            ${fmt(B.p50, 2).padStart(10)} ${fmt(S.p50, 2).padStart(10)} ${fmt(ratio.p50, 2).padStart(7)}x  <= ${TARGET_P50}x ${pass(p50Ok)}`,
  );
  log(
    `  p99 ms            ${fmt(B.p99, 2).padStart(10)} ${fmt(S.p99, 2).padStart(10)} ${fmt(ratio.p99, 2).padStart(7)}x`,
  );
  log(
    `  workerd CPU ms/op ${fmt(B.cpu, 2).padStart(10)} ${fmt(S.cpu, 2).padStart(10)} ${fmt(ratio.cpu, 2).padStart(7)}x`,
  );
  log(
    `  batch ${String(BATCH_OPS).padEnd(4)} ops/s ${fmt(batch.singleOpsPerSec, 0).padStart(10)} ${fmt(batch.batchOpsPerSec, 0).padStart(10)} ${fmt(batch.ratio, 2).padStart(7)}x  (single requests | one batch)`,
  );
  log(`  propagation ms    p50 ${fmt(prop.p50, 1)}  p99 ${fmt(prop.p99, 1)}  (n=${prop.count})`);
  log(
    `  workerd RSS       before ${mib(rssBefore.kib)} MiB  after ${mib(rssAfter.kib)} MiB  delta ${signed(rssAfter.kib - rssBefore.kib)} MiB over ${memOps} ops`,
  );
  log("");
  log(md);
  log(JSON.stringify(json));
  const changed = isInterrupted() ? [...changedFlags, "interrupted"] : changedFlags;
  const target = resultsPath({ out: flags.out, committed: COMMITTED_RESULTS, changed });
  if (target.path !== undefined) {
    const outFile = resolve(REPO_ROOT, target.path);
    mkdirSync(dirname(outFile), { recursive: true });
    writeFileSync(outFile, md);
    writeFileSync(outFile.replace(/\.md$/, "") + ".json", JSON.stringify(json, null, 2) + "\n");
    log(`Written to ${target.path} and its .json (${target.why}); wrangler logs in ${logDir}`);
  } else log(`Not written: ${target.why}; wrangler logs in ${logDir}`);
  agent.destroy();
  probeAgent.destroy();
}

runScript(main);
