// bench:cluster's certification figures: lags and their percentiles, the merged timeline of acks
// and certified counts, the longest gap with ops pending and no new certificate, views moved.
import { describe, expect, it } from "vitest";
import { lagsOf, weightedPercentile } from "../../../bench/cluster/cert-poll.js";
import { longestGap, mergeProgress, viewChanges } from "../../../bench/cluster/progress.js";

describe("weightedPercentile", () => {
  it("weights each lag by the ops it covers (nearest rank)", () => {
    const lags = [
      { lag: 10, ops: 1 },
      { lag: 500, ops: 98 },
      { lag: 40, ops: 1 },
    ];
    expect(weightedPercentile(lags, 1)).toBe(10);
    expect(weightedPercentile(lags, 2)).toBe(40);
    expect(weightedPercentile(lags, 50)).toBe(500);
    expect(weightedPercentile(lags, 100)).toBe(500);
  });
  it("is NaN without lags", () => {
    expect(weightedPercentile([], 50)).toBeNaN();
  });
});

describe("lagsOf", () => {
  it("takes for each ack the first poll at or after it that covers it; uncovered acks are left out", () => {
    const acks = [
      { t: 0, cum: 2 },
      { t: 10, cum: 3 },
      { t: 20, cum: 5 },
    ];
    const polls = [
      { t: 5, count: 1 },
      { t: 15, count: 3 },
      { t: 30, count: 4 },
    ];
    expect(lagsOf(acks, polls)).toEqual([
      { t: 0, lag: 15, ops: 2 },
      { t: 10, lag: 5, ops: 1 },
    ]);
  });
});

describe("mergeProgress", () => {
  it("merges acks and every source in time order; a late, older count does not undo a newer one", () => {
    const acks = [
      { t: 1, cum: 10 },
      { t: 4, cum: 20 },
    ];
    const poll = [{ t: 3, count: 10 }];
    const stats = [
      { t: 2, count: 5 },
      { t: 5, count: 8 }, // an older count answered late
    ];
    expect(mergeProgress(acks, poll, stats)).toEqual([
      { t: 1, acked: 10, certified: 0 },
      { t: 2, acked: 10, certified: 5 },
      { t: 3, acked: 10, certified: 10 },
      { t: 4, acked: 20, certified: 10 },
      { t: 5, acked: 20, certified: 10 },
    ]);
  });
  it("a source the poll missed still shows certification", () => {
    const acks = [{ t: 0, cum: 5 }];
    const points = mergeProgress(acks, [], [{ t: 100, count: 5 }]);
    expect(points.at(-1)).toEqual({ t: 100, acked: 5, certified: 5 });
  });
});

describe("longestGap", () => {
  it("is the longest time with ops pending and no new certificate", () => {
    const points = mergeProgress(
      [
        { t: 0, cum: 10 },
        { t: 1000, cum: 20 },
      ],
      [
        { t: 100, count: 10 }, // pending 0–100
        { t: 3100, count: 20 }, // pending 1000–3100: 2.1 s
      ],
    );
    expect(longestGap(points)).toEqual({ longestMs: 2100, from: 1000, open: false });
  });
  it("starts at the last certificate when ops stayed pending across it", () => {
    const points = mergeProgress(
      [{ t: 0, cum: 30 }],
      [
        { t: 100, count: 10 },
        { t: 200, count: 20 },
        { t: 5200, count: 30 },
      ],
    );
    expect(longestGap(points)).toEqual({ longestMs: 5000, from: 200, open: false });
  });
  it("an idle time with nothing pending is no gap", () => {
    const points = mergeProgress(
      [
        { t: 0, cum: 1 },
        { t: 60_000, cum: 2 },
      ],
      [
        { t: 10, count: 1 },
        { t: 60_050, count: 2 },
      ],
    );
    expect(longestGap(points).longestMs).toBe(50);
  });
  it("a gap still going at the end runs to the end and says so", () => {
    const points = mergeProgress([{ t: 0, cum: 10 }], [{ t: 50, count: 4 }]);
    expect(longestGap(points, 9050)).toEqual({ longestMs: 9000, from: 50, open: true });
  });
  it("nothing acknowledged: no gap", () => {
    expect(longestGap([])).toEqual({ longestMs: 0, from: null, open: false });
  });
});

describe("viewChanges", () => {
  it("counts the views moved from the first view most nodes were in to the highest any reported", () => {
    expect(
      viewChanges([
        [null, null, null, null],
        [0, 0, 0, 1],
        [0, 2, null, 1],
        [3, 3, 3, 3],
      ]),
    ).toBe(3);
  });
  it("is 0 when no node changed view, null when none answered", () => {
    expect(
      viewChanges([
        [0, 0, 0, 0],
        [0, 0, null, 0],
      ]),
    ).toBe(0);
    expect(viewChanges([[null, null, null, null]])).toBeNull();
  });
});
