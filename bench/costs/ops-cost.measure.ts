/**
 * The billed events behind a load of writes, counted inside workerd: `COSTS_OPS` signed counter
 * writes over `COSTS_KEYS` keys, posted to the three replicas in turn through the HTTP edge, until
 * every op is certified at every replica. Counted per Durable Object class, from the objects
 * themselves (a wrapper around each RPC method and `alarm` of the class, its SQL cursors and `setAlarm`):
 * - requests: every RPC method call and every alarm run (each is one billed request);
 * - active time: wall time while at least one call or alarm is running in the object (what duration
 *   billing charges, an upper bound here: locally everything shares one thread);
 * - SQLite rows written (the cursors' `rowsWritten`) plus `setAlarm` calls (billed as one row each);
 * - stored bytes at the end (`sql.databaseSize`).
 * The bench's own polls (`stats`, `status`) are left out. Printed as one `COSTS_RESULT` JSON line;
 * `bench/costs/run.ts` prices it.
 */
import { SELF, env, runInDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import { PBFT_NODES } from "../../shared/cluster-config.js";
import { allStatus, node } from "../../test/cluster/support.js";
import { REPLICAS, eventually, post, stub, TestClient } from "../../test/runtime/helpers.js";
import type { EdgeReplica } from "../../durable-objects/edge-replica.js";
import type { ReplicaRpc } from "../../shared/rpc/replica.js";
import type { PbftNode } from "../../durable-objects/pbft-node.js";
import worker from "../../workers/index.js";
import type { Measured, ObjectCost } from "./measured.js";

const bindings = env as unknown as Record<string, string | undefined>;
const OPS = Number(bindings.COSTS_OPS ?? "3000");
const KEYS = Number(bindings.COSTS_KEYS ?? "300");
const CLIENTS = 10;
const IN_FLIGHT = 16;
/** The bench's own reads of the objects: not part of the load. */
const OWN_CALLS = new Set(["stats", "status", "certificationStats"]);

/**
 * Each class's billed entry points: its RPC methods and `alarm` (its other methods are internal
 * calls, which cost nothing). Checked against the classes' types, both ways.
 */
const REPLICA_ENTRIES = [
  "submit",
  "submitMany",
  "read",
  "list",
  "evidence",
  "namespaces",
  "applyRemote",
  "opsSince",
  "confirm",
  "noteDeadLetter",
  "receiveCertified",
  "certificationStats",
  "certificate",
  "opStatus",
  "certifiedHead",
  "certifiedRead",
  "setFaults",
  "stats",
  "alarm",
] as const satisfies readonly (keyof EdgeReplica)[];
const NODE_ENTRIES = [
  "deliver",
  "submit",
  "status",
  "certifiedHead",
  "certifiedBatches",
  "transferPoint",
  "stateChunks",
  "setFaults",
  "beat",
  "alarm",
] as const satisfies readonly (keyof PbftNode)[];
// every RPC method of the replica's declared surface is counted
const replicaRpcCovered: Exclude<keyof ReplicaRpc, (typeof REPLICA_ENTRIES)[number]> extends never
  ? true
  : never = true;
void replicaRpcCovered;
const ENTRIES = new Set<string>([...REPLICA_ENTRIES, ...NODE_ENTRIES]);

interface Tally {
  calls: Record<string, number>;
  inFlight: number;
  since: number;
  activeMs: number;
  cursors: { readonly rowsWritten: number; readonly sql: string }[];
  setAlarms: number;
}

const tallies = new Map<object, Tally>();
const labels = new Map<object, string>();
const wrapped = new WeakSet<object>();

function enter(t: Tally): void {
  if (t.inFlight++ === 0) t.since = performance.now();
}
function leave(t: Tally): void {
  if (--t.inFlight === 0) t.activeMs += performance.now() - t.since;
}

/** Counts every method of the object's class for this instance; its SQL and alarms too. */
async function instrument(s: unknown, label: string): Promise<void> {
  instrumented.push({ stub: s, label });
  await runInDurableObject(s as DurableObjectStub, (instance: object, state: DurableObjectState) => {
    const sql = state.storage.sql;
    const t: Tally = {
      calls: {},
      inFlight: 0,
      since: 0,
      activeMs: 0,
      cursors: [],
      setAlarms: 0,
    };
    tallies.set(instance, t);
    labels.set(instance, label);
    const exec = sql.exec;
    sql.exec = function (this: SqlStorage, ...a: Parameters<SqlStorage["exec"]>) {
      const cursor = exec.apply(sql, a);
      t.cursors.push({
        sql: a[0],
        get rowsWritten() {
          return cursor.rowsWritten;
        },
      });
      return cursor;
    } as SqlStorage["exec"];
    const setAlarm = state.storage.setAlarm;
    state.storage.setAlarm = (...a: Parameters<DurableObjectStorage["setAlarm"]>) => {
      t.setAlarms++;
      return setAlarm.apply(state.storage, a);
    };
    const proto = Object.getPrototypeOf(instance) as Record<string, unknown>;
    if (wrapped.has(proto)) return;
    wrapped.add(proto);
    for (const name of Object.getOwnPropertyNames(proto)) {
      // methods only (getters would run on the prototype itself)
      const original = Object.getOwnPropertyDescriptor(proto, name)?.value as unknown;
      if (!ENTRIES.has(name) || typeof original !== "function") continue;
      proto[name] = function (this: object, ...args: unknown[]) {
        const tally = tallies.get(this);
        if (tally === undefined || OWN_CALLS.has(name)) return original.apply(this, args);
        tally.calls[name] = (tally.calls[name] ?? 0) + 1;
        enter(tally);
        try {
          const r = original.apply(this, args) as unknown;
          if (r instanceof Promise) return r.finally(() => leave(tally));
          leave(tally);
          return r;
        } catch (e) {
          leave(tally);
          throw e;
        }
      };
    }
  });
}
/** Queue messages delivered to the consumer, per queue (each is written, read and deleted: 3 billed operations). */
const queueMessages: Record<string, number> = {};
/** Consumer invocations (batches), per queue: each is a Worker invocation. */
const queueBatches: Record<string, number> = {};
const queue = worker.queue;
worker.queue = (batch, ...rest) => {
  queueMessages[batch.queue] = (queueMessages[batch.queue] ?? 0) + batch.messages.length;
  queueBatches[batch.queue] = (queueBatches[batch.queue] ?? 0) + 1;
  return queue(batch, ...rest);
};

function rowsByStatement(cursors: Tally["cursors"]): Record<string, number> {
  const by = new Map<string, number>();
  for (const c of cursors) {
    if (c.rowsWritten === 0) continue;
    const k = c.sql.replace(/\s+/g, " ").trim().split(" ").slice(0, 4).join(" ");
    by.set(k, (by.get(k) ?? 0) + c.rowsWritten);
  }
  return Object.fromEntries([...by].sort((a, b) => b[1] - a[1]));
}

const instrumented: { stub: unknown; label: string }[] = [];

/** Read inside each object: its cursors and storage belong to it. */
const snapshot = (): Promise<ObjectCost[]> =>
  Promise.all(
    instrumented.map(({ stub: s, label }) =>
      runInDurableObject(s as DurableObjectStub, (instance: object, state: DurableObjectState) => {
        const t = tallies.get(instance)!;
        return {
          label,
          requests: Object.values(t.calls).reduce((a, b) => a + b, 0),
          calls: { ...t.calls },
          activeMs: Math.round(t.activeMs + (t.inFlight > 0 ? performance.now() - t.since : 0)),
          rowsWritten: t.cursors.reduce((a, c) => a + c.rowsWritten, 0),
          setAlarms: t.setAlarms,
          bytes: state.storage.sql.databaseSize,
          rowsBy: rowsByStatement(t.cursors),
        };
      }),
    ),
  );

it(`counts what ${OPS} certified writes cost`, { timeout: 900_000 }, async () => {
  for (const r of REPLICAS) await instrument(stub(r), `replica ${r}`);
  for (const [i, n] of PBFT_NODES.entries()) await instrument(node(i), `node ${n.id}`);

  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => TestClient.create()));
  const expected = new Map<string, number>();
  let next = 0;
  let refused = 0;
  const started = performance.now();
  const worker = async () => {
    for (let i = next++; i < OPS; i = next++) {
      const key = `costs/k${i % KEYS}`;
      const op = await clients[i % CLIENTS]!.sign(key, "counter", "add", { n: 1 });
      const res = await post(op, REPLICAS[i % REPLICAS.length]!);
      if (res.status === 200) expected.set(key, (expected.get(key) ?? 0) + 1);
      else refused++;
      await res.body?.cancel();
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const acceptedMs = performance.now() - started;

  // certified everywhere: nothing waits at an origin, nothing pooled at a node, every replica at
  // the nodes' last executed seq (stats/status are the bench's own calls: not counted)
  await eventually(async () => {
    for (const r of REPLICAS) expect((await stub(r).stats()).certify.waiting, r).toBe(0);
    const nodes = await allStatus();
    for (const s of nodes) expect(s.pool, s.id).toBe(0);
    const head = Math.max(...nodes.map((s) => s.lastExecuted));
    for (const r of REPLICAS)
      expect((await stub(r).stats()).certification.seq, r).toBeGreaterThanOrEqual(head);
  }, 600_000);
  const certifiedMs = performance.now() - started;
  const objects = await snapshot();
  const messages = { ...queueMessages };
  const batches = { ...queueBatches };

  // and the values are right at every replica (reads after the snapshot: not counted)
  for (const r of REPLICAS)
    for (const [key, n] of expected) {
      const res = await SELF.fetch(`https://edge.test/v1/kv/${key}?replica=${r}`);
      const read = (await res.json()) as { certified?: { value: { value: number } } };
      expect(read.certified?.value.value, `${r} ${key}`).toBe(n);
    }

  const result: Measured = {
    ops: OPS,
    keys: KEYS,
    accepted: OPS - refused,
    refused,
    acceptedMs: Math.round(acceptedMs),
    certifiedMs: Math.round(certifiedMs),
    queueMessages: messages,
    queueBatches: batches,
    objects,
  };
  console.log(`COSTS_RESULT ${JSON.stringify(result)}`);
  expect(refused).toBe(0);
  for (const o of objects) expect(o.rowsWritten, `${o.label}: its SQL was counted`).toBeGreaterThan(0);
  expect(messages["aspec-replicate"] ?? 0, "the queue consumer was counted").toBeGreaterThan(0);
});
