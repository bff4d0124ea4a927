/**
 * The heartbeat (shared/pbft/heartbeat.ts): an idle primary proposes an empty batch every
 * `heartbeatTicks`, so the cluster certifies a new time even without ops; never while ops are pooled
 * or a batch is in flight; and a heartbeat is a proposal, not a request (no backup's request timer
 * waits on it).
 */
import { describe, expect, it } from "vitest";
import { EMPTY_HASH } from "../../../shared/certified/hashing.js";
import { toHex } from "../../../shared/bytes.js";
import { buildResultsTree } from "../../../shared/certified/results.js";
import { GENESIS_LOG_ROOT, batchDigest, nextLogRoot } from "../../../shared/pbft/chain.js";
import { heartbeatActivityTicksFrom, heartbeatTicksFrom } from "../../../shared/pbft/heartbeat.js";
import type { PbftConfig } from "../../../shared/pbft/config.js";
import { Harness, UNIT_CONFIG, makeOp } from "./harness.js";

const TICK = UNIT_CONFIG.tickMs!;
const BEAT = 10;
const CONFIG: Partial<PbftConfig> = { ...UNIT_CONFIG, heartbeatTicks: BEAT, requestTimeoutTicks: 30 };

/** Tick every node at each tick of [from, to], delivering everything in between. */
function runTicks(h: Harness, from: number, to: number): void {
  for (let t = from; t <= to; t++) {
    h.tickAll(t * TICK);
    h.run();
  }
}

const seqsOf = (h: Harness, node = 0) => h.certified[node]!.map((c) => c.body.seq);

describe("heartbeat", () => {
  it("an idle primary gets an empty batch certified every heartbeatTicks: new seq and time, same state", () => {
    const h = new Harness(CONFIG);
    runTicks(h, 0, 10 * BEAT);
    const beats = h.certified[0]!;
    expect(beats.map((c) => c.body.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // proposed at ticks 10, 20, ...: the time is the primary's clock then
    expect(beats.map((c) => c.body.time)).toEqual(beats.map((_, i) => (i + 1) * BEAT * TICK));
    let logRoot = GENESIS_LOG_ROOT;
    for (const c of beats) {
      logRoot = nextLogRoot(logRoot, batchDigest([]));
      expect(c.ops).toEqual([]);
      expect(c.body).toMatchObject({
        stateRoot: toHex(EMPTY_HASH),
        resultsRoot: buildResultsTree([]).root,
        opCount: 0,
        logRoot,
      });
    }
    // every node certified the same, and none suspected the primary
    for (const i of [1, 2, 3]) expect(seqsOf(h, i)).toEqual(seqsOf(h, 0));
    for (const n of h.nodes) expect(n.state.view).toBe(0);
    expect(h.nodes[0]!.stats["batch.heartbeat"]).toBe(10);
    // the log window moved on with them: checkpoints became stable, old slots were collected
    expect(h.nodes[0]!.state.stable.seq).toBe(10);
  });

  it("off (heartbeatTicks 0, the default): an idle cluster proposes nothing", () => {
    const h = new Harness({ ...CONFIG, heartbeatTicks: 0 });
    runTicks(h, 0, 10 * BEAT);
    expect(seqsOf(h)).toEqual([]);
    expect(h.nodes[0]!.state.nextSeq).toBe(1);
  });

  it("counts from the last proposal: a batch of ops puts the next beat off by heartbeatTicks", () => {
    const h = new Harness(CONFIG);
    runTicks(h, 0, 5);
    for (let i = 0; i < 4; i++) h.step(i, { kind: "submit", op: makeOp(1) }); // proposed at tick 5
    h.run();
    runTicks(h, 6, 5 + BEAT - 1);
    expect(seqsOf(h)).toEqual([1]);
    runTicks(h, 5 + BEAT, 5 + BEAT);
    expect(h.certified[0]!.map((c) => [c.body.seq, c.ops.length, c.body.time])).toEqual([
      [1, 1, 5 * TICK],
      [2, 0, (5 + BEAT) * TICK],
    ]);
  });

  it("no heartbeat while ops are pooled: the ops' own batch is the only proposal", () => {
    const h = new Harness(CONFIG);
    h.drop = () => true; // nothing reaches anyone: the op stays pooled at the primary
    runTicks(h, 0, 1);
    h.step(0, { kind: "submit", op: makeOp(1) });
    runTicks(h, 2, 5 * BEAT);
    const p = h.nodes[0]!;
    expect(p.state.pool.size).toBe(1);
    expect(p.stats["batch.proposed"]).toBe(1);
    expect(p.stats["batch.heartbeat"]).toBeUndefined();
    expect(p.state.nextSeq).toBe(2);
  });

  it("no heartbeat while a batch is in flight (a heartbeat included): one at a time", () => {
    const h = new Harness(CONFIG);
    h.drop = (to) => to !== 0; // the backups hear nothing: the first heartbeat never commits
    runTicks(h, 0, 6 * BEAT);
    const p = h.nodes[0]!;
    expect(p.stats["batch.heartbeat"]).toBe(1);
    expect(p.state.nextSeq).toBe(2);
    expect(p.state.lastExecuted).toBe(0);
  });

  it("a heartbeat is not a request: backups that never get it do not start a view change", () => {
    const h = new Harness(CONFIG);
    // every PRE-PREPARE is lost: the backups never see a heartbeat, far past requestTimeoutTicks
    h.drop = (_to, env) => env.msg.type === "pre-prepare";
    runTicks(h, 0, 10 * CONFIG.requestTimeoutTicks!);
    for (const n of h.nodes) {
      expect(n.state.view).toBe(0);
      expect(n.state.normal).toBe(true);
      expect(n.stats["request_timeout"]).toBeUndefined();
    }
    // while a backup's own waiting op still times out as before
    h.step(1, { kind: "submit", op: makeOp(1) });
    runTicks(h, 10 * CONFIG.requestTimeoutTicks! + 1, 12 * CONFIG.requestTimeoutTicks!);
    expect(h.nodes[1]!.stats["request_timeout"]).toBeGreaterThan(0);
  });

  it("an idle primary wakes for its heartbeat; idle backups sleep (no wake-up at all)", () => {
    const h = new Harness({ ...CONFIG, statusIntervalTicks: 50 });
    h.tickAll(0);
    h.run();
    expect(h.step(0, { kind: "tick", nowMs: TICK }).wakeAtMs).toBe(BEAT * TICK);
    expect(h.step(1, { kind: "tick", nowMs: TICK }).wakeAtMs).toBeNull();
  });
});

describe("heartbeat only while someone is looking (heartbeatActivityTicks)", () => {
  const WINDOW = 5 * BEAT;
  const ACTIVE: Partial<PbftConfig> = { ...CONFIG, heartbeatActivityTicks: WINDOW };

  it("no activity: an idle primary proposes nothing and sleeps", () => {
    const h = new Harness(ACTIVE);
    runTicks(h, 0, 10 * BEAT);
    expect(seqsOf(h)).toEqual([]);
    expect(h.step(0, { kind: "tick", nowMs: (10 * BEAT + 1) * TICK }).wakeAtMs).toBeNull();
  });

  it("a beat request: a beat at once, then every heartbeatTicks until the window closes, then none", () => {
    const h = new Harness(ACTIVE);
    runTicks(h, 0, 3 * BEAT);
    const at = 3 * BEAT + 1;
    for (const i of [0, 1, 2, 3]) h.step(i, { kind: "activity", nowMs: at * TICK });
    h.run();
    runTicks(h, at + 1, at + 4 * WINDOW);
    const times = h.certified[0]!.map((c) => c.body.time / TICK);
    // the first beat at the request (its last proposal is long past), then one per BEAT while active
    expect(times[0]).toBeLessThanOrEqual(at + 1);
    expect(times.length).toBe(WINDOW / BEAT);
    expect(Math.max(...times)).toBeLessThan(at + WINDOW);
    expect(h.step(0, { kind: "tick", nowMs: (at + 4 * WINDOW + 1) * TICK }).wakeAtMs).toBeNull();
  });

  it("asking every tick beats no faster than heartbeatTicks, nor longer than the window past the last ask", () => {
    const h = new Harness(ACTIVE);
    runTicks(h, 0, BEAT);
    const from = BEAT + 1;
    for (let t = from; t <= from + 2 * WINDOW; t++) {
      for (const i of [0, 1, 2, 3]) h.step(i, { kind: "activity", nowMs: t * TICK });
      h.run();
    }
    runTicks(h, from + 2 * WINDOW + 1, from + 6 * WINDOW);
    const times = h.certified[0]!.map((c) => c.body.time / TICK);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(BEAT);
    expect(Math.max(...times)).toBeLessThan(from + 3 * WINDOW);
  });

  it("a submitted op is activity too: the heartbeat runs after it", () => {
    const h = new Harness(ACTIVE);
    runTicks(h, 0, BEAT);
    for (const i of [0, 1, 2, 3]) h.step(i, { kind: "submit", op: makeOp(1) });
    h.run();
    runTicks(h, BEAT + 1, BEAT + WINDOW);
    expect(h.nodes[0]!.stats["batch.heartbeat"] ?? 0).toBeGreaterThan(0);
  });
});

describe("HEARTBEAT_ACTIVITY_MS (a node's setting) → heartbeatActivityTicks", () => {
  it("default 5 min when unset or malformed; always or 0: beat regardless; rounded up to ticks", () => {
    for (const v of [undefined, "", "5m", "-1", "86400001"])
      expect(heartbeatActivityTicksFrom(v, 50)).toBe(6_000);
    expect(heartbeatActivityTicksFrom("always", 50)).toBe(0);
    expect(heartbeatActivityTicksFrom("0", 50)).toBe(0);
    expect(heartbeatActivityTicksFrom("2001", 50)).toBe(41);
  });
});

describe("HEARTBEAT_MS (a node's setting) → heartbeatTicks", () => {
  it("default 2 s when unset, empty or not a whole ms count up to an hour; 0 or off: none; rounded up to ticks", () => {
    for (const v of [undefined, "", " ", "2s", "-5", "1.5", "3600001", "1e3"])
      expect(heartbeatTicksFrom(v, 50)).toBe(40);
    expect(heartbeatTicksFrom("0", 50)).toBe(0);
    expect(heartbeatTicksFrom("off", 50)).toBe(0);
    expect(heartbeatTicksFrom(" off ", 50)).toBe(0);
    expect(heartbeatTicksFrom("1000", 50)).toBe(20);
    expect(heartbeatTicksFrom("1001", 50)).toBe(21);
    expect(heartbeatTicksFrom("1", 50)).toBe(1);
    expect(heartbeatTicksFrom("3600000", 50)).toBe(72_000);
  });
});
