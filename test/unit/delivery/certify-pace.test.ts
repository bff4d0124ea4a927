import { describe, expect, it } from "vitest";
import {
  fullPace,
  nextPace,
  nodesBusy,
  paceAllows,
  type PaceBounds,
} from "../../../shared/delivery/certify-pace.js";

const B: PaceBounds = { limitMax: 500, limitMin: 25, backoffBaseMs: 1_000, backoffMaxMs: 30_000 };

describe("certify pace: the nodes' busy answers", () => {
  it("busy takes f + 1 nodes that refused ops for a full pool (one lying node can't slow an origin)", () => {
    const ok = { admitted: 10, refused: 0, busy: 0 };
    const full = { admitted: 0, refused: 0, busy: 10 };
    expect(nodesBusy([full, ok, ok], 1)).toBe(false);
    expect(nodesBusy([full, full, ok], 1)).toBe(true);
  });

  it("hostile answers count as not busy", () => {
    const junk = [null, 3, "busy", { busy: -1 }, { busy: 1.5 }, { busy: "9" }, { busy: Infinity }, {}];
    expect(nodesBusy(junk, 1)).toBe(false);
  });
});

describe("certify pace: backoff and recovery", () => {
  it("busy answers halve the ops per run down to the floor and double the wait up to the cap", () => {
    let p = fullPace(B);
    const seen: [number, number][] = [];
    for (let i = 0; i < 8; i++) {
      p = nextPace(p, true, 0, B);
      seen.push([p.limit, p.backoffMs]);
    }
    expect(seen).toEqual([
      [250, 1_000],
      [125, 2_000],
      [62, 4_000],
      [31, 8_000],
      [25, 16_000],
      [25, 30_000],
      [25, 30_000],
      [25, 30_000],
    ]);
    expect(paceAllows(p, 29_999)).toBe(false);
    expect(paceAllows(p, 30_000)).toBe(true);
  });

  it("runs the nodes took whole restore the full pace step by step", () => {
    let p = { limit: 25, backoffMs: 30_000, notBefore: 0 };
    const seen: [number, number][] = [];
    while (p.limit < B.limitMax || p.backoffMs > 0) {
      p = nextPace(p, false, 0, B);
      seen.push([p.limit, p.backoffMs]);
    }
    expect(seen).toEqual([
      [50, 15_000],
      [100, 7_500],
      [200, 3_750],
      [400, 1_875],
      [500, 0],
    ]);
    expect(paceAllows(p, 0)).toBe(true);
  });
});
