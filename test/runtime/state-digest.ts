/**
 * A digest of everything a replica holds: every row of every table of its SQLite storage, plus
 * whether an alarm is set. Refused requests must leave it unchanged — row counts alone would miss
 * a changed value or a swapped row.
 */
import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import { toHex, utf8 } from "../../shared/bytes.js";
import { sha256 } from "../../shared/hash.js";
import { REPLICAS, eventually, stub } from "./helpers.js";

/** Every table of a Durable Object (not the platform's own `_cf_` ones), every row in key order, as one text. */
export function dumpTables(sql: SqlStorage): string {
  const tables = sql
    .exec<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%' ORDER BY name",
    )
    .toArray()
    .map((t) => t.name);
  return tables
    .map((t) => {
      const rows = sql.exec(`SELECT * FROM "${t}" ORDER BY 1`).toArray();
      return `${t}\n${rows.map((r) => JSON.stringify(r)).join("\n")}`;
    })
    .join("\n\n");
}

/** A replica's every table and row, and whether its alarm is set. */
export async function dumpReplica(name: string): Promise<string> {
  return runInDurableObject(stub(name) as unknown as DurableObjectStub, async (_instance, state) => {
    const alarm = (await state.storage.getAlarm()) === null ? "none" : "set";
    return `${dumpTables(state.storage.sql)}\n\nalarm ${alarm}`;
  });
}

/** SHA-256 of each replica's dump, by replica name. */
export async function digestAll(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const r of REPLICAS) out[r] = toHex(sha256(utf8(await dumpReplica(r))));
  return out;
}

/**
 * Every replica's digest once earlier writes are done with: no outbox left at any replica and the
 * digests unchanged across two looks (a write's drain runs in the replica's alarm, after its
 * reply). A "changes nothing" check must start from here, or that alarm lands inside it.
 */
export async function settled(timeoutMs = 20_000): Promise<Record<string, string>> {
  let last = "";
  let digests: Record<string, string> = {};
  await eventually(async () => {
    for (const r of REPLICAS) expect((await stub(r).stats()).outbox, r).toBe(0);
    digests = await digestAll();
    const now = JSON.stringify(digests);
    const stable = now === last;
    last = now;
    expect(stable, "digests still changing").toBe(true);
  }, timeoutMs);
  return digests;
}

/**
 * Restart every Durable Object (memory gone, storage and alarms kept), once the replicas are
 * settled. Never mid-alarm: an alarm handler aborted by abortAllDurableObjects() leaves the pool
 * (vitest-pool-workers 0.15.1) unable to finish the test file, and the run hangs after the file's
 * last test — reproduced by aborting right after writes, whose drain alarms were running.
 */
export async function restartAll(): Promise<void> {
  await settled();
  await abortAllDurableObjects();
}
