/**
 * A cluster nobody uses stops beating and its nodes sleep (no alarm set, the alarm count still);
 * a reader that comes back after longer than the SDK's default certificate-age bound asks for a
 * beat and gets a fresh certificate, so the SDK does not fail over. HEARTBEAT_ACTIVITY_MS is 3 s
 * here (vitest.config.ts, project "idle"): the heartbeat stops 3 s after the last write.
 */
import { runInDurableObject, SELF } from "cloudflare:test";
import { expect, it } from "vitest";
import { AspecClient } from "../../client/index.js";
import { PBFT_NODES } from "../../shared/cluster-config.js";
import { REPLICAS, stub } from "../runtime/helpers.js";
import { allStatus, node, writeAndCertify } from "../cluster/support.js";

/** The SDK's default bound (client/client.ts). */
const DEFAULT_BOUND_MS = 10_000;
/** Past the activity window (3 s) and the fallback posts (2 s), then past the bound. */
const IDLE_MS = 3_000 + 2_000 + DEFAULT_BOUND_MS;
const SLEEP_CHECK_MS = 1_500;

it(
  "idle past the bound: nodes asleep; a read then gets a fresh certificate, no failover",
  { timeout: 90_000 },
  async () => {
    await writeAndCertify("on-demand");
    await new Promise((r) => setTimeout(r, IDLE_MS - SLEEP_CHECK_MS));

    // asleep: no alarm armed, and no alarm ran meanwhile
    const before = await allStatus();
    await new Promise((r) => setTimeout(r, SLEEP_CHECK_MS));
    const after = await allStatus();
    expect(after.map((s) => s.alarms)).toEqual(before.map((s) => s.alarms));
    for (const [i] of PBFT_NODES.entries())
      expect(
        await runInDurableObject(node(i) as never, (_i, state: DurableObjectState) =>
          state.storage.getAlarm(),
        ),
      ).toBeNull();
    const lastSeq = Math.max(...after.map((s) => s.lastExecuted));

    for (const r of REPLICAS) {
      const c = await AspecClient.connect({
        endpoint: "https://edge.test",
        replica: r,
        fetch: (url, init) => SELF.fetch(url, init),
      });
      const read = await c.get("on-demand/k0");
      expect(read.replica, "not failed over: its certificate is fresh").toBe(r);
      expect(Date.now() - read.certificate!.body.time).toBeLessThan(DEFAULT_BOUND_MS);
      expect(read.certified?.value).toMatchObject({ type: "counter", value: 1 });
      c.close();
    }
    // the nodes woke up for it and beat
    expect(Math.max(...(await allStatus()).map((s) => s.lastExecuted))).toBeGreaterThan(lastSeq);
    expect((await stub(REPLICAS[0]!).stats()).beats.asked).toBeGreaterThan(0);
  },
);
