/**
 * `npm run bench:store` (tsx bench/core/store-cost.ts): what the certified state's stores cost per
 * op, SQLite inside workerd beside the memory stores in Node (the baseline). Not a test.
 *
 * For each size (10^4 and 10^6 keys by default): build the state in bulk (the tree with
 * `AuthMap.buildPacked`, one record per key), run warm-up batches, then measured batches of 100
 * updates of distinct random existing keys, each batch at its seq in one transaction, replaced nodes
 * retired at the seq and both stores collected every 10 batches through seq − 10 (work.ts). Per op
 * (one key update): SQLite rows read and written (the cursors' `rowsRead`/`rowsWritten`, node store
 * and record store apart), tree hashes (`AuthMap.hashCount`) and µs. Both hosts use the native
 * SHA-256 (node:crypto). workerd runs under `wrangler dev` (bench/core/store-cost/wrangler.toml,
 * started by test/support/wrangler-dev.ts); after each size the Worker's JS heap is read after a
 * full GC through its inspector (a heap snapshot forces the GC, as in bench/ec/heap.ts), with the
 * stores of that size still referenced, and the runtime workerd's RSS from /proc.
 *
 * Flags: --sizes 10000,1000000  --batches N (100)  --warmup N (20)  --no-heap (skip the heap reading)
 */
import { mkdtempSync, rmSync } from "node:fs";
import * as nodeCrypto from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { MemoryNodeStore } from "../../shared/certified/node-store.js";
import { MemoryRecordStore } from "../../shared/certified/record-store.js";
import { useNativeSha256 } from "../../shared/hash.js";
import { CdpSession } from "../ec/cdp.js";
import { takeHeapSnapshot } from "../ec/heap-snapshot.js";
import { findWorkerInspector } from "../ec/inspector.js";
import { memKiB } from "../ec/proc-stats.js";
import { REPO_ROOT, installCleanup, runScript, startWranglerDev } from "../../test/support/wrangler-dev.js";
import { buildState, runBatches, type CostResult } from "./store-cost/work.js";

const { values: flags } = parseArgs({
  options: {
    sizes: { type: "string", default: "10000,1000000" },
    batches: { type: "string", default: "100" },
    warmup: { type: "string", default: "20" },
    "no-heap": { type: "boolean", default: false },
  },
  strict: true,
});
const SIZES = flags.sizes.split(",").map((s) => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 100) throw new Error(`--sizes: bad size '${s}'`);
  return n;
});
const positive = (name: "batches" | "warmup", min: number) => {
  const n = Number(flags[name]);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name}: an integer ≥ ${min}`);
  return n;
};
const BATCHES = positive("batches", 1);
const WARMUP = positive("warmup", 0);

useNativeSha256((d) => {
  const b = nodeCrypto.hash("sha256", d, "buffer");
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
});

const log = (s: string) => console.log(s);
const f = (x: number | undefined, digits = 1) => (x === undefined ? "–" : x.toFixed(digits));
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

/** The baseline: memory stores in this Node process, the same work. */
function memoryRun(keys: number): CostResult & { heapMiB: number } {
  const nodes = new MemoryNodeStore();
  const records = new MemoryRecordStore();
  const tx = <T>(fn: () => T): T => fn();
  const t0 = performance.now();
  const map = buildState(keys, nodes, (k, r) => records.setAt(k, r, 0), tx);
  records.collect(0);
  const buildMs = performance.now() - t0;
  const w = runBatches(map, nodes, records, keys, 1, WARMUP, tx);
  const r = runBatches(map, nodes, records, keys, w.nextSeq, BATCHES, tx);
  const mem = process.memoryUsage();
  return {
    host: "memory (Node)",
    keys,
    buildMs,
    ops: r.ops,
    usPerOp: (r.ms * 1000) / r.ops,
    hashesPerOp: r.hashes / r.ops,
    nodeRows: nodes.size,
    retired: nodes.retiredCount,
    heapMiB: (mem.heapUsed + mem.arrayBuffers) / 2 ** 20,
  };
}

interface WorkerdResult extends CostResult {
  wallMs: number;
  heapMiB?: number;
  rssMiB: number;
  /** The RSS split: anonymous (heaps, SQLite's page cache) and file-backed (mapped files). */
  anonMiB: number;
  fileMiB: number;
}

async function main(): Promise<void> {
  installCleanup();
  const results: { memory: ReturnType<typeof memoryRun>; sqlite: WorkerdResult }[] = [];
  log(
    `bench:store — sizes ${SIZES.join(", ")}; ${WARMUP} warm-up + ${BATCHES} measured batches of 100 updates`,
  );
  const s = await startWranglerDev({
    name: "store-cost",
    config: join(REPO_ROOT, "bench/core/store-cost/wrangler.toml"),
    readyPath: "/",
    logLevel: "warn",
  });
  const snapDir = mkdtempSync(join(tmpdir(), "aspec-store-cost-heap-"));
  let cdp: CdpSession | undefined;
  try {
    const insp = await findWorkerInspector(s.pid, "aspec-bench-store-cost");
    if (!flags["no-heap"]) {
      cdp = await CdpSession.connect(insp.webSocketUrl);
      await cdp.send("HeapProfiler.enable");
    }
    const heapAfterGc = async (label: string): Promise<number | undefined> => {
      if (!cdp) return undefined;
      await takeHeapSnapshot(cdp, join(snapDir, `${label}.heapsnapshot`));
      const h = await cdp.send<{ usedSize: number }>("Runtime.getHeapUsage");
      return h.usedSize / 2 ** 20;
    };
    const heap0 = await heapAfterGc("start");
    log(`workerd (pid ${insp.runtimePid}): Worker JS heap after GC at start ${f(heap0)} MiB`);
    for (const keys of SIZES) {
      log(`\n${keys} keys: SQLite in workerd...`);
      const t0 = performance.now();
      const res = await fetch(`${s.url}/run?keys=${keys}&batches=${BATCHES}&warmup=${WARMUP}`, {
        signal: AbortSignal.timeout(3_600_000),
      });
      if (!res.ok) throw new Error(`workerd run: HTTP ${res.status}: ${await res.text()}`);
      const sqlite = (await res.json()) as WorkerdResult;
      sqlite.wallMs = performance.now() - t0;
      sqlite.heapMiB = await heapAfterGc(`after-${keys}`);
      // Found again: wrangler restarts the runtime workerd when a source file changes.
      const mem = memKiB((await findWorkerInspector(s.pid, "aspec-bench-store-cost")).runtimePid);
      sqlite.rssMiB = mem.rss / 1024;
      sqlite.anonMiB = mem.anon / 1024;
      sqlite.fileMiB = mem.file / 1024;
      log(
        `  built in ${(sqlite.buildMs / 1000).toFixed(1)} s (whole request ${(sqlite.wallMs / 1000).toFixed(1)} s); ` +
          `${f(sqlite.usPerOp)} µs/op; heap ${f(sqlite.heapMiB)} MiB, RSS ${f(sqlite.rssMiB)} MiB`,
      );
      log(`${keys} keys: memory stores in Node...`);
      const memory = memoryRun(keys);
      log(`  built in ${(memory.buildMs / 1000).toFixed(1)} s; ${f(memory.usPerOp)} µs/op`);
      results.push({ memory, sqlite });
    }
  } finally {
    cdp?.close();
    rmSync(snapDir, { recursive: true, force: true });
  }

  log("\nPer op (one key update; batches of 100, retire + collect every 10 batches through seq − 10):\n");
  const head = [
    "keys",
    "host",
    "µs/op",
    "hashes/op",
    "rows read/op (nodes+records)",
    "rows written/op (nodes+records)",
    "build s",
    "node rows",
    "retired",
    "JS heap MiB",
    "other",
  ];
  const rows: string[][] = [];
  for (const { memory: m, sqlite: q } of results) {
    const r = q.rows!;
    rows.push([
      String(q.keys),
      q.host,
      f(q.usPerOp),
      f(q.hashesPerOp, 2),
      `${f(r.nodesRead + r.recordsRead)} (${f(r.nodesRead)}+${f(r.recordsRead)})`,
      `${f(r.nodesWritten + r.recordsWritten)} (${f(r.nodesWritten)}+${f(r.recordsWritten)})`,
      f(q.buildMs / 1000),
      String(q.nodeRows),
      String(q.retired),
      f(q.heapMiB),
      `RSS ${f(q.rssMiB)} MiB (anon ${f(q.anonMiB)}, file ${f(q.fileMiB)}), db ${mib(q.dbBytes ?? 0)} MiB, hash cache ${q.hashCache}`,
    ]);
    rows.push([
      String(m.keys),
      m.host,
      f(m.usPerOp),
      f(m.hashesPerOp, 2),
      "–",
      "–",
      f(m.buildMs / 1000),
      String(m.nodeRows),
      String(m.retired),
      f(m.heapMiB),
      "heap used + array buffers, no forced GC",
    ]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  log(line(head));
  log(`| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`);
  for (const r of rows) log(line(r));
  for (const { sqlite: q } of results) {
    log(`\nSQLite statements at ${q.keys} keys, per op: executions, rows read, rows written`);
    for (const st of q.statements ?? [])
      log(
        `  ${f(st.perOp, 2).padStart(6)} ${f(st.readPerOp, 2).padStart(6)} ${f(st.writtenPerOp, 2).padStart(6)}  ${st.sql}`,
      );
  }
}

runScript(main);
