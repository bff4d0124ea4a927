/**
 * `npm run bench:heap` (tsx bench/ec/heap.ts): where workerd's memory goes under the EC write load.
 * Is RSS growth in the Worker's JS heap (ours: the Worker and its Durable Objects share one V8
 * isolate, `core:user:<name>`) or outside it (workerd, SQLite, miniflare's own services, wrangler's
 * front proxy)?
 *
 * For the system (root wrangler.jsonc) and then the baseline Worker (bench/baseline/), one at a
 * time: start `wrangler dev` (test/support/wrangler-dev.ts), attach to the runtime workerd's
 * inspector directly (bench/ec/inspector.ts finds it), warm up, then for each round: sign and send
 * `--ops` ops, wait until replication settled and op-log collection had time to run, take a heap
 * snapshot (which forces a full GC; see heapAfterGc) and record the JS heap (`Runtime.getHeapUsage`)
 * of the Worker and of each of miniflare's isolates, the RSS of every process under the wrangler
 * (wrangler's node, the proxy workerd, the runtime workerd; anon/file split) and the persist dir's
 * size. Snapshots stay under /tmp/aspec-heap-*; the one after warm-up and the last are diffed by
 * constructor: count and self size, plus the objects new since the first and what retains them.
 *
 * Flags: --rounds N (3), --ops N (3000 per round), --warmup N (500), --connections N (10),
 * --keys N (1000), --dedupe-horizon-ms N (10000, as `npm run bench`), --collect-wait-ms N (after
 * each round; default horizon + 3 collection periods), --system-only, --top N (15),
 * --out PATH (bench/results/heap-latest.md).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { CdpSession } from "./cdp.js";
import { dirBytes } from "./disk.js";
import { diffSummaries, summarizeSnapshot, takeHeapSnapshot, type HeapSummary } from "./heap-snapshot.js";
import { findWorkerInspector, listeningPorts, type WorkerInspector } from "./inspector.js";
import { makeAgent, post, runLoad } from "./load.js";
import { intFlag } from "../int-flag.js";
import { memKiB, workerdPids } from "./proc-stats.js";
import { waitVisible } from "./propagation.js";
import { fmt } from "./stats.js";
import { buildWorkload, makeClients, signedMarker, type BenchClient } from "./workload.js";
import {
  REPO_ROOT,
  installCleanup,
  runScript,
  startWranglerDev,
  type DevServer,
} from "../../test/support/wrangler-dev.js";

const { values: flags } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    ops: { type: "string", default: "3000" },
    warmup: { type: "string", default: "500" },
    connections: { type: "string", default: "10" },
    keys: { type: "string", default: "1000" },
    "dedupe-horizon-ms": { type: "string", default: "10000" },
    "collect-wait-ms": { type: "string" },
    "system-only": { type: "boolean", default: false },
    top: { type: "string", default: "15" },
    out: { type: "string", default: "bench/results/heap-latest.md" },
  },
  strict: true,
});
const int = (name: keyof typeof flags, min: number, fallback?: number): number =>
  intFlag(flags, name, min, fallback);
const ROUNDS = int("rounds", 1);
const OPS = int("ops", 1);
const WARMUP = int("warmup", 0);
const CONNECTIONS = int("connections", 1);
const KEYS = int("keys", 1);
const HORIZON_MS = int("dedupe-horizon-ms", 0);
/** Op-log collection runs every 5 anti-entropy periods (1 s in wrangler.jsonc). */
const COLLECT_PERIOD_MS = 5_000;
const COLLECT_WAIT_MS = int("collect-wait-ms", 0, HORIZON_MS + 3 * COLLECT_PERIOD_MS);
const TOP = int("top", 1);

const HOME = "weur";
const OTHERS = ["enam", "apac"];

const log = (s: string) => console.log(s);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mib = (bytes: number) => fmt(bytes / 2 ** 20, 1);
const kibToMib = (kib: number) => fmt(kib / 1024, 1);

interface Target {
  label: "system" | "baseline";
  workerName: string;
  config: string;
  vars?: Record<string, string>;
  readyPath: string;
  writePath: string;
}

interface HeapUsage {
  usedSize: number;
  totalSize: number;
  embedderHeapUsedSize?: number;
  backingStorageSize?: number;
}

interface ProcMem {
  role: string;
  pid: number;
  rss: number;
  anon: number;
  file: number;
}

interface Sample {
  label: string;
  /** System ops sent so far (markers included). */
  ops: number;
  heap: HeapUsage;
  procs: ProcMem[];
  diskBytes: number;
  /** JS heap after GC of each of miniflare's own isolates in the runtime workerd (queue brokers, cache, ...). */
  isolates: { target: string; heap: HeapUsage }[];
}

/** wrangler's node, the proxy workerd (serves the dev port) and the runtime workerd (runs the Worker). */
function processMemory(s: DevServer, runtimePid: number): ProcMem[] {
  const out: ProcMem[] = [{ role: "wrangler (node)", pid: s.pid, ...memKiB(s.pid) }];
  for (const pid of workerdPids(s.pid).sort((a, b) => a - b)) {
    // the proxy workerd is the one listening on the dev port (its command line says port 0)
    const role =
      pid === runtimePid
        ? "runtime workerd"
        : listeningPorts(pid).includes(s.port)
          ? "proxy workerd"
          : "workerd";
    out.push({ role, pid, ...memKiB(pid) });
  }
  return out;
}

/**
 * Force a full GC, then read the heap. workerd never answers `HeapProfiler.collectGarbage` (V8 runs
 * it as a foreground task, which workerd's platform does not run for an inspector request), but a
 * heap snapshot collects all available garbage before it walks the heap, so the snapshot is the GC.
 */
async function heapAfterGc(cdp: CdpSession, file: string): Promise<HeapUsage> {
  await takeHeapSnapshot(cdp, file);
  return cdp.send<HeapUsage>("Runtime.getHeapUsage");
}

/** Each non-user isolate the runtime's inspector lists, over a short direct session: heap after GC. */
async function miniflareIsolates(
  insp: WorkerInspector,
  dir: string,
): Promise<{ target: string; heap: HeapUsage }[]> {
  const out: { target: string; heap: HeapUsage }[] = [];
  for (const target of insp.targets) {
    if (target.startsWith("core:user:")) continue;
    const c = await CdpSession.connect(insp.directUrl(target));
    try {
      const file = join(dir, `isolate-${target.replace(/[^\w.-]+/g, "_")}.heapsnapshot`);
      out.push({ target, heap: await heapAfterGc(c, file) });
    } finally {
      c.close();
    }
  }
  return out;
}

interface TargetResult {
  target: Target;
  inspectorUrl: string;
  inspectorTargets: string[];
  samples: Sample[];
  /** Events wrangler's inspector proxy had buffered for a DevTools client, handed over on connect. */
  buffered: { events: number; bytes: number };
  snapshotA: HeapSummary;
  snapshotB: HeapSummary;
  snapshotDir: string;
  errors: number;
}

async function measureTarget(t: Target, snapshotDir: string): Promise<TargetResult> {
  log(`\n## ${t.label}: starting wrangler dev (${t.config.replace(REPO_ROOT + "/", "")})`);
  const s = await startWranglerDev({
    name: `heap-${t.label}`,
    config: t.config,
    ...(t.vars && { vars: t.vars }),
    readyPath: t.readyPath,
    logLevel: "warn",
  });
  let cdp: CdpSession | undefined;
  try {
    const insp = await findWorkerInspector(s.pid, t.workerName);
    log(
      `  ${s.url}, wrangler pid ${s.pid}, runtime workerd pid ${insp.runtimePid}, inspector ${insp.webSocketUrl} ` +
        `(targets: ${insp.targets.join(", ")})`,
    );
    cdp = await CdpSession.connect(insp.webSocketUrl);
    await cdp.send("HeapProfiler.enable");
    await sleep(500);
    const buffered = { events: cdp.events, bytes: cdp.eventBytes };
    log(
      `  wrangler's inspector proxy handed over ${buffered.events} buffered events (${buffered.bytes} bytes) on connect`,
    );
    const clients = await makeClients(CONNECTIONS);
    const marker: BenchClient = (await makeClients(1))[0]!;
    const run = `h${Date.now().toString(36)}`;
    let ops = 0;
    let errors = 0;
    let markerN = 0;
    const samples: Sample[] = [];
    const phase = async (name: string, n: number) => {
      const w = await buildWorkload({
        ops: n,
        clients,
        prefix: `${run}/${name}`,
        keys: KEYS,
        sampleEvery: 0,
      });
      // fresh connections per phase: a keep-alive socket left idle over a wait or a snapshot may be
      // closed by the server just as it is reused ("socket hang up")
      const agent = makeAgent(CONNECTIONS);
      const r = await runLoad(agent, {
        port: s.port,
        path: t.writePath,
        bodies: w.bodies,
        readBody: false,
      }).finally(() => agent.destroy());
      ops += n;
      errors += r.errors;
      log(
        `  ${name.padEnd(8)} ${n} ops in ${fmt(r.elapsedMs / 1000, 1)} s (${fmt(r.opsPerSec, 0)} ops/s)` +
          (r.errors ? `, ERRORS ${r.errors}: ${r.errorSamples[0] ?? ""}` : ""),
      );
    };
    /** System: one marker write on a fresh key, visible at the other replicas = replication caught up. */
    const settle = async (): Promise<string> => {
      if (t.label !== "system") return "";
      const agent = makeAgent(2);
      try {
        const key = `${run}/settle${markerN++}`;
        const res = await post(agent, s.port, t.writePath, await signedMarker(marker, key), true);
        ops++;
        if (res.status !== 200) throw new Error(`marker write failed: ${res.status} ${res.body}`);
        const ms = await waitVisible(agent, s.port, OTHERS, key, 1, 180_000);
        return `replication settled in ${fmt(ms, 0)} ms; `;
      } finally {
        agent.destroy();
      }
    };
    const snapshots: string[] = [];
    const sample = async (label: string) => {
      const file = join(
        snapshotDir,
        `${t.label}-${samples.length}-${label.replace(/\W+/g, "")}.heapsnapshot`,
      );
      const heap = await heapAfterGc(cdp!, file);
      snapshots.push(file);
      const smp: Sample = {
        label,
        ops,
        heap,
        procs: processMemory(s, insp.runtimePid),
        diskBytes: dirBytes(s.persistDir),
        isolates: await miniflareIsolates(insp, snapshotDir),
      };
      samples.push(smp);
      const rt = smp.procs.find((p) => p.pid === insp.runtimePid);
      log(
        `  ${label.padEnd(8)} JS heap after GC ${mib(heap.usedSize)} / ${mib(heap.totalSize)} MiB, runtime workerd RSS ` +
          `${kibToMib(rt?.rss ?? 0)} MiB, all workerd ${kibToMib(smp.procs.filter((p) => p.role.includes("workerd")).reduce((n, p) => n + p.rss, 0))} MiB, ` +
          `persist dir ${mib(smp.diskBytes)} MiB, miniflare isolates' JS heap ${mib(isolatesUsed(smp))} MiB`,
      );
    };

    if (WARMUP > 0) await phase("warm-up", WARMUP);
    log(`  ${await settle()}waiting ${fmt(COLLECT_WAIT_MS / 1000, 0)} s (op-log collection)`);
    await sleep(COLLECT_WAIT_MS);
    await sample("warm");
    for (let i = 1; i <= ROUNDS; i++) {
      await phase(`round ${i}`, OPS);
      log(`  ${await settle()}waiting ${fmt(COLLECT_WAIT_MS / 1000, 0)} s (op-log collection)`);
      await sleep(COLLECT_WAIT_MS);
      await sample(`round ${i}`);
    }
    // the snapshot after warm-up against the last one: which classes grew (first pass), then what
    // retains their objects created since (second pass)
    const snapshotA = summarizeSnapshot(snapshots[0]!);
    const last = snapshots[snapshots.length - 1]!;
    const grow = diffSummaries(snapshotA, summarizeSnapshot(last, snapshotA.maxId))
      .filter((d) => d.newCount > 0)
      .sort((p, q) => q.newBytes - p.newBytes)
      .slice(0, 5)
      .map((d) => d.key);
    const snapshotB = summarizeSnapshot(last, snapshotA.maxId, grow);
    return {
      target: t,
      inspectorUrl: insp.webSocketUrl,
      inspectorTargets: insp.targets,
      buffered,
      samples,
      snapshotA,
      snapshotB,
      snapshotDir,
      errors,
    };
  } finally {
    cdp?.close();
    await s.stop();
  }
}

function report(results: TargetResult[], command: string, startedMs: number): string {
  const L: string[] = [];
  L.push(`### Where workerd's memory goes under the EC write load (\`wrangler dev\`, local)`);
  L.push("");
  L.push(
    `Signed \`counter.add\` ops to \`POST /v1/ops?replica=${HOME}\` (system) or \`POST /\` (baseline: a Worker → one ` +
      `SQLite DO inserting the body), ${CONNECTIONS} connections, warm-up ${WARMUP}, then ${ROUNDS} rounds × ${OPS} ops. ` +
      `After each round: replication settled (system), ${fmt(COLLECT_WAIT_MS / 1000, 0)} s for op-log collection (system; the baseline waits as long) ` +
      `(dedupe horizon ${HORIZON_MS} ms), a heap snapshot over the inspector (it forces a full GC; workerd never answers \`HeapProfiler.collectGarbage\`), then the JS heap of the Worker's ` +
      `isolate (Worker + its Durable Objects), the RSS of each process under wrangler, and the persist dir. MiB.`,
  );
  for (const r of results) {
    L.push("");
    L.push(`#### ${r.target.label}${r.errors ? ` (${r.errors} non-2xx replies)` : ""}`);
    L.push("");
    const roles = r.samples[0]?.procs.map((p) => p.role) ?? [];
    L.push(
      `| after | ops | Worker JS heap used | Worker JS heap total | miniflare isolates' JS heap | ${roles.map((x) => `${x} RSS (anon)`).join(" | ")} | persist dir |`,
    );
    L.push(`|---|---:|---:|---:|---:|${roles.map(() => "---:").join("|")}|---:|`);
    for (const smp of r.samples) {
      const procs = roles.map((role) => {
        const p = smp.procs.find((x) => x.role === role);
        return p ? `${kibToMib(p.rss)} (${kibToMib(p.anon)})` : "–";
      });
      L.push(
        `| ${smp.label} | ${smp.ops} | ${mib(smp.heap.usedSize)} | ${mib(smp.heap.totalSize)} | ${mib(isolatesUsed(smp))} | ${procs.join(" | ")} | ${mib(smp.diskBytes)} |`,
      );
    }
    const a = r.samples[0];
    const b = r.samples[r.samples.length - 1];
    if (a && b && b !== a) {
      const dOps = b.ops - a.ops;
      const perOp = (bytes: number) => `${fmt(bytes / dOps, 0)} B/op`;
      const rt = (x: Sample) => x.procs.find((p) => p.role === "runtime workerd");
      const px = (x: Sample) => x.procs.find((p) => p.role === "proxy workerd");
      const wr = (x: Sample) => x.procs.find((p) => p.role === "wrangler (node)");
      const d = (f: (x: Sample) => ProcMem | undefined) => ((f(b)?.rss ?? 0) - (f(a)?.rss ?? 0)) * 1024;
      L.push("");
      L.push(
        `Growth over ${dOps} ops (warm → round ${r.samples.length - 1}): JS heap used ${signedMib(b.heap.usedSize - a.heap.usedSize)} MiB ` +
          `(${perOp(b.heap.usedSize - a.heap.usedSize)}), runtime workerd RSS ${signedMib(d(rt))} MiB (${perOp(d(rt))}), ` +
          `proxy workerd RSS ${signedMib(d(px))} MiB (${perOp(d(px))}), wrangler node RSS ${signedMib(d(wr))} MiB (${perOp(d(wr))}), ` +
          `persist dir ${signedMib(b.diskBytes - a.diskBytes)} MiB. miniflare's isolates (JS heap used after GC, MiB, warm → last): ` +
          b.isolates
            .map((x) => {
              const before = a.isolates.find((y) => y.target === x.target)?.heap.usedSize ?? 0;
              return `${x.target} ${mib(before)} → ${mib(x.heap.usedSize)}`;
            })
            .join(", ") +
          ".",
      );
    }
    {
      const A = r.snapshotA;
      const B = r.snapshotB;
      L.push("");
      L.push(
        `Heap snapshots (${r.snapshotDir}): A after warm-up ${A.nodes} objects, ${mib(A.totalSelfBytes)} MiB; ` +
          `B after round ${ROUNDS} ${B.nodes} objects, ${mib(B.totalSelfBytes)} MiB. Top ${TOP} by self-size growth ` +
          `("new" = objects in B created after A, i.e. survivors of the rounds):`,
      );
      L.push("");
      L.push(
        `| constructor | count A | count B | Δ count | self KiB A | self KiB B | Δ KiB | new in B (count / KiB) |`,
      );
      L.push(`|---|---:|---:|---:|---:|---:|---:|---:|`);
      for (const x of diffSummaries(A, B).slice(0, TOP)) {
        L.push(
          `| ${x.key.replace(/\|/g, "\\|").slice(0, 70)} | ${x.countA} | ${x.countB} | ${signedInt(x.countB - x.countA)} | ` +
            `${fmt(x.bytesA / 1024, 1)} | ${fmt(x.bytesB / 1024, 1)} | ${signed(x.bytesB - x.bytesA, 1024)} | ${x.newCount} / ${fmt(x.newBytes / 1024, 1)} |`,
        );
      }
      const newTotal = [...B.newByClass.values()].reduce(
        (acc, s) => ({ count: acc.count + s.count, bytes: acc.bytes + s.selfBytes }),
        { count: 0, bytes: 0 },
      );
      L.push("");
      L.push(`New objects in B: ${newTotal.count}, ${fmt(newTotal.bytes / 1024, 1)} KiB in all.`);
      if (B.retainersOfNew.size) {
        L.push("");
        L.push("What retains the new objects of the top classes (retainer class, edge → count):");
        L.push("");
        for (const [cls, per] of B.retainersOfNew) {
          const top = [...per.entries()].sort((p, q) => q[1] - p[1]).slice(0, 4);
          L.push(`- ${cls}: ${top.map(([k, v]) => `${k} × ${v}`).join("; ")}`);
        }
      }
    }
  }
  L.push("");
  L.push(
    `Command: \`${command}\` · Node ${process.version} · ${new Date().toISOString()} · run took ${fmt((Date.now() - startedMs) / 1000, 0)} s`,
  );
  return L.join("\n") + "\n";
}

const isolatesUsed = (smp: Sample) => smp.isolates.reduce((n, i) => n + i.heap.usedSize, 0);
const signedMib = (bytes: number) => (bytes >= 0 ? "+" : "−") + mib(Math.abs(bytes));
const signedInt = (n: number) => (n >= 0 ? `+${n}` : `−${-n}`);
const signed = (bytes: number, unit: number) => (bytes >= 0 ? "+" : "−") + fmt(Math.abs(bytes) / unit, 1);

async function main(): Promise<void> {
  installCleanup();
  const started = Date.now();
  const command = `npm run bench:heap${process.argv.length > 2 ? " -- " + process.argv.slice(2).join(" ") : ""}`;
  log(`# Aspec Edge memory diagnostic: ${command}`);
  // snapshots stay under /tmp, never in the repository
  const snapshotDir = mkdtempSync("/tmp/aspec-heap-");
  const targets: Target[] = [
    {
      label: "system",
      workerName: "aspec-edge",
      config: join(REPO_ROOT, "wrangler.jsonc"),
      vars: { ENVIRONMENT: "dev", DEDUPE_HORIZON_MS: String(HORIZON_MS) },
      readyPath: "/v1/replicas",
      writePath: `/v1/ops?replica=${HOME}`,
    },
  ];
  if (!flags["system-only"])
    targets.push({
      label: "baseline",
      workerName: "aspec-bench-baseline",
      config: join(REPO_ROOT, "bench/baseline/wrangler.toml"),
      readyPath: "/",
      writePath: "/",
    });
  const results: TargetResult[] = [];
  for (const t of targets) results.push(await measureTarget(t, snapshotDir));
  const md = report(results, command, started);
  log("");
  log(md);
  const outFile = resolve(REPO_ROOT, flags.out!);
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, md);
  log(`Written to ${flags.out}; heap snapshots in ${snapshotDir}`);
}

runScript(main);
