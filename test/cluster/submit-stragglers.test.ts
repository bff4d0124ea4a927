/**
 * The replicate consumer hands a message's ops to all four nodes and moves on once n − f took them;
 * the call to the slowest node (often the busy primary) must still reach it. A queue invocation ends
 * with its handler, so the consumer hands the calls still running to `waitUntil`: the batch's
 * invocation (here `getQueueResult`) ends only once every node answered or its deadline passed.
 * Without it, a primary that answered last never pooled the ops and proposed them only after a
 * backup's request timer relayed them (2.5 s), the certification pause `bench:cluster` showed.
 */
import { afterEach, describe, expect, it } from "vitest";
import { replicateText } from "../../shared/replication.js";
import { deliverTo, originEntry } from "../runtime/delivery-helpers.js";
import { eventually, TestClient } from "../runtime/helpers.js";
import { clearAllFaults, nodeStatus, setNodeFaults } from "./support.js";

afterEach(clearAllFaults);

const accepted = async (i: number) => (await nodeStatus(i)).stats["op.accepted"] ?? 0;

describe("the replicate consumer and a node that answers last", () => {
  it("its call is kept alive past the quorum: the node pools the ops before the batch's invocation ends", async () => {
    const slow = 2;
    const others = [0, 1, 3];
    const before = await Promise.all([0, 1, 2, 3].map(accepted));
    await setNodeFaults(slow, { hang: true }); // holds the call until the fault is lifted
    const c = await TestClient.create();
    const op = await c.sign("straggler/k", "counter", "add", { n: 1 });
    const text = replicateText({ origin: "weur", entries: JSON.stringify([originEntry(op)]) });
    // what the slow node had pooled at the moment the batch's invocation ended
    const atEnd = deliverTo("aspec-replicate", [text]).then(() => accepted(slow));
    // the other three took it (the consumer's quorum), the slow node's call is still held
    await eventually(async () => {
      for (const i of others) expect(await accepted(i), `node ${i}`).toBeGreaterThan(before[i]!);
    }, 10_000);
    expect(await accepted(slow)).toBe(before[slow]);
    await setNodeFaults(slow, {}); // the held call goes on, within its 5 s deadline
    expect(await atEnd).toBeGreaterThan(before[slow]!);
  });
});
