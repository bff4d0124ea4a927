/**
 * Delivery of acknowledged ops when the queue loses and duplicates messages (issue: a crash of the
 * local broker lost acknowledged ops for good). The queue handler is driven here with seeded random
 * subsets and duplicates of the origins' real messages; some are never delivered. Alarms (re-send,
 * anti-entropy, log collection) are driven with runDurableObjectAlarm, so nothing waits on time.
 */
import { describe, expect, it } from "vitest";
import { Prng } from "../sim/prng.js";
import type { ReplicateMessage } from "../../shared/replication.js";
import { REPLICAS, eventually, post, read, stub, TestClient } from "./helpers.js";
import { deliver, ownLog, setFaults, tick } from "./delivery-helpers.js";

const SEEDS = [1, 2, 3];

async function values(keys: string[]) {
  const out: Record<string, Record<string, unknown>> = {};
  for (const r of REPLICAS) {
    out[r] = {};
    for (const k of keys) out[r]![k] = (await read(k, r)).value;
  }
  return out;
}

describe("delivery when the queue drops and duplicates messages", () => {
  for (const seed of SEEDS)
    it(`seed ${seed}: every acknowledged op reaches every replica within one anti-entropy round`, async () => {
      const rng = new Prng(seed);
      const c = await TestClient.create();
      const keys = [0, 1, 2, 3].map((i) => `ae${seed}/k${i}`);
      const want: Record<string, number> = Object.fromEntries(keys.map((k) => [k, 0]));
      // the broker "crashes": every send to the queue is lost after the call
      for (const r of REPLICAS) await setFaults(r, { dropQueueSends: true });
      for (let i = 0; i < 60; i++) {
        const key = rng.pick(keys);
        const n = rng.int(1, 9);
        const res = await post(await c.sign(key, "counter", "add", { n }), rng.pick(REPLICAS));
        expect(res.status).toBe(200); // acknowledged
        want[key]! += n;
      }
      for (const r of REPLICAS) await tick(r, ["drain"]);
      for (const r of REPLICAS) expect((await stub(r).stats()).outbox).toBe(0);

      // The messages the origins sent (3 ops each), then a lossy, duplicating queue: each message
      // is dropped (30%), delivered twice (20%) or once, in a random order and random batches.
      const messages: ReplicateMessage[] = [];
      for (const origin of REPLICAS) {
        const log = await ownLog(origin);
        for (let i = 0; i < log.length; i += 3)
          messages.push({ origin, entries: JSON.stringify(log.slice(i, i + 3)) });
      }
      const delivered: ReplicateMessage[] = [];
      let dropped = 0;
      for (const m of messages) {
        const f = rng.float();
        if (f < 0.3) dropped++;
        else delivered.push(...(f < 0.5 ? [m, m] : [m]));
      }
      expect(dropped).toBeGreaterThan(0);
      rng.shuffle(delivered);
      for (let i = 0; i < delivered.length;) {
        const n = rng.int(1, 5);
        const batch = delivered.slice(i, i + n);
        const result = await deliver(batch);
        expect(result.explicitAcks.length).toBe(batch.length);
        expect(result.retryMessages).toEqual([]);
        i += n;
      }
      const before = await values(keys);
      const missing = REPLICAS.flatMap((r) => keys.filter((k) => before[r]![k] !== want[k]));
      expect(missing.length, "dropped messages must leave replicas behind").toBeGreaterThan(0);
      for (const r of REPLICAS)
        for (const k of keys) expect(before[r]![k] ?? 0).toBeLessThanOrEqual(want[k]!);

      // one anti-entropy round at each replica heals it; duplicates never double-apply
      for (const r of REPLICAS) await tick(r, ["antiEntropy"]);
      const after = await values(keys);
      for (const r of REPLICAS) expect(after[r]).toEqual(want);
      // a second round confirms every op to its origin: delivered everywhere, nothing to re-send
      for (const r of REPLICAS) await tick(r, ["antiEntropy"]);
      for (const r of REPLICAS) {
        const s = await stub(r).stats();
        for (const p of REPLICAS.filter((x) => x !== r)) {
          expect(s.acks[p], `${p} confirmed ${r}'s log`).toBe(s.head);
          expect(s.cursors[p]).toBe((await stub(p).stats()).head);
        }
      }
      for (const r of REPLICAS) await setFaults(r, {});
    });

  it("an op whose queue message was lost is re-sent by its origin until both peers confirm it", async () => {
    const c = await TestClient.create();
    await setFaults("weur", { dropQueueSends: true });
    for (let i = 0; i < 3; i++)
      expect((await post(await c.sign("rs/k", "counter", "add", { n: 1 }), "weur")).status).toBe(200);
    await tick("weur", ["drain"]); // lost
    await tick("weur", ["resend"]); // every op sent before this tick now waits for its confirmation
    await setFaults("weur", {});
    const head = (await stub("weur").stats()).head;
    expect((await stub("weur").stats()).acks).not.toEqual({ enam: head, apac: head });
    await tick("weur", ["resend"]); // unconfirmed: sent again, through the real queue
    await eventually(async () => {
      for (const r of ["enam", "apac"]) expect(await read("rs/k", r)).toMatchObject({ value: 3 });
      expect((await stub("weur").stats()).acks).toEqual({ enam: head, apac: head });
    });
  });

  it("a message a target refuses is retried, not acked; on its last attempt it is dead-lettered", async () => {
    const c = await TestClient.create();
    await setFaults("apac", { refuseRemote: true });
    const op = await c.sign("dl/k", "counter", "add", { n: 4 });
    const msg: ReplicateMessage = {
      origin: "weur",
      entries: JSON.stringify([{ op, status: "ok", effect: { n: 4 } }]),
    };
    const first = await deliver([msg], 1);
    expect(first.explicitAcks).toEqual([]);
    expect(first.retryMessages.length).toBe(1);
    expect(await read("dl/k", "enam")).toMatchObject({ value: 4 }); // the target that took it
    expect(await read("dl/k", "apac")).toMatchObject({ value: null });

    const dead0 = (await stub("weur").stats()).deadLettered;
    const last = await deliver([msg], 10);
    expect(last.retryMessages).toEqual([]);
    expect(last.explicitAcks.length).toBe(1);
    // the dead-letter queue's consumer (the real broker delivers it) counts it at the origin
    await eventually(async () => expect((await stub("weur").stats()).deadLettered).toBe(dead0 + 1));
    await setFaults("apac", {});
  });
});
