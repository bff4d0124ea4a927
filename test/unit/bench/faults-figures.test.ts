// The fault run's pure figures (bench/faults/figures.ts): per-op lag from the replicas' certificate
// timelines, a phase's verdict, and the table beside the `none` baseline.
import { describe, expect, it } from "vitest";
import {
  brokenPhase,
  firstSeenAt,
  lagSummary,
  opLag,
  renderTable,
  verdictOf,
  type PhaseFigures,
} from "../../../bench/faults/figures.js";

const polls = {
  a: [
    { t: 100, seq: 1 },
    { t: 200, seq: 3 },
    { t: 300, seq: 5 },
  ],
  b: [
    { t: 150, seq: 2 },
    { t: 450, seq: 4 },
  ],
};

describe("firstSeenAt / opLag", () => {
  it("a batch is seen at the first poll at or past its seq (later batches cover it)", () => {
    expect(firstSeenAt(polls.a, 2)).toBe(200);
    expect(firstSeenAt(polls.a, 3)).toBe(200);
    expect(firstSeenAt(polls.a, 6)).toBeNull();
  });
  it("the lag runs to the last replica that shows the op's batch", () => {
    expect(opLag(120, { a: 3, b: 3 }, polls, ["a", "b"])).toBe(450 - 120);
    expect(opLag(120, { a: 3, b: 3 }, polls, ["a"])).toBe(200 - 120);
  });
  it("a batch seen before the ack counts as no lag", () => {
    expect(opLag(500, { a: 1 }, polls, ["a"])).toBe(0);
  });
  it("an op not certified, or not seen, at one replica has no lag", () => {
    expect(opLag(120, { a: 3, b: null }, polls, ["a", "b"])).toBeNull();
    expect(opLag(120, { a: 3 }, polls, ["a", "b"])).toBeNull();
    expect(opLag(120, { a: 3, b: 9 }, polls, ["a", "b"])).toBeNull();
  });
});

describe("lagSummary", () => {
  it("nearest-rank percentiles and the max; nothing for no lags", () => {
    const lags = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(lagSummary(lags)).toEqual({ n: 100, p50: 50, p99: 99, max: 100 });
    expect(lagSummary([])).toEqual({ n: 0, p50: null, p99: null, max: null });
  });
});

const phase = (over: Partial<PhaseFigures> = {}): PhaseFigures => ({
  ...brokenPhase("none", "—", "", 1000),
  error: undefined,
  opsSent: 10,
  opsAcked: 10,
  opsCertified: 10,
  lag: { n: 10, p50: 100, p99: 200, max: 250 },
  homeLag: { n: 10, p50: 80, p99: 150, max: 180 },
  replicas: ["weur", "enam", "apac"].map((name) => ({ name, certification: "ok", stale: false, seq: 5 })),
  viewBefore: 0,
  viewAfter: 0,
  viewSettled: 0,
  settled: true,
  ...over,
});

describe("verdictOf", () => {
  it("a phase with every op certified everywhere, every replica ok and fresh, settled, is ok", () => {
    expect(verdictOf(phase())).toEqual({ ok: true, failures: [] });
  });
  it("fails on an op not certified, a replica diverged or stale, no settling, or an error", () => {
    expect(verdictOf(phase({ opsCertified: 9 })).failures).toEqual([
      "1 acknowledged ops not certified at every replica",
    ]);
    expect(verdictOf(phase({ opsAcked: 9, opsCertified: 9 })).failures).toEqual(["1 ops not acknowledged"]);
    const replicas = phase().replicas.map((r) =>
      r.name === "weur" ? { ...r, stale: true } : r.name === "apac" ? { ...r, certification: "diverged" } : r,
    );
    expect(verdictOf(phase({ replicas })).failures).toEqual(["weur: stale", "apac: certification diverged"]);
    expect(verdictOf(phase({ settled: false })).ok).toBe(false);
    expect(verdictOf(brokenPhase("hang", "hang", "server gone", 5)).failures[0]).toBe("error: server gone");
  });
});

describe("renderTable", () => {
  it("one row per phase, lags beside the none baseline's, failures spelled out", () => {
    const table = renderTable([
      phase(),
      phase({
        phase: "hang",
        fault: "pbft-2 hang",
        opsCertified: 9,
        lag: { n: 9, p50: 300, p99: 1000, max: 1000 },
        viewAfter: 1,
        viewSettled: 1,
        refused: { reply_replayed: 3 },
      }),
    ]);
    const lines = table.split("\n");
    expect(lines).toHaveLength(4);
    expect(lines[2]).toContain("| none | — | 10/10 (100.0%) | 100 | 200 | 250 |");
    expect(lines[2]).toMatch(/\| ok \|$/);
    expect(lines[3]).toContain(
      "| hang | pbft-2 hang | 9/10 (90.0%) | 300 (3.0×) | 1,000 (5.0×) | 1,000 (4.0×) |",
    );
    expect(lines[3]).toContain("| 1 (0→1→1) |");
    expect(lines[3]).toContain("reply_replayed 3");
    expect(lines[3]).toContain("**FAILED**: 1 acknowledged ops not certified at every replica");
  });
});
