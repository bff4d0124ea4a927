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
import { PBFT_NODES } from "../../shared/cluster-config.js";
import { clearAllFaults, expectCertified, setNodeFaults } from "../cluster/support.js";

const object = () => env.EDGE_REPLICA.get(env.EDGE_REPLICA.idFromName("weur"));
const alarms = async () => (await stub("weur").stats()).alarms;

/** Every periodic task due now, then one alarm run. */
async function idleRound(): Promise<void> {
  await runInDurableObject(object(), async (_i, state) => {
    state.storage.sql.exec("UPDATE deadlines SET at = 0 WHERE task <> 'drain'");
    // one alarm set for `runDurableObjectAlarm` to run now, whatever the live one just did
    await state.storage.setAlarm(Date.now() + 60_000);
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

it("a replica whose own op waits for certification does not back off before the op is due to be submitted again", async () => {
  // the op is acknowledged, but the nodes certify nothing (all silent): the certify task must
  // resubmit it once it is `certifyAfterMs` old. Rounds before then find it not yet due, which is
  // not idleness (seen: after a restart, ops acknowledged just before a crash waited ~30 s for
  // certification, the replica having backed off to 16 s periods in the meantime).
  await Promise.all(PBFT_NODES.map((_, i) => setNodeFaults(i, { silent: true })));
  try {
    const c = await TestClient.create();
    expect((await post(await c.sign("backoff/waiting", "counter", "add", { n: 1 }), "weur")).status).toBe(
      200,
    );
    for (let i = 0; i < 4; i++) await idleRound();
    expect((await alarms()).idleLevel).toBe(0);
  } finally {
    await clearAllFaults();
  }
});
