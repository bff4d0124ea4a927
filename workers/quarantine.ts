/**
 * The edge's view of the Directory's quarantines: an in-isolate copy, refreshed at most every
 * `QUARANTINE_REFRESH_MS` by the request that finds it stale (one small RPC), and set at once by the
 * requests that change it here (evidence, lift). Other isolates see a change within the refresh period.
 */
import type { MiddlewareHandler } from "hono";
import type { Directory } from "../durable-objects/directory.js";
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
let refreshing: Promise<void> | undefined;

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
    return setQuarantines(await directoryStub(env).quarantines());
  } catch (e) {
    console.error({ event: "quarantines_unavailable", error: String(e) });
    known = { at: Date.now(), byReplica: known.byReplica }; // try again after a period, not per request
    return known.byReplica;
  }
}

/** Middleware: refresh the copy if stale (one refresh in flight per isolate), then go on. */
export const refreshQuarantines: MiddlewareHandler<{ Bindings: Env }> = async (c, next) => {
  if (Date.now() - known.at >= QUARANTINE_REFRESH_MS) {
    refreshing ??= loadQuarantines(c.env).then(() => {
      refreshing = undefined;
    });
    await refreshing;
  }
  await next();
};
