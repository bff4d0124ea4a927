/** Drive a replica's one alarm deterministically: make chosen tasks due, then run the alarm. */
import {
  createExecutionContext,
  createMessageBatch,
  env,
  getQueueResult,
  runDurableObjectAlarm,
  runInDurableObject,
} from "cloudflare:test";
import { expect } from "vitest";
import type { Faults } from "../../platform/dev-faults/replica-faults.js";
import type { Task } from "../../shared/delivery/timers.js";
import { decideOp } from "../../shared/materialize.js";
import type { SignedOp } from "../../shared/ops.js";
import { replicateText, type ApplyReport, type ReplicateMessage } from "../../shared/replication.js";
import worker from "../../workers/index.js";
import { stub } from "./helpers.js";

export const FAULT_TOKEN = "test-fault-token";

const doStub = (name: string) => env.EDGE_REPLICA.get(env.EDGE_REPLICA.idFromName(name));

/** Mark `tasks` due (as if their time had come) and run the replica's alarm once. */
export async function tick(name: string, tasks: Task[]): Promise<void> {
  await runInDurableObject(doStub(name), (_instance, state) => {
    for (const t of tasks)
      state.storage.sql.exec(
        "INSERT INTO deadlines (task, at) VALUES (?, 0) ON CONFLICT (task) DO UPDATE SET at = 0",
        t,
      );
  });
  // false while the replica's own alarm (a write's drain) is running: that run re-arms the alarm,
  // at once since a task is now due; run it here as soon as it is set again
  for (let i = 0; i < 100; i++) {
    if (await runDurableObjectAlarm(doStub(name))) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  expect.fail(`${name}: no alarm to run`);
}

export const setFaults = (name: string, f: Faults) => stub(name).setFaults(name, FAULT_TOKEN, f);

let msgN = 0;
/** Hand messages of `queue` to the real queue handler as one batch; the broker's verdict per message. */
export async function deliverTo<T>(queue: string, messages: T[], attempts = 1) {
  const batch = createMessageBatch<T>(
    queue,
    messages.map((body) => ({ id: `m${msgN++}`, timestamp: new Date(), attempts, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch as MessageBatch<unknown>, env, ctx);
  return getQueueResult(batch, ctx);
}

/** Replicate messages through the real queue handler, each as its wire text. */
export const deliver = (messages: ReplicateMessage[], attempts = 1) =>
  deliverTo("aspec-replicate", messages.map(replicateText), attempts);

/** A client op as its origin enters it in its own log now: one entry of a replicate message. */
export function originEntry(op: SignedOp) {
  const d = decideOp(undefined, op, { kind: "origin", stamp: { wall: Date.now(), logical: 0 } });
  return { op, status: d.status, effect: d.effect };
}

/** One replicate message straight to a replica's RPC, as its wire text; the parsed report. */
export const applyRemote = async (name: string, msg: ReplicateMessage): Promise<ApplyReport> =>
  JSON.parse(await stub(name).applyRemote(name, replicateText(msg))) as ApplyReport;

/** Every op of `origin`'s own log, as the entries JSON texts its drain sends. */
export async function ownLog(origin: string): Promise<unknown[]> {
  const out: unknown[] = [];
  for (;;) {
    const page = JSON.parse(await stub(origin).opsSince(origin, "test", out.length, 500)) as {
      entries: unknown[];
      head: number;
    };
    const entries = page.entries;
    out.push(...entries);
    if (entries.length === 0 || out.length >= page.head) return out;
  }
}
