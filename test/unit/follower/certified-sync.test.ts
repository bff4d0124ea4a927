/**
 * The catch-up rounds of durable-objects/certified-sync.ts against in-memory nodes, some of them
 * Byzantine (junk, lies, throws), and a replica that takes exactly the next genuine batch (the live
 * version, with the real verifier, is test/cluster/gap-fetch.test.ts). Counts every call, so the
 * cost of a round is checked too.
 */
import { describe, expect, it, vi } from "vitest";
import type { CertReport } from "../../../durable-objects/certified-replica.js";
import type { CertifiedBatchMessage } from "../../../shared/wire/certified-batch.js";
import { CertifiedSync, type NodeSource, type SyncTarget } from "../../../durable-objects/certified-sync.js";
import { CERTIFIED_BATCHES_MAX } from "../../../shared/rpc/nodes.js";

/** The genuine batch of a seq (only its seq and a marker matter to the fake replica). */
const genuine = (seq: number) =>
  ({ certificate: { body: { seq } }, ops: [{ genuine: seq }] }) as unknown as CertifiedBatchMessage;
const forged = (seq: number) =>
  ({ certificate: { body: { seq } }, ops: [{ forged: seq }] }) as unknown as CertifiedBatchMessage;

type Behaviour = (fromSeq: number, max: number) => unknown;
interface FakeNode {
  head: () => unknown;
  batches: Behaviour;
}

/** A correct node holding seqs `oldest..head`. */
const correct = (head: number, oldest = 1): FakeNode => ({
  head: () => head,
  batches: (from, max) => {
    const out: CertifiedBatchMessage[] = [];
    for (let s = from; s <= head && out.length < max; s++)
      if (s >= oldest) out.push(genuine(s));
      else break;
    return out;
  },
});

function cluster(nodes: FakeNode[]) {
  const calls = { head: 0, batches: 0 };
  const source: NodeSource = {
    ids: nodes.map((_, i) => `pbft-${i}`),
    head: async (i) => (calls.head++, nodes[i]!.head() as number),
    // a node answers the text of a list of batch texts (a list of non-objects: junk, sent as such)
    batches: async (i, from, max) => {
      calls.batches++;
      const got = await nodes[i]!.batches(from, max);
      return Array.isArray(got)
        ? JSON.stringify(got.map((b) => (typeof b === "object" && b !== null ? JSON.stringify(b) : b)))
        : got;
    },
  };
  return { source, calls };
}

/** A replica that applies the genuine next batch and refuses anything else. */
function replica(start = 0) {
  const r = { head: start, diverged: false, receives: 0 };
  const target: SyncTarget = {
    head: () => r.head,
    canApply: () => !r.diverged,
    receive: async (_name, text): Promise<CertReport> => {
      r.receives++;
      const msg = JSON.parse(text) as CertifiedBatchMessage;
      const seq = msg.certificate.body.seq;
      const base = { seq, applied: 0, head: r.head };
      if (seq <= r.head) return { ...base, outcome: "duplicate" };
      if (JSON.stringify(msg) !== JSON.stringify(genuine(seq))) return { ...base, outcome: "invalid" };
      if (seq !== r.head + 1) return { ...base, outcome: "buffered" };
      r.head = seq;
      return { ...base, outcome: "applied", applied: 1, head: r.head };
    },
  };
  return { r, target };
}

/** A sync whose rotation starts at node 0. */
function sync(source: NodeSource): CertifiedSync {
  const spy = vi.spyOn(Math, "random").mockReturnValue(0);
  try {
    return new CertifiedSync(source);
  } finally {
    spy.mockRestore();
  }
}

/** Run rounds (each `more` at once, as the alarm does) until none asks for more, `times` times. */
async function rounds(s: CertifiedSync, t: SyncTarget, times: number): Promise<void> {
  for (let k = 0; k < times; k++) while (await s.round("weur", t)) {}
}

describe("certified catch-up rounds", () => {
  it("an idle, caught-up replica costs one head call per round and nothing else", async () => {
    const { source, calls } = cluster([correct(5), correct(5), correct(5), correct(5)]);
    const { r, target } = replica(5);
    const s = sync(source);
    await rounds(s, target, 8);
    expect(calls).toEqual({ head: 8, batches: 0 });
    expect(r.receives).toBe(0);
  });

  it("seqs certified since the last round are left to the queue; older ones are fetched", async () => {
    const { source, calls } = cluster([correct(3), correct(3), correct(3), correct(3)]);
    const { r, target } = replica(0);
    const s = sync(source);
    expect(await s.round("weur", target)).toBe(false); // first sight of head 3: the queue may bring it
    expect(calls.batches).toBe(0);
    expect(await s.round("weur", target)).toBe(false);
    expect(r.head).toBe(3);
    expect(s.stats).toMatchObject({ applied: 3, refused: 0, failures: 0 });
  });

  it("a gap (a batch buffered ahead) is fetched in the next round", async () => {
    const { source } = cluster([correct(9), correct(9), correct(9), correct(9)]);
    const { r, target } = replica(4);
    const s = sync(source);
    s.noteGap(8);
    await s.round("weur", target);
    expect(r.head).toBe(7); // below the buffered seq 8; 9 is left to the queue this round
  });

  it("far behind: CERTIFIED_BATCHES_MAX per call, more at once until caught up", async () => {
    const { source, calls } = cluster([correct(100), correct(100), correct(100), correct(100)]);
    const { r, target } = replica(0);
    const s = sync(source);
    await rounds(s, target, 2);
    expect(r.head).toBe(100);
    expect(calls.batches).toBe(Math.ceil(100 / CERTIFIED_BATCHES_MAX));
  });

  it("Byzantine nodes (junk, lies, throws, forgeries) never throw into the replica and can't stop it", async () => {
    // 100 seqs behind: several rounds of batches, so every node is asked for some
    const hostile: FakeNode[] = [
      { head: () => 10 ** 15, batches: () => ({ not: "an array" }) },
      { head: () => "99", batches: () => [null, 42, "x"] },
      { head: () => 100, batches: (from) => [forged(from), genuine(from + 1)] },
      {
        head: () => {
          throw new Error("down");
        },
        batches: () => [],
      },
      { head: () => 100, batches: () => Promise.reject(new Error("reset")) },
    ];
    for (const [k, bad] of hostile.entries()) {
      const nodes = [correct(100), correct(100), correct(100), correct(100)];
      nodes[k % 4] = bad;
      const { source, calls } = cluster(nodes);
      const { r, target } = replica(0);
      const s = sync(source);
      await rounds(s, target, 12);
      expect(r.head, `hostile node ${k}`).toBe(100);
      expect(calls.batches, `hostile node ${k}`).toBeGreaterThanOrEqual(
        Math.ceil(100 / CERTIFIED_BATCHES_MAX),
      );
    }
    // out-of-order and wrong seqs are refused before the replica sees them
    // (asked second: the first round only sees a head, then the next node is asked for batches)
    const { source } = cluster([
      correct(12),
      { head: () => 12, batches: (from) => [genuine(from + 5)] },
      correct(12),
      correct(12),
    ]);
    const { r, target } = replica(0);
    const s = sync(source);
    await rounds(s, target, 4);
    expect(r.head).toBe(12);
    expect(s.stats.refused).toBeGreaterThan(0);
  });

  it("every node forging: refused, the next node tried at once but once per node, no busy loop", async () => {
    const forger = (): FakeNode => ({ head: () => 6, batches: (from) => [forged(from)] });
    const { source, calls } = cluster([forger(), forger(), forger(), forger()]);
    const { r, target } = replica(0);
    const s = sync(source);
    await rounds(s, target, 3);
    expect(r.head).toBe(0);
    expect(calls.batches).toBeLessThanOrEqual(4 + 2);
    expect(s.stats.refused).toBe(calls.batches);
  });

  it("a node whose head does not answer: the next node is asked at once, once per node in a row, then rounds wait", async () => {
    const silent: FakeNode = {
      head: () => {
        throw new Error("certifiedHead: no answer within 1000 ms");
      },
      batches: () => [],
    };
    const { source } = cluster([silent, correct(5), correct(5), correct(5)]);
    const { target } = replica(0);
    const s = sync(source);
    expect(await s.round("weur", target)).toBe(true); // node 0 silent: on to node 1 at once
    expect(s.stats.failures).toBe(1);
    // every node silent: one try each, then rounds only at their period (until a head answers)
    const all = cluster([silent, silent, silent, silent]);
    const s2 = sync(all.source);
    const more = [];
    for (let k = 0; k < 5; k++) more.push(await s2.round("weur", target));
    expect(more).toEqual([true, true, true, false, false]);
    expect(all.calls.head).toBe(5);
  });

  it("a seq every node lacks is counted unrecoverable once", async () => {
    const { source } = cluster([
      correct(2000, 900),
      correct(2000, 900),
      correct(2000, 900),
      correct(2000, 900),
    ]);
    const { r, target } = replica(10);
    const s = sync(source);
    expect(s.gapUnrecoverable(10)).toBe(false);
    await rounds(s, target, 12);
    expect(r.head).toBe(10);
    expect(s.stats.unrecoverable).toBe(1);
    // what starts a certified state transfer (durable-objects/delivery.ts); no longer once past it
    expect(s.gapUnrecoverable(10)).toBe(true);
    expect(s.gapUnrecoverable(11)).toBe(false);
  });

  it("a seq only some nodes lack is not unrecoverable", async () => {
    const { source } = cluster([correct(2000, 900), correct(2000, 900), correct(2000, 900), correct(2000)]);
    const { target } = replica(10);
    const s = sync(source);
    await rounds(s, target, 3);
    expect(s.gapUnrecoverable(10)).toBe(false);
  });

  it("a diverged replica asks nothing", async () => {
    const { source, calls } = cluster([correct(5), correct(5), correct(5), correct(5)]);
    const { r, target } = replica(0);
    r.diverged = true;
    await rounds(sync(source), target, 3);
    expect(calls).toEqual({ head: 0, batches: 0 });
  });

  it("a replica that throws (refusing batches) is a failure, not a crash; it catches up afterwards", async () => {
    const { source } = cluster([correct(4), correct(4), correct(4), correct(4)]);
    const { r, target } = replica(0);
    const refusing: SyncTarget = {
      ...target,
      receive: async () => {
        throw new Error("fault injected: refuses certified batches");
      },
    };
    const s = sync(source);
    await rounds(s, refusing, 3);
    expect(s.stats.failures).toBeGreaterThan(0);
    expect(r.head).toBe(0);
    await rounds(s, target, 1);
    expect(r.head).toBe(4);
  });
});
