import { describe, expect, it } from "vitest";
import {
  IDLE_PERIOD_MAX_MS,
  idleGraceMs,
  idleLevelMax,
  idlePeriods,
  nextIdleLevel,
  wakeDeadlines,
} from "../../../shared/delivery/idle-backoff.js";
import {
  afterRun,
  dueTasks,
  nextAlarm,
  periodsFrom,
  type Deadlines,
  type Task,
} from "../../../shared/delivery/timers.js";

const base = periodsFrom(1_000);
const idleRun = { ranPeriodic: true, foundWork: false };

describe("idle backoff of a replica's alarm", () => {
  it("doubles the anti-entropy period after each idle run, up to the cap", () => {
    const seen: number[] = [];
    let level = 0;
    for (let i = 0; i < 10; i++) {
      seen.push(idlePeriods(base, level).antiEntropy);
      level = nextIdleLevel(level, idleRun, base);
    }
    expect(seen).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000]);
    expect(level).toBe(idleLevelMax(base));
  });

  it("goes back to the base pace when a run finds work", () => {
    expect(nextIdleLevel(5, { ranPeriodic: true, foundWork: true }, base)).toBe(0);
    expect(idlePeriods(base, 0)).toEqual(base);
  });

  it("keeps the level when no periodic task was due (an early or forced run says nothing)", () => {
    expect(nextIdleLevel(3, { ranPeriodic: false, foundWork: false }, base)).toBe(3);
  });

  it("caps every task at the same period, so an idle replica's tasks run together", () => {
    const p = idlePeriods(base, idleLevelMax(base));
    expect(new Set(Object.values(p))).toEqual(new Set([IDLE_PERIOD_MAX_MS]));
  });

  it("leaves a base period past the cap alone", () => {
    const slow = periodsFrom(3_600_000);
    expect(idleLevelMax(slow)).toBe(0);
    expect(idlePeriods(slow, 4)).toEqual(slow);
    expect(idleGraceMs(slow, 4)).toBe(0);
  });

  it("runs tasks due within the grace together once idle, each on time while busy", () => {
    const now = 100_000;
    const d: Deadlines = { antiEntropy: now, resend: now + 20_000, gc: now + 25_000, certify: now + 40_000 };
    expect(dueTasks(d, now + idleGraceMs(base, 0))).toEqual(["antiEntropy"]);
    const atCap = idleLevelMax(base);
    const due = dueTasks(d, now + idleGraceMs(base, atCap));
    expect(due).toEqual(["antiEntropy", "resend", "gc"]);
    // once run together, they stay in step: one alarm per period
    const p = idlePeriods(base, atCap);
    const next = afterRun(d, due as Task[], now, p);
    expect(next.antiEntropy).toBe(next.resend);
    expect(next.resend).toBe(next.gc);
  });

  it("a wake pulls every far deadline in to one base period, and keeps sooner ones", () => {
    const now = 50_000;
    const d: Deadlines = { antiEntropy: now + 60_000, resend: now + 200, gc: now + 60_000, drain: now + 20 };
    const w = wakeDeadlines(d, now, base);
    expect(w).toMatchObject({
      antiEntropy: now + 1_000,
      resend: now + 200,
      gc: now + 5_000,
      drain: now + 20,
    });
    expect(w.certify).toBe(now + base.certify);
    expect(nextAlarm(w)).toBe(now + 20);
  });
});
