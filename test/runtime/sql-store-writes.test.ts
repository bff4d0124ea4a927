/**
 * What the certified state's tree costs in SQLite row writes per batch, counted from the cursors
 * (`rowsWritten`) of the node store's own statements, inside workerd: one write per node the batch
 * adds and one per node collected, plus a constant per batch (root, the batch's retired list, the
 * collect) — not a row per retired node, nor two per collected node. Roots and proofs stay the
 * in-memory reference's (test/runtime/sql-stores.test.ts runs the whole store acceptance suite).
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SqlNodeStore } from "../../durable-objects/storage/sql-node-store.js";
import { SqlRecordStore } from "../../durable-objects/storage/sql-record-store.js";
import type { VersionedRecordStore } from "../../shared/certified/record-store.js";
import { MerkleStateMachine } from "../../shared/certified/state-machine.js";
import type { SignedOp } from "../../shared/ops.js";

/** An `SqlStorage` that sums the rows its cursors wrote (read once each statement ran). */
class CountingSql {
  written = 0;
  statements = 0;
  private open: SqlStorageCursor<Record<string, SqlStorageValue>>[] = [];
  constructor(private readonly sql: SqlStorage) {}
  exec(query: string, ...bindings: unknown[]): SqlStorageCursor<Record<string, SqlStorageValue>> {
    const c = this.sql.exec(query, ...bindings);
    this.open.push(c);
    this.statements++;
    return c;
  }
  settle(): number {
    for (const c of this.open) this.written += c.rowsWritten;
    this.open = [];
    return this.written;
  }
}

const CLIENTS = 8;
const KEYS = 400;

/** Batch `b`: 32 counter adds over KEYS keys by CLIENTS clients (execute trusts its input). */
function batch(b: number): SignedOp[] {
  return Array.from({ length: 32 }, (_, j) => {
    const seq = b * 32 + j + 1;
    return {
      client: `${"C".repeat(42)}${String.fromCharCode(65 + (j % CLIENTS))}`,
      seq,
      key: `w${(seq * 7919) % KEYS}`,
      type: "counter",
      op: "add",
      args: { n: 1 },
      ts: seq,
      sig: "S".repeat(86),
    } as SignedOp;
  });
}

interface Figures {
  batches: number;
  added: number;
  collected: number;
  written: number;
  statements: number;
  /** Records set (one per key a batch changes, executed-ids records included). */
  sets: number;
  /** Rows the record store's statements wrote (its own cursors). */
  recordRows: number;
}

/** The record store under `store`, counting the records set. */
function countingSets(store: SqlRecordStore): { store: VersionedRecordStore; sets: () => number } {
  let sets = 0;
  return {
    store: {
      get: (k) => store.get(k),
      setAt: (k, r, v) => {
        sets++;
        store.setAt(k, r, v);
      },
      setManyAt: (es, v) => {
        sets += es.length;
        store.setManyAt(es, v);
      },
      getAt: (k, v) => store.getAt(k, v),
      keyOf: (h) => store.keyOf(h),
      collect: (t) => store.collect(t),
      get size() {
        return store.size;
      },
    },
    sets: () => sets,
  };
}

/**
 * 40 batches to warm the state, then 20 counted, each in one transaction at its seq, collecting
 * through `seq - lag` after it (a node keeps its stable checkpoint `lag` seqs back; a replica, 0).
 */
function run(storage: DurableObjectStorage, name: string, lag: number, history: boolean): Figures {
  const sql = new CountingSql(storage.sql);
  const nodes = new SqlNodeStore(sql as unknown as SqlStorage, `${name}_m`);
  const recordSql = new CountingSql(storage.sql);
  const records = countingSets(
    new SqlRecordStore(recordSql as unknown as SqlStorage, `${name}_r`, { history }),
  );
  const sm = new MerkleStateMachine({ nodes, records: records.store });
  const ref = new MerkleStateMachine();
  const f: Figures = {
    batches: 0,
    added: 0,
    collected: 0,
    written: 0,
    statements: 0,
    sets: 0,
    recordRows: 0,
  };
  for (let b = 0; b < 60; b++) {
    const counted = b >= 40;
    const before = {
      written: sql.settle(),
      statements: sql.statements,
      hashes: sm.hashCount,
      sets: records.sets(),
      recordRows: recordSql.settle(),
    };
    const ops = batch(b);
    const seq = b + 1;
    const collected = storage.transactionSync(() => {
      expect(sm.execute(ops, seq)).toEqual(ref.execute(ops, seq));
      if (seq <= lag) return 0;
      // What the state machine's collect does, the node store's count kept apart.
      records.store.collect(seq - lag);
      return nodes.collect(seq - lag);
    });
    ref.collect(seq - lag);
    if (!counted) continue;
    f.batches++;
    f.added += sm.hashCount - before.hashes; // every node the tree adds is hashed once
    f.collected += collected;
    f.written += sql.settle() - before.written;
    f.statements += sql.statements - before.statements;
    f.sets += records.sets() - before.sets;
    f.recordRows += recordSql.settle() - before.recordRows;
  }
  expect(sm.stateRoot()).toBe(ref.stateRoot());
  expect(JSON.stringify(sm.proveKey("w7"))).toBe(JSON.stringify(ref.proveKey("w7")));
  return f;
}

const host = () => env.EDGE_REPLICA.get(env.EDGE_REPLICA.idFromName("sql-store-writes"));

// The roles as the product opens their stores: a PBFT node keeps record history (it serves its
// stable checkpoint's records while it executes past it), a replica keeps none (CertifiedReplica).
const ROLES = [
  { role: "a node (collects 4 seqs behind)", lag: 4, history: true },
  { role: "a replica (collects at once)", lag: 0, history: false },
] as const;

describe("certified tree writes per batch over SQLite", () => {
  for (const { role, lag, history } of ROLES)
    it(`${role}: one row written per node added and per node collected, plus a few per batch`, () =>
      runInDurableObject(host(), (_i, { storage }) => {
        const f = run(storage, `w${lag}_${Date.now() % 1e6}`, lag, history);
        console.log({ event: "tree_writes", role, ...f, writtenPerBatch: f.written / f.batches });
        expect(f.added).toBeGreaterThan(0);
        expect(f.collected).toBeGreaterThan(0);
        expect(f.written).toBeLessThanOrEqual(f.added + f.collected + 4 * f.batches);
      }));
});

describe("certified record writes per batch over SQLite", () => {
  for (const { role, lag, history } of ROLES)
    it(`${role}: ${history ? "at most 4 rows (record, history row and its index, written then collected)" : "one row, the record's"} per key set`, () =>
      runInDurableObject(host(), (_i, { storage }) => {
        const f = run(storage, `r${lag}_${Date.now() % 1e6}`, lag, history);
        console.log({
          event: "record_writes",
          role,
          history,
          batches: f.batches,
          sets: f.sets,
          recordRows: f.recordRows,
          setsPerBatch: f.sets / f.batches,
          recordRowsPerBatch: f.recordRows / f.batches,
        });
        expect(f.sets).toBeGreaterThan(0);
        if (history) expect(f.recordRows).toBeLessThanOrEqual(4 * f.sets);
        else expect(f.recordRows).toBeLessThanOrEqual(f.sets);
      }));
});

describe("retired nodes kept by an earlier version of the store", () => {
  it("one row per node in <name>_retired: folded into per-version lists at open, then collected as before", () =>
    runInDurableObject(host(), (_i, { storage }) => {
      const name = `legacy_${Date.now() % 1e6}`;
      const sql = storage.sql;
      const first = new SqlNodeStore(sql, `${name}_m`);
      const sm = new MerkleStateMachine({ nodes: first, records: new SqlRecordStore(sql, `${name}_r`) });
      const ref = new MerkleStateMachine();
      for (let b = 0; b < 6; b++) expect(sm.execute(batch(b), b + 1)).toEqual(ref.execute(batch(b), b + 1));
      // Rewrite what is retired as the earlier store kept it: (at, id), one row per node.
      const lists = sql
        .exec<{ at: number; ids: string }>(`SELECT at, ids FROM ${name}_m_retired_at`)
        .toArray();
      sql.exec(
        `CREATE TABLE ${name}_m_retired (at INTEGER NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (at, id)) WITHOUT ROWID`,
      );
      for (const l of lists)
        for (const id of JSON.parse(l.ids) as number[])
          sql.exec(`INSERT INTO ${name}_m_retired VALUES (?, ?)`, l.at, id);
      sql.exec(`DELETE FROM ${name}_m_retired_at`);
      const retired = ref.stores.nodes.retiredCount;
      expect(retired).toBeGreaterThan(0);
      const again = new SqlNodeStore(sql, `${name}_m`);
      expect(again.retiredCount).toBe(retired);
      const legacyLeft = sql
        .exec(`SELECT 1 FROM sqlite_master WHERE name = ?`, `${name}_m_retired`)
        .toArray().length;
      expect(legacyLeft).toBe(0);
      expect(again.collect(3)).toBe(ref.stores.nodes.collect(3));
      expect(again.collect(6)).toBe(ref.stores.nodes.collect(6));
      expect(again.retiredCount).toBe(0);
      expect(again.size).toBe(ref.stores.nodes.size);
      const sm2 = new MerkleStateMachine({ nodes: again, records: new SqlRecordStore(sql, `${name}_r`) });
      expect(sm2.stateRoot()).toBe(ref.stateRoot());
    }));
});
