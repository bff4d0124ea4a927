/**
 * What one writer waits for, one connection, one request in flight: an EC write (`POST /v1/ops`,
 * the replica's signed reply) and a certified write (k = 0: the same POST, then
 * `GET /v1/ops/:id?wait=certified&timeoutMs=30000` until its certificate reached the replica), and
 * the bare-DO baseline's write (bench/baseline: a Worker + SQLite DO that stores the body). Every
 * request has a deadline: one unanswered by then counts as an error and the next write goes.
 */
import { performance } from "node:perf_hooks";
import { signOp } from "../../shared/ops.js";
import { get, makeAgent, post } from "../ec/load.js";

/** The certified wait asks the replica for 30 s; the request itself gives up a little later. */
const WAIT_CERTIFIED_MS = 30_000;
const WAIT_DEADLINE_MS = WAIT_CERTIFIED_MS + 5_000;
const failed = (e: unknown) => ({ status: 0, body: String(e) });
import { summarize, type LatencySummary } from "../ec/stats.js";
import { makeClients } from "../ec/workload.js";
import { REPLICA } from "./ingress.js";

export interface SerialResult {
  lat: LatencySummary;
  errors: number;
  /** Certified writes that came back still pending (timed out). */
  pending: number;
}

async function signedBodies(
  n: number,
  prefix: string,
  keys: number,
): Promise<{ id: string; body: string }[]> {
  const [c] = await makeClients(1);
  const out: { id: string; body: string }[] = [];
  for (let i = 0; i < n; i++) {
    const seq = ++c!.seq;
    const op = await signOp(c!.kp.secret, {
      client: c!.kp.publicKey,
      seq,
      key: `${prefix}/k${i % keys}`,
      type: "counter",
      op: "add",
      args: { n: 1 },
      ts: Date.now(),
    });
    out.push({ id: `${op.client}:${op.seq}`, body: JSON.stringify(op) });
  }
  return out;
}

/** `n` writes one after the other to `path` (after `warmup` unmeasured ones). */
export async function serialWrites(
  port: number,
  path: string,
  n: number,
  prefix: string,
  warmup = 20,
): Promise<SerialResult> {
  const agent = makeAgent(1);
  const ops = await signedBodies(n + warmup, prefix, 100);
  const lat: number[] = [];
  let errors = 0;
  for (const [i, op] of ops.entries()) {
    const t0 = performance.now();
    const r = await post(agent, port, path, op.body, false).catch(failed);
    if (i >= warmup) lat.push(performance.now() - t0);
    if (r.status !== 200) errors++;
  }
  agent.destroy();
  return { lat: summarize(lat), errors, pending: 0 };
}

/** `n` certified writes one after the other: POST, then GET ?wait=certified (k = 0). */
export async function certifiedWrites(port: number, n: number, prefix: string): Promise<SerialResult> {
  const agent = makeAgent(1);
  const ops = await signedBodies(n, prefix, 100);
  const lat: number[] = [];
  let errors = 0;
  let pending = 0;
  for (const op of ops) {
    const t0 = performance.now();
    const w = await post(agent, port, `/v1/ops?replica=${REPLICA}`, op.body, false).catch(failed);
    if (w.status !== 200) {
      errors++;
      continue;
    }
    const r = await get(
      agent,
      port,
      `/v1/ops/${op.id}?replica=${REPLICA}&wait=certified&timeoutMs=${WAIT_CERTIFIED_MS}`,
      WAIT_DEADLINE_MS,
    ).catch(failed);
    const t1 = performance.now();
    if (r.status !== 200) errors++;
    else if ((JSON.parse(r.body) as { pending?: boolean }).pending) pending++;
    else lat.push(t1 - t0);
  }
  agent.destroy();
  return { lat: summarize(lat), errors, pending };
}
