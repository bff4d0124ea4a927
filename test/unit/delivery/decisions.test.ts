/** The pure delivery decisions: receive cursors, re-send plans, collection bounds, alarm deadlines. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EMPTY_CURSOR, handle, isHandled } from "../../../shared/delivery/origin-cursor.js";
import { gcBounds } from "../../../shared/delivery/op-gc.js";
import { deliveredThrough, resendPlan } from "../../../shared/delivery/resend.js";
import {
  afterRun,
  dueTasks,
  nextAlarm,
  periodsFrom,
  retryDelayMs,
  withPeriodic,
} from "../../../shared/delivery/timers.js";

describe("origin cursor", () => {
  it("advances over contiguous positions, keeps the rest as ranges above", () => {
    let s = handle(EMPTY_CURSOR, [2, 3, 5]);
    expect(s).toEqual({
      cursor: 0,
      above: [
        [2, 3],
        [5, 5],
      ],
    });
    s = handle(s, [1]);
    expect(s).toEqual({ cursor: 3, above: [[5, 5]] });
    expect(isHandled(s, 2) && isHandled(s, 5) && !isHandled(s, 4)).toBe(true);
    expect(handle(s, [4, 4, 3, 6])).toEqual({ cursor: 6, above: [] });
  });

  it("a position between two ranges above, or past them, is not handled; a position that is not a whole number is ignored", () => {
    const s = handle(EMPTY_CURSOR, [3, 4, 8, 9]);
    for (const pos of [1, 2, 5, 6, 7, 10]) expect(isHandled(s, pos), String(pos)).toBe(false);
    for (const pos of [3, 4, 8, 9]) expect(isHandled(s, pos), String(pos)).toBe(true);
    expect(handle(EMPTY_CURSOR, [1.5, NaN, Infinity, 2 ** 53, -1, 0])).toEqual(EMPTY_CURSOR);
    expect(handle({ cursor: 2, above: [] }, [2.5, 4])).toEqual({ cursor: 2, above: [[4, 4]] });
  });

  it("any order, with duplicates, of positions 1..n ends at cursor n with nothing above", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }).chain((n) =>
          fc.tuple(
            fc.constant(n),
            fc.shuffledSubarray(
              [...Array(n).keys()].map((i) => i + 1),
              { minLength: n },
            ),
            fc.array(fc.integer({ min: 1, max: n })),
            fc.integer({ min: 1, max: 7 }),
          ),
        ),
        ([n, order, dups, chunk]) => {
          let s = EMPTY_CURSOR;
          const all = [...order, ...dups];
          for (let i = 0; i < all.length; i += chunk) {
            const next = handle(s, all.slice(i, i + chunk));
            expect(next.cursor).toBeGreaterThanOrEqual(s.cursor);
            for (const p of all.slice(0, i + chunk)) expect(isHandled(next, p)).toBe(true);
            s = next;
          }
          expect(s).toEqual({ cursor: n, above: [] });
        },
      ),
    );
  });
});

describe("re-send plan", () => {
  const peers = ["enam", "apac"];
  it("re-sends what was sent before the last tick and is unconfirmed, only to the laggards", () => {
    expect(resendPlan({ peers, acks: { enam: 10, apac: 4 }, sentAtLastTick: 10, limit: 100 })).toEqual({
      after: 4,
      through: 10,
      targets: ["apac"],
    });
    expect(resendPlan({ peers, acks: { enam: 10, apac: 10 }, sentAtLastTick: 10, limit: 100 })).toBeNull();
    expect(resendPlan({ peers, acks: {}, sentAtLastTick: 0, limit: 100 })).toBeNull();
    expect(resendPlan({ peers, acks: { enam: 2 }, sentAtLastTick: 500, limit: 100 })).toEqual({
      after: 0,
      through: 100,
      targets: ["enam", "apac"],
    });
    expect(deliveredThrough(peers, { enam: 7, apac: 3 })).toBe(3);
  });
});

describe("collection bounds", () => {
  const base = {
    me: "weur",
    peers: ["enam", "apac"],
    nowMs: 1_000_000,
    horizonMs: 600_000,
    certificationRequired: true,
  };
  it("nothing until this replica caught up with every peer", () => {
    expect(
      gcBounds({ ...base, acks: { enam: 5, apac: 5 }, cursors: { enam: { cursor: 3, syncedAt: 900_000 } } }),
    ).toEqual([]);
  });
  it("own ops up to what every peer confirmed, others' up to the cursor, before the horizon", () => {
    const bounds = gcBounds({
      ...base,
      acks: { enam: 9, apac: 5 },
      cursors: { enam: { cursor: 3, syncedAt: 900_000 }, apac: { cursor: 0, syncedAt: 950_000 } },
    });
    expect(bounds).toEqual([
      { origin: "weur", posMax: 5, tsBefore: 300_000, certifiedOnly: true },
      { origin: "enam", posMax: 3, tsBefore: 300_000, certifiedOnly: true },
    ]);
  });
});

describe("collection bounds with no peers", () => {
  it("a lone replica collects its own ops by the horizon alone", () => {
    expect(
      gcBounds({
        me: "weur",
        peers: [],
        acks: {},
        cursors: {},
        nowMs: 1_000,
        horizonMs: 100,
        certificationRequired: false,
      }),
    ).toEqual([{ origin: "weur", posMax: Number.MAX_SAFE_INTEGER, tsBefore: 900, certifiedOnly: false }]);
  });
});

describe("alarm deadlines", () => {
  const p = periodsFrom(1000);
  it("runs what is due, re-arms periodic tasks, clears the drain", () => {
    const d = withPeriodic({ drain: 50 }, 0, p);
    expect(d).toEqual({
      drain: 50,
      antiEntropy: 1000,
      resend: 3000,
      gc: 5000,
      certify: 3000,
      certifiedSync: 2000,
    });
    expect(nextAlarm(d)).toBe(50);
    expect(dueTasks(d, 49)).toEqual([]);
    expect(dueTasks(d, 1000)).toEqual(["drain", "antiEntropy"]);
    const after = afterRun(d, ["drain", "antiEntropy"], 1000, p);
    expect(after).toEqual({ antiEntropy: 2000, resend: 3000, gc: 5000, certify: 3000, certifiedSync: 2000 });
    expect(nextAlarm(after)).toBe(2000);
    // the earliest deadline wherever it is in the list; none set, no alarm
    expect(nextAlarm({ antiEntropy: 900, resend: 300, gc: 100, certify: 200 })).toBe(100);
    expect(nextAlarm({})).toBeNull();
  });

  it("a task stopped at a bound is due at once; a task that threw is retried later, never dropped", () => {
    const d = withPeriodic({ drain: 50 }, 0, p);
    const after = afterRun(d, ["drain", "antiEntropy"], 1000, p, ["antiEntropy"], ["drain"]);
    expect(after.antiEntropy).toBe(1000);
    expect(after.drain).toBe(1000 + retryDelayMs(p));
    expect(retryDelayMs(p)).toBeGreaterThan(0);
    expect(retryDelayMs(periodsFrom(10))).toBe(10);
  });
});
