/**
 * `npm run bench:faults` (tsx bench/faults/run.ts): certification under each dev fault in turn, in
 * one fresh `wrangler dev` (127.0.0.1 only), beside the no-fault baseline of the same run.
 *
 * Phases, in order: `none`; `mangledPosts` on pbft-1; `hang` on pbft-2; `replayOld` on replica
 * weur; `hang` on the view's primary (read from GET /v1/cluster/status when the phase starts). Each
 * switches its fault on (POST /v1/dev/faults), writes `--ops` signed counter ops round-robin to the
 * three replicas at `--rate` ops/s, follows each op until every replica shows it certified (each
 * reply checked with the SDK's verifiers, request nonces included), reads each key twice at every
 * replica, takes the replicas' standing and the view, switches the fault off and lets the system
 * settle. Per op, the lag is from its acknowledgement to the first poll of the last replica's
 * newest certificate at or past its batch (polled every 100 ms per replica).
 *
 * Prints a Markdown table; a full run with the default flags writes bench/results/faults-latest.md
 * and .json, `--out PATH.md` writes PATH.md and PATH.json. Exit code 1 when a phase failed (an op
 * not certified everywhere, a replica not ok or stale at the phase's end, no settling afterwards).
 * Bounded: each phase by `--phase-budget-s` + `--settle-s`, the whole run by `--max-run-s`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import {
  DEV_FAULT_TOKEN,
  REPO_ROOT,
  installCleanup,
  runScript,
  startWranglerDev,
  stopAll,
} from "../../test/support/wrangler-dev.js";
import { intFlag } from "../int-flag.js";
import { resultsPath } from "../results-path.js";
import { brokenPhase, renderTable, verdictOf, type PhaseFigures } from "./figures.js";
import { LocalApi } from "./http.js";
import { HeadPoller, clusterNow, pin, replicaStanding, type Refusals } from "./observe.js";
import { runPhase, type PhaseSpec, type RunContext, type Workload } from "./phase.js";

const PHASES: readonly PhaseSpec[] = [
  { name: "none", target: null, mode: null },
  { name: "mangledPosts", target: "pbft-1", mode: "mangledPosts" },
  { name: "hang", target: "pbft-2", mode: "hang" },
  { name: "replayOld", target: "weur", mode: "replayOld" },
  { name: "hang-primary", target: "primary", mode: "hang" },
];

const OPTIONS = {
  ops: { type: "string", default: "200" },
  keys: { type: "string", default: "8" },
  clients: { type: "string", default: "4" },
  rate: { type: "string", default: "20" },
  "warmup-ops": { type: "string", default: "60" },
  "phase-budget-s": { type: "string", default: "40" },
  "settle-s": { type: "string", default: "15" },
  "max-run-s": { type: "string", default: "360" },
  phases: { type: "string", default: PHASES.map((p) => p.name).join(",") },
  out: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;
const COMMITTED = "bench/results/faults-latest.md";

const USAGE = `usage: npm run bench:faults -- [options]   (defaults in brackets)
  --ops N --keys N --clients N    ops per phase over keys and client keys [200, 8, 4]
  --rate N                        ops sent per second, round-robin over the replicas [20]
  --warmup-ops N                  ops written and followed before the first phase, not reported (0: none) [60]
  --phase-budget-s N              writing + following certification, per phase [40]
  --settle-s N                    settling after the fault is switched off, per phase [15]
  --max-run-s N                   the whole run at most; past it wrangler is stopped, exit 1 [360]
  --phases LIST                   any of ${PHASES.map((p) => p.name).join(",")} [all]
  --out PATH.md                   write the table there and the figures to PATH.json`;

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
const workload: Workload = {
  ops: int("ops"),
  keys: int("keys"),
  clients: int("clients"),
  rate: int("rate"),
  budgetMs: int("phase-budget-s") * 1000,
  settleMs: int("settle-s") * 1000,
};
const maxRunMs = int("max-run-s") * 1000;
const wanted = (flags.phases ?? "").split(",").filter(Boolean);
for (const p of wanted)
  if (!PHASES.some((x) => x.name === p))
    throw new Error(`unknown phase ${p}: ${PHASES.map((x) => x.name).join(", ")}`);
const phases = PHASES.filter((p) => wanted.includes(p.name));

const log = (s: string) => console.log(s);
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(" / ");

function render(figures: readonly PhaseFigures[], date: string, loadStart: string, loadEnd: string): string {
  return [
    `# bench:faults — ${date}`,
    "",
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? "?"}; load average (1 / 5 / 15 min) ${loadStart} at the start, ${loadEnd} at the end; one wrangler dev (workerd) on 127.0.0.1; flags: ${changed.length ? changed.map((k) => `--${k} ${flags[k]}`).join(" ") : "defaults"}.`,
    "",
    `Per phase: ${workload.ops} signed counter ops over ${workload.keys} keys and ${workload.clients} client keys, ${workload.rate} ops/s round-robin to every replica. Lag: from an op's acknowledgement to the first 100 ms poll at which the last replica's newest certificate covered its batch (ratio to the \`none\` phase in brackets); "home": the replica it was written to. View changes: the view before → after the phase → after settling.`,
    "",
    renderTable(figures),
    "",
  ].join("\n");
}

runScript(async () => {
  installCleanup();
  // never hangs: past the run's budget, stop wrangler and fail
  const watchdog = setTimeout(() => {
    console.error(`the run exceeded --max-run-s ${maxRunMs / 1000}: stopping wrangler`);
    process.exitCode = 1;
    void stopAll().finally(() => process.exit(1));
  }, maxRunMs);
  watchdog.unref();
  const loadStart = load();
  const t0 = performance.now();
  const server = await startWranglerDev({
    name: "bench-faults",
    logFile: join(tmpdir(), "aspec-bench-faults.log"),
    readyPath: "/v1/replicas",
    vars: { ENVIRONMENT: "dev", FAULT_TOKEN: DEV_FAULT_TOKEN },
  });
  const figures: PhaseFigures[] = [];
  try {
    const api = new LocalApi(server.url);
    const pinned = await pin(api);
    const refused: Refusals = {};
    const poller = new HeadPoller(api, pinned, refused);
    poller.start();
    const ctx: RunContext = {
      api,
      pinned,
      poller,
      refused,
      token: DEV_FAULT_TOKEN,
      log,
      tag: Date.now().toString(36),
    };
    try {
      // a cold workerd (and this process) would make the first phase, the baseline, look slow; the
      // warm-up's writes are also the client activity that starts the nodes' heartbeat
      const warmupOps = int("warmup-ops", 0);
      if (warmupOps > 0) {
        const w = await runPhase(
          ctx,
          { name: "warmup", target: null, mode: null },
          { ...workload, ops: warmupOps },
        );
        log(`   warm-up: lag p50 ${w.lag.p50 === null ? "—" : Math.round(w.lag.p50)} ms (not reported)`);
      }
      // then every replica certified and fresh before the first phase (an idle cluster certifies
      // nothing since nodes beat only while clients are active: the warm-up is that activity)
      const warm = performance.now();
      for (;;) {
        const s = await replicaStanding(api, pinned.replicas);
        const c = await clusterNow(api);
        if (s?.ends.every((e) => e.certification === "ok" && e.stale === false) && c.allNormal) break;
        if (performance.now() - warm > 45_000)
          throw new Error(
            `the replicas were not certified within 45 s of the warm-up: ${JSON.stringify(s?.ends)} ${JSON.stringify(c)}; errors ${JSON.stringify(api.errors)}`,
          );
        await new Promise((r) => setTimeout(r, 500));
      }
      for (const spec of phases) {
        const started = performance.now();
        let f: PhaseFigures;
        try {
          f = await runPhase(ctx, spec, workload);
        } catch (e) {
          f = brokenPhase(spec.name, spec.mode ?? "—", String(e).slice(0, 300), performance.now() - started);
        }
        const v = verdictOf(f);
        for (const u of f.uncertified.slice(0, 5))
          log(
            `   not certified everywhere: ${u.id} (home ${u.home}, acked at ${u.ackedAtMs} ms): ${JSON.stringify(u.said)}`,
          );
        log(
          `   ${v.ok ? "ok" : `FAILED: ${v.failures.join("; ")}`} (${((performance.now() - started) / 1000).toFixed(0)} s)`,
        );
        figures.push(f);
      }
    } finally {
      await poller.stop();
    }
  } finally {
    await server.stop();
  }
  clearTimeout(watchdog);
  const loadEnd = load();
  const date = new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC";
  const md = render(figures, date, loadStart, loadEnd);
  log("\n" + md);
  const failed = figures.filter((f) => !verdictOf(f).ok).map((f) => f.phase);
  const json = {
    bench: "faults",
    date,
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? null, loadStart, loadEnd },
    flags: Object.fromEntries(changed.map((k) => [k, flags[k]])),
    workload,
    runMs: Math.round(performance.now() - t0),
    ok: failed.length === 0,
    phases: figures.map((f) => ({ ...f, verdict: verdictOf(f) })),
  };
  const { path, why } = resultsPath({ out: flags.out, committed: COMMITTED, changed });
  log(`\n(${why})`);
  if (path) {
    const abs = resolve(REPO_ROOT, path);
    const jsonPath = abs.replace(/\.md$/, "") + ".json";
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, md + "\n");
    writeFileSync(jsonPath, JSON.stringify(json, null, 2) + "\n");
    log(`wrote ${abs} and ${jsonPath}`);
  }
  if (failed.length) {
    console.error(`failed phases: ${failed.join(", ")}`);
    process.exitCode = 1;
  }
});
