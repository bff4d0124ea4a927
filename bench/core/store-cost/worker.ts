/**
 * The workerd side of `npm run bench:store` (bench/core/store-cost.ts): one SQLite-backed Durable
 * Object that builds the SQLite stores at a size and runs the batches of work.ts over them,
 * counting SQLite rows read and written per statement (`SqlStorageCursor.rowsRead/rowsWritten`,
 * summed after each batch, once the cursors are done). `GET /` answers 200 for the readiness probe;
 * `GET /run?keys=N&batches=B&warmup=W` answers a `CostResult` as JSON. The stores of the last run
 * stay referenced by the object, so a heap reading after a run includes them.
 */
import { DurableObject } from "cloudflare:workers";
import * as nodeCrypto from "node:crypto";
import { SqlNodeStore } from "../../../durable-objects/storage/sql-node-store.js";
import { SqlRecordStore } from "../../../durable-objects/storage/sql-record-store.js";
import { keyHashOf } from "../../../shared/certified/hashing.js";
import type { AuthMap } from "../../../shared/certified/merkle-map.js";
import { useNativeSha256 } from "../../../shared/hash.js";
import { buildState, runBatches, type CostResult } from "./work.js";

// The native synchronous SHA-256 a server installs (shared/hash.ts), as the Node baseline does.
useNativeSha256((d) => new Uint8Array(nodeCrypto.createHash("sha256").update(d).digest()));

interface Env {
  BENCH: DurableObjectNamespace<StoreBench>;
}

/** An `SqlStorage` that remembers the cursors it handed out, to sum their row counts. */
class CountingSql {
  private cursors: [string, SqlStorageCursor<Record<string, SqlStorageValue>>][] = [];
  read = 0;
  written = 0;
  /** Per statement (table names elided): executions, rows read, rows written. */
  byStatement = new Map<string, [number, number, number]>();
  constructor(private readonly sql: SqlStorage) {}
  exec(query: string, ...bindings: unknown[]): SqlStorageCursor<Record<string, SqlStorageValue>> {
    const c = this.sql.exec(query, ...bindings);
    this.cursors.push([query, c]);
    return c;
  }
  /** Add up the cursors so far (all consumed by now) and forget them. */
  settle(): void {
    for (const [q, c] of this.cursors) {
      this.read += c.rowsRead;
      this.written += c.rowsWritten;
      const k = q.replace(/\bs\d+_\d+_/g, "");
      const e = this.byStatement.get(k) ?? [0, 0, 0];
      e[0]++;
      e[1] += c.rowsRead;
      e[2] += c.rowsWritten;
      this.byStatement.set(k, e);
    }
    this.cursors = [];
  }
  reset(): void {
    this.settle();
    this.read = this.written = 0;
    this.byStatement.clear();
  }
}

export class StoreBench extends DurableObject<Env> {
  private live: { map: AuthMap; nodes: SqlNodeStore; records: SqlRecordStore } | undefined;

  run(keys: number, batches: number, warmup: number): CostResult {
    const { sql } = this.ctx.storage;
    const tx = <T>(fn: () => T): T => this.ctx.storage.transactionSync(fn);
    const name = `s${keys}_${Date.now() % 1e9}`;
    const nodeSql = new CountingSql(sql);
    const recordSql = new CountingSql(sql);
    const nodes = new SqlNodeStore(nodeSql as unknown as SqlStorage, `${name}_m`);
    const records = new SqlRecordStore(recordSql as unknown as SqlStorage, `${name}_r`);
    this.live = undefined;
    const t0 = performance.now();
    const table = `${name}_r`;
    const map = buildState(
      keys,
      nodes,
      (key, rec) =>
        // Bulk load straight into the record table (no history at seq 0): one statement a key.
        sql.exec(
          `INSERT INTO ${table} (key, key_hash, type, state) VALUES (?, ?, ?, ?)`,
          key,
          keyHashOf(key),
          rec.type,
          JSON.stringify(rec.state),
        ),
      tx,
    );
    const buildMs = performance.now() - t0;
    nodeSql.reset();
    recordSql.reset();
    const w = runBatches(map, nodes, records, keys, 1, warmup, tx);
    nodeSql.reset();
    recordSql.reset();
    const r = runBatches(map, nodes, records, keys, w.nextSeq, batches, tx);
    nodeSql.settle();
    recordSql.settle();
    this.live = { map, nodes, records };
    return {
      host: "SQLite (workerd)",
      keys,
      buildMs,
      ops: r.ops,
      usPerOp: (r.ms * 1000) / r.ops,
      hashesPerOp: r.hashes / r.ops,
      rows: {
        nodesRead: nodeSql.read / r.ops,
        nodesWritten: nodeSql.written / r.ops,
        recordsRead: recordSql.read / r.ops,
        recordsWritten: recordSql.written / r.ops,
      },
      nodeRows: nodes.size,
      retired: nodes.retiredCount,
      dbBytes: sql.databaseSize,
      hashCache: nodes.hashCacheSize,
      statements: [...nodeSql.byStatement, ...recordSql.byStatement].map(([q, [n, read, written]]) => ({
        sql: q,
        perOp: n / r.ops,
        readPerOp: read / r.ops,
        writtenPerOp: written / r.ops,
      })),
    };
  }
}

export default {
  async fetch(req: Request, env: Env): Promise<Response> {
    const url = new URL(req.url);
    if (url.pathname !== "/run") return Response.json({ name: "aspec-bench-store-cost" });
    const int = (k: string) => Number(url.searchParams.get(k));
    const stub = env.BENCH.get(env.BENCH.idFromName("store-cost"));
    try {
      return Response.json(await stub.run(int("keys"), int("batches"), int("warmup")));
    } catch (e) {
      return new Response(e instanceof Error ? (e.stack ?? e.message) : String(e), { status: 500 });
    }
  },
} satisfies ExportedHandler<Env>;
