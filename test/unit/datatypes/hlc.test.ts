// The hybrid logical clock that orders register writes, and the register's order at an origin and in
// the certified order (pure; the replica's use of it is tested in test/runtime/register-clock.test.ts).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { executeOps } from "../../../shared/certified/execute.js";
import {
  HLC_AHEAD_MAX_MS,
  HLC_LOGICAL_MAX,
  HLC_ZERO,
  compareHlc,
  formatHlc,
  maxHlc,
  parseHlc,
  remoteStampVerdict,
  tick,
  type Hlc,
} from "../../../shared/hlc.js";
import { applyEffect, decideOp, type KeyRecord } from "../../../shared/materialize.js";
import type { OpBody, SignedOp } from "../../../shared/ops.js";

const hlcArb: fc.Arbitrary<Hlc> = fc.record({
  wall: fc.integer({ min: 0, max: 2e12 }),
  logical: fc.integer({ min: 0, max: HLC_LOGICAL_MAX }),
});

describe("hlc", () => {
  it("tick is after the last stamp and not before the wall clock, whatever the clock does", () => {
    fc.assert(
      fc.property(hlcArb, fc.array(fc.integer({ min: 0, max: 2e12 }), { maxLength: 50 }), (start, nows) => {
        let last = start;
        for (const now of nows) {
          const next = tick(last, now);
          expect(compareHlc(next, last)).toBeGreaterThan(0);
          expect(next.wall).toBeGreaterThanOrEqual(now);
          expect(next.wall).toBeLessThanOrEqual(Math.max(now, last.wall + 1));
          expect(next.logical).toBeLessThanOrEqual(HLC_LOGICAL_MAX);
          last = next;
        }
      }),
    );
  });

  it("the logical counter is capped: past it the wall moves on by 1 ms", () => {
    expect(tick({ wall: 5, logical: HLC_LOGICAL_MAX }, 5)).toEqual({ wall: 6, logical: 0 });
    expect(tick({ wall: 5, logical: 7 }, 5)).toEqual({ wall: 5, logical: 8 });
    expect(tick({ wall: 5, logical: 7 }, 9)).toEqual({ wall: 9, logical: 0 });
  });

  it("a stamp observed from elsewhere orders every later tick after it", () => {
    fc.assert(
      fc.property(hlcArb, hlcArb, fc.integer({ min: 0, max: 2e12 }), (mine, seen, now) => {
        expect(compareHlc(tick(maxHlc(mine, seen), now), seen)).toBeGreaterThan(0);
      }),
    );
  });

  it("another replica's stamp may be at most HLC_AHEAD_MAX_MS ahead", () => {
    const now = 1_000_000;
    expect(remoteStampVerdict({ wall: now + HLC_AHEAD_MAX_MS, logical: 9 }, now)).toEqual({ ok: true });
    expect(remoteStampVerdict({ wall: now - 3_600_000, logical: 0 }, now)).toEqual({ ok: true });
    expect(remoteStampVerdict({ wall: now + HLC_AHEAD_MAX_MS + 1, logical: 0 }, now)).toMatchObject({
      ok: false,
      drop: "stamp_ahead",
    });
  });

  it("persists as text and refuses a corrupt row", () => {
    expect(parseHlc(undefined)).toEqual(HLC_ZERO);
    expect(parseHlc(formatHlc({ wall: 12, logical: 3 }))).toEqual({ wall: 12, logical: 3 });
    expect(() => parseHlc('{"wall":-1,"logical":0}')).toThrow();
  });
});

const A = "A".repeat(43);
const B = "B".repeat(43);
const set = (client: string, seq: number, v: string, ts: number): OpBody => ({
  client,
  seq,
  key: "r",
  type: "register",
  op: "set",
  args: { v },
  ts,
});

describe("register order", () => {
  it("a client's far-future ts does not pin the value: the origin's clock orders writes", () => {
    const now = 1_800_000_000_000;
    let clock = HLC_ZERO;
    let rec: KeyRecord | undefined;
    const write = (op: OpBody, at: number) => {
      clock = tick(clock, at);
      const out = decideOp(rec, op, { kind: "origin", stamp: clock });
      rec = out.record;
      return out;
    };
    write(set(A, 1, "pinned", now + 299_000), now); // ts 4 min 59 s ahead
    const honest = write(set(B, 1, "honest", now + 1), now + 1);
    expect(honest.value).toBe("honest");
    expect(honest.superseded).toBeUndefined();
  });

  it("an effect older than the register's winner loses and says so", () => {
    const newer = decideOp(undefined, set(A, 1, "new", 0), {
      kind: "origin",
      stamp: { wall: 10, logical: 0 },
    });
    const older = decideOp(undefined, set(B, 1, "old", 99), {
      kind: "origin",
      stamp: { wall: 9, logical: 5 },
    });
    const rec = applyEffect(newer.record, "register", older.effect)!;
    expect(rec.state).toEqual(newer.record!.state);
    expect(
      decideOp(newer.record, set(B, 2, "x", 0), { kind: "origin", stamp: { wall: 9, logical: 0 } }),
    ).toMatchObject({
      value: "new",
      superseded: true,
    });
  });

  it("in the certified order the last write wins, whatever the clients' ts say", () => {
    const records = new Map<string, KeyRecord>();
    const store = {
      get: (k: string) => records.get(k),
      set: (k: string, r: KeyRecord) => void records.set(k, r),
    };
    const sig = "S".repeat(86);
    const ops: SignedOp[] = [
      { ...set(A, 1, "first", 1_800_000_299_000), sig },
      { ...set(B, 1, "second", 1_700_000_000_000), sig },
      { ...set(A, 2, "third", 5), sig },
    ];
    const { results } = executeOps(store, ops);
    expect(results.map((r) => r.value)).toEqual(["first", "second", "third"]);
  });
});
