/**
 * `npx tsx bench/ec/profile.ts [--ops N] [--rounds N]`: where the write path's time goes.
 * Interleaves, per round, the baseline and variants that each add one piece of the real path
 * (bench/baseline/profile-worker.ts), the real system without its replicate-queue consumer (no
 * fan-out to the other replicas: bench/baseline/wrangler.no-fanout.toml) and the full system.
 * Reports, per variant, median throughput, p50, and workerd CPU per op split by process.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { makeAgent, runLoad } from "./load.js";
import { fmt, median, summarize } from "./stats.js";
import { buildWorkload, makeClients } from "./workload.js";
import { cpuMs, workerdPids } from "./proc-stats.js";
import {
  REPO_ROOT,
  installCleanup,
  runScript,
  startWranglerDev,
  type DevServer,
} from "../../test/support/wrangler-dev.js";

const { values: flags } = parseArgs({
  options: {
    ops: { type: "string", default: "2000" },
    rounds: { type: "string", default: "2" },
    connections: { type: "string", default: "10" },
    serial: { type: "string", default: "1000" },
  },
  strict: true,
});
const OPS = Number(flags.ops);
const ROUNDS = Number(flags.rounds);
const CONNECTIONS = Number(flags.connections);
const SERIAL = Number(flags.serial);

/**
 * The two workerd processes of one `wrangler dev`: the proxy serving the dev port (its `entry`
 * socket is that port) and the runtime running the Worker and its Durable Objects.
 */
function labelOf(pid: number, port: number): string {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return cmd.includes(`entry=127.0.0.1:${port}\0`) ? "proxy" : "runtime";
  } catch {
    return "?";
  }
}

async function main(): Promise<void> {
  installCleanup();
  const logDir = mkdtempSync(join(tmpdir(), "aspec-bench-profile-"));
  const prof = await startWranglerDev({
    name: "profile",
    config: join(REPO_ROOT, "bench/baseline/wrangler.profile.toml"),
    readyPath: "/",
    logFile: join(logDir, "profile.log"),
  });
  const noFanout = await startWranglerDev({
    name: "nofanout",
    config: join(REPO_ROOT, "bench/baseline/wrangler.no-fanout.toml"),
    readyPath: "/v1/replicas",
    logFile: join(logDir, "nofanout.log"),
  });
  const sys = await startWranglerDev({
    name: "system",
    config: join(REPO_ROOT, "wrangler.jsonc"),
    vars: { ENVIRONMENT: "dev" },
    readyPath: "/v1/replicas",
    logFile: join(logDir, "system.log"),
  });

  const variants: { label: string; proc: DevServer; path: string }[] = [
    { label: "baseline: Worker → DO insert", proc: prof, path: "/store" },
    { label: "+ parseOp at the edge", proc: prof, path: "/parse" },
    { label: "+ verify client sig in DO", proc: prof, path: "/verify" },
    { label: "+ sign the reply", proc: prof, path: "/verify-sign" },
    { label: "submit's SQL, no alarm", proc: prof, path: "/sys-sql" },
    { label: "+ alarm drain to a queue", proc: prof, path: "/sys-alarm" },
    { label: "system, no fan-out consumer", proc: noFanout, path: "/v1/ops?replica=weur" },
    { label: "system (full)", proc: sys, path: "/v1/ops?replica=weur" },
  ];
  const clients = await Promise.all(variants.map(() => makeClients(CONNECTIONS)));
  const agent = makeAgent(CONNECTIONS);
  const results = variants.map(() => [] as { tput: number; p50: number; cpu: Map<string, number> }[]);
  const run = `p${Date.now().toString(36)}`;

  for (let r = 0; r <= ROUNDS; r++) {
    const n = r === 0 ? Math.min(500, OPS) : OPS; // round 0 = warm-up
    for (const [i, v] of variants.entries()) {
      const w = await buildWorkload({
        ops: n,
        clients: clients[i]!,
        prefix: `${run}/${i}/${r}`,
        keys: 1000,
        sampleEvery: 0,
      });
      const pids = workerdPids(v.proc.pid);
      const c0 = pids.map(cpuMs);
      const res = await runLoad(agent, {
        port: v.proc.port,
        path: v.path,
        bodies: w.bodies,
        readBody: false,
      });
      const cpu = new Map<string, number>();
      pids.forEach((pid, k) => cpu.set(labelOf(pid, v.proc.port), (cpuMs(pid) - c0[k]!) / n));
      if (res.errors) console.log(`  ${v.label}: ${res.errors} errors, e.g. ${res.errorSamples[0]}`);
      const s = summarize(res.latenciesMs);
      const cpuText = [...cpu].map(([k, x]) => `${k} ${fmt(x, 2)}`).join(", ");
      console.log(
        `${r === 0 ? "warm-up" : `round ${r}`}  ${v.label.padEnd(30)} ${fmt(res.opsPerSec, 0).padStart(5)} ops/s  p50 ${fmt(s.p50, 2)} ms  CPU ms/op: ${cpuText}`,
      );
      if (r > 0) results[i]!.push({ tput: res.opsPerSec, p50: s.p50, cpu });
      await new Promise((ok) => setTimeout(ok, 1000)); // let background work (alarms, queue) finish
    }
  }

  // One connection, one request at a time: latency without queueing. Interleaved in chunks of 100
  // (the first two chunks per variant are warm-up) to spread the machine's noise evenly.
  const serialLat: number[][] = variants.map(() => []);
  const one = makeAgent(1);
  const chunks = Math.max(3, Math.ceil(SERIAL / 100) + 2);
  for (let c = 0; c < chunks; c++) {
    for (const [i, v] of variants.entries()) {
      const w = await buildWorkload({
        ops: 100,
        clients: clients[i]!.slice(0, 1),
        prefix: `${run}/${i}/s${c}`,
        keys: 1000,
        sampleEvery: 0,
      });
      const res = await runLoad(one, { port: v.proc.port, path: v.path, bodies: w.bodies, readBody: false });
      if (c >= 2) serialLat[i]!.push(...res.latenciesMs);
      await new Promise((ok) => setTimeout(ok, 300));
    }
  }
  const serialP50 = serialLat.map((xs) => summarize(xs).p50);
  variants.forEach((v, i) => console.log(`serial   ${v.label.padEnd(30)} p50 ${fmt(serialP50[i]!, 2)} ms`));
  one.destroy();

  console.log(
    `\n| variant | ops/s (${CONNECTIONS} conn) | p50 ms (${CONNECTIONS} conn) | p50 ms (1 conn) | workerd CPU ms/op: runtime + proxy |`,
  );
  console.log("|---|---:|---:|---:|---:|");
  for (const [i, v] of variants.entries()) {
    const rs = results[i]!;
    const labels = [...(rs[0]?.cpu.keys() ?? [])];
    const per = labels
      .sort()
      .reverse()
      .map((l) => [l, median(rs.map((x) => x.cpu.get(l) ?? 0))] as const);
    const total = per.reduce((t, [, x]) => t + x, 0);
    console.log(
      `| ${v.label} | ${fmt(median(rs.map((x) => x.tput)), 0)} | ${fmt(median(rs.map((x) => x.p50)), 2)} | ` +
        `${fmt(serialP50[i]!, 2)} | ${fmt(total, 2)} (${per.map(([l, x]) => `${l} ${fmt(x, 2)}`).join(" + ")}) |`,
    );
  }
  agent.destroy();
}

runScript(main);
