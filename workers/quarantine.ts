/**
 * The edge's view of the Directory's quarantines: an in-isolate copy, refreshed at most every
 * `QUARANTINE_REFRESH_MS` by the request that finds it stale (one small RPC, with a deadline), and
 * set at once by the requests that change it here (evidence, lift). Other isolates see a change
 * within the refresh period (plus one RPC).
 *
 * Requests never wait on each other's refresh: a promise whose I/O belongs to one request, awaited
 * by another, runs the waiter on in the first one's I/O context (workerd then refuses the waiter's
 * own body reads, or cancels it as hung if the first request goes away). So the request that starts
 * a refresh awaits its own RPC, and the ones arriving meanwhile go on with the copy they have; only
 * an isolate that has never loaded the copy makes each request load its own.
 */
import type { MiddlewareHandler } from "hono";
import type { Directory } from "../durable-objects/directory.js";
import { PEER_DEADLINE_MS, withDeadline } from "../shared/deadline.js";
import type { Quarantine, QuarantineRow } from "../shared/rpc/directory.js";
import type { Env } from "../platform/env.js";

export const QUARANTINE_REFRESH_MS = 1000;
/** The singleton's name. */
const DIRECTORY_NAME = "directory";

export function directoryStub(env: Env): DurableObjectStub<Directory> {
  return env.DIRECTORY.get(env.DIRECTORY.idFromName(DIRECTORY_NAME));
}

let known: { at: number; byReplica: ReadonlyMap<string, Quarantine> } = {
  at: -Infinity,
  byReplica: new Map(),
};
/** When this isolate's refresh in flight started (a refresh that never ends is retried after its deadline). */
let refreshStartedAt = -Infinity;

/** Replace the copy with the Directory's rows (as just read or written). */
export function setQuarantines(rows: readonly QuarantineRow[]): ReadonlyMap<string, Quarantine> {
  const byReplica = new Map(rows.map((r) => [r.replica, { kind: r.kind, at: r.at, digest: r.digest }]));
  known = { at: Date.now(), byReplica };
  return byReplica;
}

/** The last known quarantines, by replica name (synchronous: what routing reads). */
export const quarantined = (): ReadonlyMap<string, Quarantine> => known.byReplica;

/** Read the Directory now; on failure keep (and return) the last known copy, logged. */
export async function loadQuarantines(env: Env): Promise<ReadonlyMap<string, Quarantine>> {
  try {
    const rows = await withDeadline(
      directoryStub(env).quarantines(),
      PEER_DEADLINE_MS.replicaSmall,
      "quarantines",
    );
    return setQuarantines(rows);
  } catch (e) {
    console.error({ event: "quarantines_unavailable", error: String(e) });
    known = { at: Date.now(), byReplica: known.byReplica }; // try again after a period, not per request
    return known.byReplica;
  }
}

/**
 * Middleware: if the copy is stale, the first request to see it refreshes it (awaiting its own RPC);
 * requests meanwhile go on with the last copy, unless there is none yet.
 */
export const refreshQuarantines: MiddlewareHandler<{ Bindings: Env }> = async (c, next) => {
  const now = Date.now();
  if (now - known.at >= QUARANTINE_REFRESH_MS) {
    if (known.at === -Infinity) await loadQuarantines(c.env);
    else if (now - refreshStartedAt >= PEER_DEADLINE_MS.replicaSmall) {
      refreshStartedAt = now;
      await loadQuarantines(c.env);
      refreshStartedAt = -Infinity;
    }
  }
  await next();
};
