/**
 * A replica's certified follower executes each batch under the open-namespace list of the cluster
 * configuration its certificate was checked against (`onBatch`'s policy), so it reaches the nodes'
 * roots when the deployment closes unclaimed namespaces — and would diverge under another list.
 */
import { describe, expect, it } from "vitest";
import { Follower } from "../../../shared/follower/follower.js";
import { MemoryFollowerStore } from "../../../shared/follower/memory-store.js";
import type { NamespacePolicy } from "../../../shared/namespaces/policy.js";
import { Chain, VERIFIED, type Batch } from "../../support/follower-chain.js";
import { op } from "../../support/trusted-ops.js";

const CLOSED: NamespacePolicy = { open: [] };

function follower() {
  const store = new MemoryFollowerStore();
  const f = new Follower(store);
  const send = (b: Batch, policy?: NamespacePolicy) => {
    const s = f.screen(b.text);
    if (s.kind === "drop") return s.effects;
    return store.transaction(() => f.onBatch(s.batch, VERIFIED, policy));
  };
  return { f, send };
}

describe("the follower under the configuration's open-namespace list", () => {
  const batches = () => {
    const chain = new Chain(1_000_000, CLOSED);
    // a write to an unclaimed namespace (rejected when closed), then a claim and its owner's write
    const b1 = chain.next([op("closed/k", "counter", "add", { n: 1 })]);
    const b2 = chain.next([op("open-later/k", "counter", "add", { n: 2 })]);
    return { chain, b1, b2 };
  };

  it("applies the nodes' batches (same roots) when it runs their list, the buffered ones it unblocks too", () => {
    const { chain, b1, b2 } = batches();
    const { f, send } = follower();
    expect(send(b2, CLOSED).report.outcome).toBe("buffered");
    expect(send(b1, CLOSED).report).toMatchObject({ outcome: "applied", applied: 2, head: 2 });
    expect(f.local().hashAt("")).toBe(chain.sm.hashAt(""));
    expect(f.certification()).toBe("ok");
    expect(f.certifiedRead("closed/k")?.value).toBeNull(); // the write was certified rejected
  });

  it("diverges from them under another list (so the list must be the nodes' own)", () => {
    const { b1 } = batches();
    const { f, send } = follower();
    send(b1); // the default list, '*': the write applies here, not at the nodes
    expect(f.certification()).toBe("diverged");
  });
});
