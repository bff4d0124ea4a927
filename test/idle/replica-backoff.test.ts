/**
 * An idle replica's alarm backs off (shared/delivery/idle-backoff.ts) and a write brings it back to
 * its base pace at once. The live deployment in workerd (ANTI_ENTROPY_MS 1 s, the four nodes
 * certifying); alarm runs are driven with `runDurableObjectAlarm` after making every task due, so
 * each run is one full round of the replica's periodic tasks.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import { post, stub, TestClient } from "../runtime/helpers.js";
import { env } from "cloudflare:test";
import { expectCertified } from "../cluster/support.js";

const object = () => env.EDGE_REPLICA.get(env.EDGE_REPLICA.idFromName("weur"));
const alarms = async () => (await stub("weur").stats()).alarms;

/** Every periodic task due now, then one alarm run. */
async function idleRound(): Promise<void> {
  await runInDurableObject(object(), (_i, state) => {
    state.storage.sql.exec("UPDATE deadlines SET at = 0 WHERE task <> 'drain'");
  });
  expect(await runDurableObjectAlarm(object())).toBe(true);
}

it("an idle replica doubles its periods up to the cap; a write brings it back to the base pace", async () => {
  const c = await TestClient.create();
  expect((await post(await c.sign("backoff/k", "counter", "add", { n: 1 }), "weur")).status).toBe(200);
  await expectCertified(["backoff/k"], () => 1, 40_000);

  for (let i = 0; i < 8; i++) await idleRound();
  const idle = await alarms();
  expect(idle.idleLevel).toBeGreaterThanOrEqual(5);
  expect(idle.antiEntropyMs).toBeGreaterThanOrEqual(32_000);
  const armed = await runInDurableObject(object(), (_i, state) => state.storage.getAlarm());
  expect(armed! - Date.now()).toBeGreaterThan(10_000);

  expect((await post(await c.sign("backoff/k", "counter", "add", { n: 1 }), "weur")).status).toBe(200);
  const woken = await alarms();
  expect(woken).toMatchObject({ idleLevel: 0, antiEntropyMs: 1_000 });
  const deadlines = await runInDurableObject(object(), (_i, state) =>
    state.storage.sql.exec<{ task: string; at: number }>("SELECT task, at FROM deadlines").toArray(),
  );
  const ae = deadlines.find((d) => d.task === "antiEntropy")!.at;
  expect(ae - Date.now()).toBeLessThanOrEqual(1_000);
});
