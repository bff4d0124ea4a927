/**
 * `npm run bench:costs`: runs the cost measurement in workerd (`ops-cost.measure.ts`, through
 * vitest), takes its `COSTS_RESULT` line and scales what one op cost to a million ops, priced with
 * `prices.ts` (list prices beyond the plan's included amounts). Writes bench/results/costs-latest.json
 * (a full run) and prints a Markdown table. `COSTS_OPS`, `COSTS_KEYS` change the load (a partial run:
 * printed only, or written to `--out PATH`).
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { resultsPath } from "../results-path.js";
import type { Measured, ObjectCost } from "./measured.js";
import { DO_GB, PRICES } from "./prices.js";

const ROOT = join(import.meta.dirname, "..", "..");
const outFlag = process.argv.indexOf("--out");
const out = outFlag >= 0 ? process.argv[outFlag + 1] : undefined;

const run = spawnSync("npx", ["vitest", "run", "--config", "bench/costs/vitest.config.ts"], {
  cwd: ROOT,
  encoding: "utf8",
  env: process.env,
  maxBuffer: 256 * 1024 * 1024,
});
const line = (run.stdout + run.stderr).split("\n").find((l) => l.includes("COSTS_RESULT "));
if (run.status !== 0 || line === undefined) {
  process.stdout.write(run.stdout.slice(-4000) + run.stderr.slice(-4000));
  console.error(`bench:costs: the measurement failed (exit ${run.status})`);
  process.exit(1);
}
const m = JSON.parse(line.slice(line.indexOf("COSTS_RESULT ") + "COSTS_RESULT ".length)) as Measured;

const kind = (label: string) => label.split(" ")[0]!;
const sum = (f: (o: ObjectCost) => number, k?: string) =>
  m.objects.filter((o) => k === undefined || kind(o.label) === k).reduce((a, o) => a + f(o), 0);
const perOp = (n: number) => n / m.accepted;
const queueMsgs = Object.values(m.queueMessages).reduce((a, b) => a + b, 0);
const queueBatches = Object.values(m.queueBatches).reduce((a, b) => a + b, 0);

const perMillion = {
  // one HTTP request per op, plus the queue consumers' invocations (one per batch)
  workerRequests: 1e6 * perOp(m.accepted + queueBatches),
  doRequests: 1e6 * perOp(sum((o) => o.requests)),
  doRequestsReplicas: 1e6 * perOp(sum((o) => o.requests, "replica")),
  doRequestsNodes: 1e6 * perOp(sum((o) => o.requests, "node")),
  doGbSeconds: (1e6 * perOp(sum((o) => o.activeMs)) * DO_GB) / 1000,
  rowsWritten: 1e6 * perOp(sum((o) => o.rowsWritten + o.setAlarms)),
  rowsWrittenReplicas: 1e6 * perOp(sum((o) => o.rowsWritten + o.setAlarms, "replica")),
  rowsWrittenNodes: 1e6 * perOp(sum((o) => o.rowsWritten + o.setAlarms, "node")),
  queueMessages: 1e6 * perOp(queueMsgs),
  queueOps: 3e6 * perOp(queueMsgs),
};
const usd = {
  workerRequests: (perMillion.workerRequests / 1e6) * PRICES.workerRequestsPerMillion,
  doRequests: (perMillion.doRequests / 1e6) * PRICES.doRequestsPerMillion,
  doDuration: (perMillion.doGbSeconds / 1e6) * PRICES.doGbSecondsPerMillion,
  rowsWritten: (perMillion.rowsWritten / 1e6) * PRICES.rowsWrittenPerMillion,
  queueOps: (perMillion.queueOps / 1e6) * PRICES.queueOpsPerMillion,
};
const totalUsd = Object.values(usd).reduce((a, b) => a + b, 0);
const storedBytesPerKey = sum((o) => o.bytes) / m.keys;

const result = {
  measuredAt: new Date().toISOString(),
  command: "npm run bench:costs",
  load: { ops: m.ops, keys: m.keys, accepted: m.accepted, refused: m.refused },
  seconds: { accepted: m.acceptedMs / 1000, certified: m.certifiedMs / 1000 },
  measured: { queueMessages: m.queueMessages, queueBatches: m.queueBatches, objects: m.objects },
  perOp: {
    workerRequests: perOp(m.accepted + queueBatches),
    doRequests: perOp(sum((o) => o.requests)),
    doActiveMs: perOp(sum((o) => o.activeMs)),
    rowsWritten: perOp(sum((o) => o.rowsWritten + o.setAlarms)),
    queueMessages: perOp(queueMsgs),
  },
  perMillionOps: perMillion,
  usdPerMillionOps: { ...usd, total: totalUsd },
  storedBytesPerKeyAllObjects: storedBytesPerKey,
  prices: PRICES,
};

const f = (n: number, d = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
const table = [
  `Per million certified ops (${f(m.accepted)} ops over ${f(m.keys)} keys measured in workerd, certified in ${f(m.certifiedMs / 1000, 1)} s):`,
  "",
  "| item | per op | per million ops | USD per million ops |",
  "|---|---:|---:|---:|",
  `| Worker requests (HTTP edge 1, queue consumer batches ${f(perOp(queueBatches), 3)}) | ${f(result.perOp.workerRequests, 3)} | ${f(perMillion.workerRequests)} | ${f(usd.workerRequests, 2)} |`,
  `| Durable Object requests (replicas ${f(perOp(sum((o) => o.requests, "replica")), 2)}, nodes ${f(perOp(sum((o) => o.requests, "node")), 2)}) | ${f(result.perOp.doRequests, 2)} | ${f(perMillion.doRequests)} | ${f(usd.doRequests, 2)} |`,
  `| Durable Object active time (ms; GB-s at 128 MB) | ${f(result.perOp.doActiveMs, 2)} | ${f(perMillion.doGbSeconds)} GB-s | ${f(usd.doDuration, 2)} |`,
  `| SQLite rows written (replicas ${f(perOp(sum((o) => o.rowsWritten + o.setAlarms, "replica")), 1)}, nodes ${f(perOp(sum((o) => o.rowsWritten + o.setAlarms, "node")), 1)}) | ${f(result.perOp.rowsWritten, 1)} | ${f(perMillion.rowsWritten)} | ${f(usd.rowsWritten, 2)} |`,
  `| Queue messages (× 3 operations) | ${f(result.perOp.queueMessages, 3)} | ${f(perMillion.queueMessages)} | ${f(usd.queueOps, 2)} |`,
  `| **total** | | | **${f(totalUsd, 2)}** |`,
  "",
  `Stored: ${f(storedBytesPerKey)} bytes per key across all ${m.objects.length} objects (SQLite \`databaseSize\`, ${f(m.keys)} keys).`,
];
console.log(table.join("\n"));

const changed = [
  ...(process.env.COSTS_OPS ? [`COSTS_OPS=${process.env.COSTS_OPS}`] : []),
  ...(process.env.COSTS_KEYS ? [`COSTS_KEYS=${process.env.COSTS_KEYS}`] : []),
];
const target = resultsPath({ out, committed: join(ROOT, "bench/results/costs-latest.json"), changed });
if (target.path) writeFileSync(target.path, JSON.stringify(result, null, 2) + "\n");
console.log(target.path ? `written: ${target.path} (${target.why})` : target.why);
