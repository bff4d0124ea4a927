/**
 * A node's loop never waits on I/O: with every certificate post it makes held (dev fault `hangPosts`:
 * a queue or replica that accepts the call and never answers), its alarm keeps ticking, its posts
 * wait in flight, and the seqs it was to post reach the replicas from the other poster. The live
 * cluster, in workerd.
 */
import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../runtime/helpers.js";
import { allStatus, clearAllFaults, nodeStatus, setNodeFaults, writeAndCertify } from "./support.js";

afterEach(clearAllFaults);

describe("a node's loop", () => {
  it("keeps ticking while its certificate posts hang", { timeout: 90_000 }, async () => {
    const view = Math.max(...(await allStatus()).map((s) => s.view));
    const i = (view + 1) % 4; // a backup: no view change needed
    await setNodeFaults(i, { hangPosts: true });
    // seqs certified meanwhile (ops, and heartbeats): some it posts, some it is the fallback of
    await writeAndCertify("loop-a");
    await eventually(async () => expect((await nodeStatus(i)).fallbacksPending).toBeGreaterThan(0), 30_000);
    // a fallback of its is due and hanging now; the loop goes on
    await new Promise((r) => setTimeout(r, 3_000));
    const before = await nodeStatus(i);
    await new Promise((r) => setTimeout(r, 1_500));
    const after = await nodeStatus(i);
    expect(after.alarms).toBeGreaterThan(before.alarms);
    expect(Date.now() - after.lastAlarmAt!).toBeLessThan(2_000);
    expect(after.alarmFailures).toBe(before.alarmFailures);
    // and certification goes on at every replica
    await writeAndCertify("loop-b");
    const s = await allStatus();
    expect(s[i]!.lastExecuted).toBeGreaterThanOrEqual(Math.min(...s.map((x) => x.lastExecuted)));
  });
});
