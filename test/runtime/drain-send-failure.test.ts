/**
 * Persist-after-send for the outbox drain: an op is recorded as sent only once `sendBatch` returned.
 * If the send throws, the op stays in the outbox and the drain stays due, so the next alarm run
 * sends it again (not a re-send three anti-entropy periods later). Alarms are driven by the test.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { eventually, post, read, stub, TestClient } from "./helpers.js";
import { setFaults } from "./delivery-helpers.js";

const doStub = (name: string) => env.EDGE_REPLICA.get(env.EDGE_REPLICA.idFromName(name));

/** Run the replica's alarm handler now, whether or not an alarm is set. */
const runAlarm = (name: string) =>
  runInDurableObject(doStub(name), (instance) => (instance as { alarm(): Promise<void> }).alarm());

/** The drain deadline (ms), or undefined when none is set. */
const drainDeadline = (name: string) =>
  runInDurableObject(doStub(name), (_i, state) => {
    const row = state.storage.sql
      .exec<{ at: number }>("SELECT at FROM deadlines WHERE task = 'drain'")
      .toArray()[0];
    return row?.at;
  });

describe("the outbox drain records an op as sent only after sendBatch succeeded", () => {
  it("a failed send leaves the op in the outbox, due at once; the next run sends it", async () => {
    const c = await TestClient.create();
    const KEY = "drainfail/k";
    await setFaults("weur", { failQueueSends: true });
    expect((await post(await c.sign(KEY, "counter", "add", { n: 5 }), "weur")).status).toBe(200);
    expect((await stub("weur").stats()).outbox).toBe(1);

    // The drain runs and its send throws: the alarm run fails (the platform's own run, due 20 ms
    // after the write, may have failed the same way already).
    await runInDurableObject(doStub("weur"), (_i, state) => {
      state.storage.sql.exec("UPDATE deadlines SET at = 0 WHERE task = 'drain'");
    });
    const failure = await runAlarm("weur").then(
      () => null,
      (e: unknown) => e,
    );
    expect((await stub("weur").stats()).outbox).toBe(1); // not recorded as sent
    const due = await drainDeadline("weur");
    expect(due).toBeDefined();
    expect(due!).toBeLessThanOrEqual(Date.now()); // still due: the next run drains it
    expect(String(failure)).toMatch(/refuses sends/);

    await setFaults("weur", {});
    await runAlarm("weur");
    expect((await stub("weur").stats()).outbox).toBe(0);
    await eventually(async () => {
      for (const r of ["enam", "apac"]) expect(await read(KEY, r)).toMatchObject({ value: 5 });
    });
  });
});
