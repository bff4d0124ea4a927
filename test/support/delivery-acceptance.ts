/**
 * One acceptance suite for the delivery core's state (shared/delivery/state.ts), run by every host:
 * the memory state in plain Node (test/unit/delivery/state-acceptance.test.ts) and the SQLite one
 * inside workerd (test/runtime/delivery-state-acceptance.test.ts). A state passes when the rows
 * survive a reopen (a restart), confirmations only move forward, a step that throws inside the
 * transaction leaves nothing, and the delivery core over it decides the same across a restart:
 * the drain's mark, re-sends to the peers missing ops, pages, cursors, catch-up, the idle level.
 */
import { describe, expect, it } from "vitest";
import { DeliveryCore } from "../../shared/delivery/core.js";
import type { DeliveryInput } from "../../shared/delivery/effects.js";
import { ANTI_ENTROPY_PAGE_MAX } from "../../shared/delivery/settings.js";
import type { DeliveryState, OwnLog } from "../../shared/delivery/state.js";

export interface DeliveryStateContext {
  /** A fresh, empty state. */
  open(): DeliveryState;
  /** The same state opened again over the same storage (a restart). */
  reopen(): DeliveryState;
}

export interface DeliveryStateHost {
  /** Run a test body where the state can be used (e.g. inside a Durable Object). */
  run(body: (ctx: DeliveryStateContext) => void): void | Promise<void>;
}

/** An own log of `n` ops (entries are `{"pos":i}`), none certified. */
export function fixtureLog(n: number): OwnLog & { n: number } {
  return {
    n,
    head() {
      return this.n;
    },
    page(after, limit, through = Number.MAX_SAFE_INTEGER) {
      const out: string[] = [];
      for (let p = after + 1; p <= Math.min(this.n, through) && out.length < limit; p++)
        out.push(JSON.stringify({ pos: p }));
      return out;
    },
    uncertified: () => [],
    uncertifiedCount: () => 0,
  };
}

const CONFIG = { me: "a", peers: ["b", "c"], knobs: { ANTI_ENTROPY_MS: "1000" }, certify: false, f: 1 };
const T0 = 1_700_000_000_000;

/** A core over `state`, each step in the state's transaction (as every host runs it). */
function coreOver(state: DeliveryState, log: OwnLog) {
  const core = new DeliveryCore(CONFIG, state, log);
  return { core, step: (i: DeliveryInput) => state.transaction(() => core.step(i)) };
}

export function runDeliveryStateAcceptance(name: string, host: DeliveryStateHost): void {
  const test = (title: string, body: (ctx: DeliveryStateContext) => void) => it(title, () => host.run(body));

  describe(`delivery state acceptance: ${name}`, () => {
    test("cursors, confirmations, deadlines and marks survive a reopen; confirmations only move forward", (ctx) => {
      const s = ctx.open();
      s.transaction(() => {
        s.putCursor("b", { cursor: 4, above: [[6, 7]], syncedAt: 99 });
        s.noteAck("b", 5);
        s.noteAck("b", 3);
        s.putDeadlines({ drain: 10, gc: 20 });
        s.putMark("sent_pos", 12);
      });
      const r = ctx.reopen();
      expect(r.cursor("b")).toEqual({ cursor: 4, above: [[6, 7]], syncedAt: 99 });
      expect(r.cursor("c")).toEqual({ cursor: 0, above: [], syncedAt: 0 });
      expect(r.acks()).toEqual({ b: 5 });
      expect(r.deadlines()).toEqual({ drain: 10, gc: 20 });
      expect([r.mark("sent_pos"), r.mark("resend_mark"), r.mark("idle_level")]).toEqual([12, 0, 0]);
      r.transaction(() => r.putDeadlines({ gc: 30 }));
      expect(ctx.reopen().deadlines()).toEqual({ gc: 30 });
    });

    test("a step that throws inside the transaction leaves nothing of it", (ctx) => {
      const s = ctx.open();
      const { core } = coreOver(s, fixtureLog(3));
      expect(() =>
        s.transaction(() => {
          core.step({ kind: "handled", origin: "b", positions: [1, 2] });
          core.step({ kind: "acks", acks: { b: 3 } });
          core.step({ kind: "written", nowMs: T0 });
          throw new Error("power cut");
        }),
      ).toThrow("power cut");
      const r = ctx.reopen();
      expect([r.cursor("b").cursor, r.acks(), r.deadlines()]).toEqual([0, {}, {}]);
    });

    test("the drain's mark moves only once its send went out; a restarted core drains from it", (ctx) => {
      const s = ctx.open();
      const log = fixtureLog(3);
      const a = coreOver(s, log);
      const first = a.step({ kind: "task", task: "drain", nowMs: T0 });
      expect(first.send.map((x) => [x.entries.length, x.mark])).toEqual([[3, 3]]);
      // the send failed: nothing stepped back, the same ops go out again
      expect(a.step({ kind: "task", task: "drain", nowMs: T0 }).send[0]!.mark).toBe(3);
      a.step({ kind: "sent", send: first.send[0]! });
      log.n = 5;
      const b = coreOver(ctx.reopen(), log);
      expect(b.core.unsent()).toBe(true);
      const next = b.step({ kind: "task", task: "drain", nowMs: T0 }).send[0]!;
      expect(next.entries).toEqual(['{"pos":4}', '{"pos":5}']);
    });

    test("a re-send waits one tick, then goes to the peers that did not confirm; a page confirms and is bounded", (ctx) => {
      const s = ctx.open();
      const log = fixtureLog(ANTI_ENTROPY_PAGE_MAX + 10);
      const a = coreOver(s, log);
      a.step({ kind: "sent", send: { task: "drain", entries: [], mark: log.n } });
      expect(a.step({ kind: "task", task: "resend", nowMs: T0 }).send).toEqual([]);
      a.step({ kind: "acks", acks: { b: log.n, c: 2, x: 9, a: 9 } });
      const b = coreOver(ctx.reopen(), log);
      const re = b.step({ kind: "task", task: "resend", nowMs: T0 }).send[0]!;
      expect([re.targets, re.entries.length, re.entries[0]]).toEqual([["c"], log.n - 2, '{"pos":3}']);
      const page = b.step({ kind: "pageRequest", requester: "c", after: 7, limit: 10_000 }).page!;
      expect([page.entries.length, page.entries[0], page.head]).toEqual([
        ANTI_ENTROPY_PAGE_MAX,
        '{"pos":8}',
        log.n,
      ]);
      expect(ctx.reopen().acks()).toEqual({ b: log.n, c: 7 });
    });

    test("positions handled move the cursor across a reopen; a pull that caught up notes when", (ctx) => {
      const a = coreOver(ctx.open(), fixtureLog(0));
      expect(a.step({ kind: "handled", origin: "b", positions: [1, 3] }).cursor).toBe(1);
      const b = coreOver(ctx.reopen(), fixtureLog(0));
      expect(b.core.seenIn("b")(3)).toBe(true);
      expect(b.core.seenIn("b")(2)).toBe(false);
      expect(b.step({ kind: "handled", origin: "b", positions: [2] }).cursor).toBe(3);
      const pull = b
        .step({ kind: "task", task: "antiEntropy", nowMs: T0 })
        .pulls.find((p) => p.peer === "b")!;
      expect(pull.after).toBe(3);
      const fx = b.step({ kind: "pulled", pull, answer: { ok: true, head: 3, served: 0, applied: 0 } });
      expect(fx.pulls).toEqual([]);
      expect(ctx.reopen().cursor("b")).toEqual({ cursor: 3, above: [], syncedAt: T0 });
    });

    test("idle alarm runs back off across a restart; a write wakes the replica and schedules a drain", (ctx) => {
      const a = coreOver(ctx.open(), fixtureLog(0));
      a.step({ kind: "contact", nowMs: T0 });
      let now = T0;
      for (let i = 0; i < 2; i++) {
        now += 60_000;
        expect(a.step({ kind: "alarm", nowMs: now }).due.length).toBeGreaterThan(0);
        expect(a.step({ kind: "alarmDone", nowMs: now, more: [], failed: [] }).alarmAt).toBeGreaterThan(now);
      }
      const b = coreOver(ctx.reopen(), fixtureLog(0));
      expect(b.core.alarmStatus().idleLevel).toBe(2);
      const fx = b.step({ kind: "written", nowMs: now });
      expect(fx.alarmBy).toBe(now + 20);
      const r = ctx.reopen();
      expect([r.mark("idle_level"), r.deadlines().drain]).toEqual([0, now + 20]);
    });
  });
}
