/**
 * Persist-after-send for the outbox drain: an op is recorded as sent only once `sendBatch` returned.
 * If the send throws, the op stays in the outbox and the drain is due again after the retry delay
 * (not a re-send three anti-entropy periods later), the alarm handler itself does not throw, and the
 * alarm stays set. Alarms are driven by the test.
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

    // The drain runs and its send throws: the run logs it and schedules the retry (the platform's
    // own run, due 20 ms after the write, may have failed the same way already).
    const dueNow = () =>
      runInDurableObject(doStub("weur"), (_i, state) => {
        state.storage.sql.exec("UPDATE deadlines SET at = 0 WHERE task = 'drain'");
      });
    await dueNow();
    const before = Date.now();
    await runAlarm("weur"); // does not throw
    expect((await stub("weur").stats()).outbox).toBe(1); // not recorded as sent
    const due = await drainDeadline("weur");
    expect(due, "the drain keeps a deadline").toBeDefined();
    expect(due!).toBeGreaterThan(before); // not at once: a refusing queue can't spin the alarm
    expect(due!).toBeLessThanOrEqual(Date.now() + 1_000); // retried within the retry delay
    const alarm = await runInDurableObject(doStub("weur"), (_i, state) => state.storage.getAlarm());
    expect(alarm, "the alarm stays set for the retry").not.toBeNull();
    expect(alarm!).toBeLessThanOrEqual(due!);

    await dueNow();
    await setFaults("weur", {});
    await runAlarm("weur");
    expect((await stub("weur").stats()).outbox).toBe(0);
    await eventually(async () => {
      for (const r of ["enam", "apac"]) expect(await read(KEY, r)).toMatchObject({ value: 5 });
    });
  });
});
