/**
 * Propagation between replicas through the real local queue: duplicate and redelivered batches,
 * forged ops, and a replica evicted between its reply and the outbox drain.
 */
import { abortAllDurableObjects, env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ReplicateMessage } from "../../shared/replication.js";
import { applyRemote, deliver, originEntry, setFaults, tick } from "./delivery-helpers.js";
import { REPLICAS, eventually, post, read, stub, TestClient } from "./helpers.js";

const replicaDo = (name: string) => env.EDGE_REPLICA.get(env.EDGE_REPLICA.idFromName(name));

async function entry(c: TestClient, key: string, n: number) {
  return originEntry(await c.sign(key, "counter", "add", { n }));
}

describe("replication", () => {
  it("a batch delivered twice, and redelivered later, is applied once", async () => {
    const c = await TestClient.create();
    const msg: ReplicateMessage = {
      origin: "weur",
      entries: JSON.stringify([await entry(c, "r/dup", 5), await entry(c, "r/dup", 2)]),
    };
    const first = await deliver([msg, msg]);
    expect(first.explicitAcks.length).toBe(2);
    expect(first.retryMessages).toEqual([]);
    const again = await deliver([msg]);
    expect(again.explicitAcks.length).toBe(1);
    for (const r of ["enam", "apac"])
      expect(await read("r/dup", r)).toMatchObject({ type: "counter", value: 7 });
    // the origin is never a target of its own batch
    expect(await read("r/dup", "weur")).toMatchObject({ type: null });
    const report = await applyRemote("enam", msg);
    expect(report).toMatchObject({
      applied: 0,
      duplicates: 2,
      malformed: 0,
      badSignature: 0,
      typeConflicts: 0,
    });
  });

  it("an op whose client signature does not verify is dropped by every receiver", async () => {
    const c = await TestClient.create();
    const good = await entry(c, "r/forged", 1);
    const forged = { ...good, op: { ...good.op, args: { n: 1000 } }, effect: { n: 1000 } };
    const report = await applyRemote("apac", {
      origin: "weur",
      entries: JSON.stringify([forged]),
    });
    expect(report.badSignature).toBe(1);
    expect(await read("r/forged", "apac")).toMatchObject({ type: null, value: null });
    expect(await applyRemote("apac", { origin: "weur", entries: JSON.stringify([good]) })).toMatchObject({
      applied: 1,
    });
  });

  it("malformed entries from a faulty origin are counted and skipped; the rest of the batch applies", async () => {
    const c = await TestClient.create();
    const good = await entry(c, "r/malformed", 2);
    const badEffect = await entry(c, "r/malformed", 3);
    const entries = [
      { ...badEffect, effect: { n: "3" } }, // a string would corrupt a counter
      { ...good, op: { ...good.op, type: "nope" } },
      { junk: true },
      good,
    ];
    const report = await applyRemote("enam", {
      origin: "weur",
      entries: JSON.stringify(entries),
    });
    expect(report).toMatchObject({ applied: 1, malformed: 3 });
    expect(await read("r/malformed", "enam")).toMatchObject({ type: "counter", value: 2 });
    expect(await applyRemote("enam", { origin: "weur", entries: "{not json" })).toMatchObject({
      applied: 0,
      malformed: 1,
    });
  });

  it("ops propagate from every replica to every other, through the queue", async () => {
    const c = await TestClient.create();
    for (const r of REPLICAS)
      expect((await post(await c.sign("r/all", "set", "add", { x: r }), r)).status).toBe(200);
    await eventually(async () => {
      for (const r of REPLICAS) expect(await read("r/all", r)).toMatchObject({ value: [...REPLICAS].sort() });
    });
  });

  it("a replica evicted between its reply and its outbox drain still propagates the op (outbox + persisted alarm)", async () => {
    const c = await TestClient.create();
    // Hold the drain (apac's queue sends throw), so the eviction certainly lands while the op is
    // still in the outbox, however slow the machine.
    await setFaults("apac", { failQueueSends: true });
    expect((await post(await c.sign("r/evict", "counter", "add", { n: 1 }), "apac")).status).toBe(200);
    const alarmIn = async () => {
      const at = await runInDurableObject(replicaDo("apac"), (_i, state) => state.storage.getAlarm());
      return at === null ? null : at - Date.now();
    };
    // Evict between two runs of the failing drain (it re-arms itself retryDelayMs after failing),
    // never during one: the pool cannot finish a file in which an alarm handler was aborted.
    await eventually(async () => expect(await alarmIn()).toBeGreaterThan(300));
    await abortAllDurableObjects(); // in-memory state gone; SQLite and the alarm survive
    expect((await stub("apac").stats()).outbox).toBe(1);
    // The failing drain re-arms the alarm itself (retry later); null only while a run is under way.
    await eventually(async () =>
      expect(await alarmIn(), "the drain's alarm survives the eviction").not.toBeNull(),
    );
    await setFaults("apac", {});
    await tick("apac", ["drain"]); // the persisted alarm, run now rather than at its time
    expect((await stub("apac").stats()).outbox).toBe(0);
    await eventually(async () => {
      for (const r of REPLICAS) expect(await read("r/evict", r)).toMatchObject({ value: 1 });
    });
  });
});
