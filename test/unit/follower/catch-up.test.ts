/**
 * The catch-up core (shared/follower/catch-up.ts) driving the follower core, both pure, on the
 * memory store: a synchronous host loop makes each call the catch-up asks for against in-memory
 * nodes and hands fetched batches to the follower. (test/unit/follower/certified-sync.test.ts runs the
 * shell's loop against a fake replica; test/cluster/gap-fetch.test.ts the live one.)
 */
import { describe, expect, it } from "vitest";
import { CatchUp, type CatchUpStep } from "../../../shared/follower/catch-up.js";
import { Follower } from "../../../shared/follower/follower.js";
import { MemoryFollowerStore } from "../../../shared/follower/memory-store.js";
import { certifiedBatchesText } from "../../../shared/wire/certified-batch.js";
import { deliver } from "../../support/follower-acceptance.js";
import { Chain, withOps, type Batch } from "../../support/follower-chain.js";
import { op } from "../../support/trusted-ops.js";

interface Node {
  head: number;
  /** The batch texts it serves from `from`, at most `max`. */
  serve(from: number, max: number): string[];
}

const honest = (batches: Batch[]): Node => ({
  head: batches.length,
  serve: (from, max) => batches.slice(from - 1, from - 1 + max).map((b) => b.text),
});

/** One round, every call answered at once; the `more` it ends with. */
function round(c: CatchUp, f: Follower, store: MemoryFollowerStore, nodes: Node[]): boolean {
  const view = () => ({ head: f.head().seq, canApply: f.certification() !== "diverged" });
  let step: CatchUpStep = c.start(view());
  for (;;) {
    switch (step.kind) {
      case "done":
        return step.more;
      case "askHead":
        step = c.onHead(view(), { ok: true, value: nodes[step.node]!.head });
        break;
      case "askBatches": {
        const texts = nodes[step.node]!.serve(step.fromSeq, step.max);
        step = c.onBatches(view(), { ok: true, value: certifiedBatchesText(texts) });
        break;
      }
      case "deliver": {
        // the follower steps first: the view handed in is the one after it
        const report = deliver(f, store, step.text).report;
        step = c.onDelivered(view(), { ok: true, value: report });
        break;
      }
    }
  }
}

describe("catch-up with the follower", () => {
  it("a node serving ops that are not the certificate's: refused by the log-root check, the next node asked at once", () => {
    const chain = new Chain();
    const batches = Array.from({ length: 5 }, (_, i) =>
      chain.next([op(`cu/k${i}`, "counter", "add", { n: 1 })]),
    );
    const liar: Node = {
      head: 5,
      serve: (from, max) =>
        batches
          .slice(from - 1, from - 1 + max)
          .map((b) => withOps(b.message.certificate, [op("cu/evil", "counter", "add", { n: 9 })]).text),
    };
    const nodes = [liar, honest(batches), honest(batches), honest(batches)];
    const store = new MemoryFollowerStore();
    const f = new Follower(store);
    const c = new CatchUp(["pbft-0", "pbft-1", "pbft-2", "pbft-3"], 3, 16);
    expect(round(c, f, store, nodes)).toBe(false); // node 3: a first sight of head 5, left to the queue
    expect(round(c, f, store, nodes)).toBe(true); // node 0 lies: refused, on to the next node at once
    expect(f.head().seq).toBe(0);
    expect(f.stats().dropped.opsMismatch).toBe(1);
    expect(f.certification()).toBe("none"); // not diverged: nothing executed
    expect(round(c, f, store, nodes)).toBe(false); // node 1: all five, caught up
    expect(f.head().seq).toBe(5);
    expect(f.local().hashAt("")).toBe(chain.sm.hashAt(""));
    expect(c.stats).toMatchObject({ rounds: 3, refused: 1, applied: 5, failures: 0 });
  });

  it("a seq every node lacks: unrecoverable once, and a state transfer wanted", () => {
    const chain = new Chain();
    const batches = Array.from({ length: 30 }, () => chain.next([]));
    const trimmed: Node = {
      head: 30,
      serve: (from, max) => (from < 20 ? [] : honest(batches).serve(from, max)),
    };
    const store = new MemoryFollowerStore();
    const f = new Follower(store);
    for (const b of batches.slice(0, 3)) deliver(f, store, b);
    const c = new CatchUp(["a", "b", "c", "d"], 0, 16);
    for (let k = 0; k < 6; k++) round(c, f, store, [trimmed, trimmed, trimmed, trimmed]);
    expect(f.head().seq).toBe(3);
    expect(c.stats.unrecoverable).toBe(1);
    expect(c.log.filter((e) => e.event === "certified_gap_unrecoverable")).toHaveLength(1);
    expect(c.transferWanted(false, false, 3)).toBe(true);
    expect(c.transferWanted(false, false, 4)).toBe(false);
    expect(c.transferWanted(false, true, 4)).toBe(true);
  });
});
