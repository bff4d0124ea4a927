/**
 * One acceptance suite for the certified follower's stores (shared/follower/store.ts), run by
 * every host: the memory store in plain Node (test/unit/follower/store-acceptance.test.ts) and the
 * SQLite store inside workerd (test/runtime/follower-store-acceptance.test.ts). A store passes when
 * the follower core over it keeps what the core wrote across a reopen (a restart), gives back the
 * roots, proofs, certificates and results the reference chain computed, buffers by (seq, digest),
 * keeps what it keeps by the core's bounds, and — the host's transaction around a step — undoes
 * an execution that mismatched while keeping the divergence, and undoes everything on a throw.
 */
import { describe, expect, it } from "vitest";
import { verifyResultProof, verifyStateProof } from "../../shared/certified/proofs.js";
import { Follower, type BatchEffects } from "../../shared/follower/follower.js";
import { CERTS_KEPT, RESULTS_KEPT_MS } from "../../shared/follower/limits.js";
import type { FollowerStore } from "../../shared/follower/store.js";
import { opIdOf } from "../../shared/ops.js";
import { Chain, VERIFIED, type Batch } from "./follower-chain.js";
import { op } from "./trusted-ops.js";

export interface FollowerStoreContext {
  /** A fresh, empty store. */
  open(): FollowerStore;
  /** The same store opened again over the same storage (a restart). */
  reopen(): FollowerStore;
}

export interface FollowerStoreHost {
  /** Run a test body where the store can be used (e.g. inside a Durable Object). */
  run(body: (ctx: FollowerStoreContext) => void): void | Promise<void>;
}

/** One batch through the core as the shell runs it: screen, then step inside one transaction. */
export function deliver(f: Follower, store: FollowerStore, b: Batch | string): BatchEffects {
  const s = f.screen(typeof b === "string" ? b : b.text);
  if (s.kind === "drop") return s.effects;
  try {
    return store.transaction(() => f.onBatch(s.batch, VERIFIED));
  } catch (e) {
    f.reload();
    throw e;
  }
}

export function runFollowerStoreAcceptance(name: string, host: FollowerStoreHost): void {
  const test = (title: string, body: (ctx: FollowerStoreContext) => void) => it(title, () => host.run(body));

  describe(`follower store acceptance: ${name}`, () => {
    test("batches in order: head, certificates, proofs and results are the reference's, and survive a reopen", (ctx) => {
      const store = ctx.open();
      const f = new Follower(store);
      const chain = new Chain();
      const a = op("acc/k", "counter", "add", { n: 2 });
      const batches = [
        chain.next([a]),
        chain.next([op("acc/k", "counter", "add", { n: 5 })]),
        chain.next([]),
      ];
      for (const b of batches)
        expect(deliver(f, store, b).report).toMatchObject({ outcome: "applied", applied: 1 });
      const last = batches[2]!;
      for (const g of [f, new Follower(ctx.reopen())]) {
        expect(g.head()).toEqual({ seq: 3, logRoot: chain.logRoot, opCount: 2, diverged: null });
        expect(g.certification()).toBe("ok");
        expect(g.latestCertificate()).toEqual(last.message.certificate);
        expect(g.certificateAt(1)).toEqual(batches[0]!.message.certificate);
        const read = g.certifiedRead("acc/k")!;
        expect(read).toMatchObject({ seq: 3, stateRoot: last.body.stateRoot });
        expect(read.value).toMatchObject({ type: "counter", value: 7 });
        expect(verifyStateProof(last.body.stateRoot, "acc/k", read.value, read.proof)).toBe(true);
        const res = g.certifiedResult(opIdOf(a))!;
        expect(res.seq).toBe(1);
        expect(verifyResultProof(batches[0]!.body.resultsRoot, res.result, res.proof)).toBe(true);
        expect(g.isCertified(a)).toBe(true);
        expect(g.local().hashAt("")).toBe(chain.sm.hashAt(""));
      }
    });

    test("ahead of the next seq: buffered by (seq, digest), once each, kept across a reopen, drained when the gap fills", (ctx) => {
      const store = ctx.open();
      const f = new Follower(store);
      const chain = new Chain();
      const [b1, b2, b3] = [
        chain.next([]),
        chain.next([op("acc/b", "counter", "add", { n: 1 })]),
        chain.next([]),
      ];
      expect(deliver(f, store, b3).report.outcome).toBe("buffered");
      expect(deliver(f, store, b2).report.outcome).toBe("buffered");
      expect(deliver(f, store, b3).report.outcome).toBe("duplicate");
      expect(store.bufferSize()).toBe(2);
      const g = new Follower(ctx.reopen());
      expect(g.stats().buffered).toBe(2);
      const store2 = ctx.reopen();
      const h = new Follower(store2);
      expect(deliver(h, store2, b1).report).toMatchObject({ outcome: "applied", applied: 3, head: 3 });
      expect(store2.bufferSize()).toBe(0);
      expect(h.local().hashAt("")).toBe(chain.sm.hashAt(""));
    });

    test("a root mismatch inside the host's transaction: the execution undone, the divergence kept (also after a reopen)", (ctx) => {
      const store = ctx.open();
      const f = new Follower(store);
      const chain = new Chain();
      deliver(f, store, chain.next([op("acc/m", "counter", "add", { n: 1 })]));
      deliver(f, store, chain.next([]));
      expect(deliver(f, store, chain.next([op("acc/m", "counter", "add", { n: 2 })])).report.outcome).toBe(
        "applied",
      );
      const good = f.local().hashAt("");
      const bad = chain.next([op("acc/m", "counter", "add", { n: 1 })], { stateRoot: "ab".repeat(32) });
      const fx = deliver(f, store, bad);
      expect(fx.report).toMatchObject({ outcome: "root_mismatch", head: 3 });
      for (const g of [f, new Follower(ctx.reopen())]) {
        expect(g.certification()).toBe("diverged");
        expect(g.head()).toMatchObject({
          seq: 3,
          diverged: { seq: 4, certified: { stateRoot: "ab".repeat(32) } },
        });
        expect(g.local().hashAt("")).toBe(good);
        expect(g.certificateAt(4)).toBeUndefined();
      }
    });

    test("a throw in the host's transaction after a step leaves nothing of it", (ctx) => {
      const store = ctx.open();
      const f = new Follower(store);
      const chain = new Chain();
      deliver(f, store, chain.next([]));
      const root = f.local().hashAt("");
      const b = chain.next([op("acc/t", "counter", "add", { n: 1 })]);
      const s = f.screen(b.text);
      if (s.kind !== "verify") throw new Error("expected a batch to verify");
      expect(() =>
        store.transaction(() => {
          f.onBatch(s.batch, VERIFIED);
          throw new Error("the op log failed");
        }),
      ).toThrow("the op log failed");
      f.reload();
      for (const g of [f, new Follower(ctx.reopen())]) {
        expect(g.head().seq).toBe(1);
        expect(g.local().hashAt("")).toBe(root);
        expect(g.certificateAt(2)).toBeUndefined();
      }
      expect(deliver(f, store, b).report.outcome).toBe("applied");
    });

    test("kept by the core's bounds: certificates of the newest CERTS_KEPT seqs, results for RESULTS_KEPT_MS with theirs", (ctx) => {
      const store = ctx.open();
      const f = new Follower(store);
      const chain = new Chain();
      const a = op("acc/r", "counter", "add", { n: 1 });
      const b = op("acc/r", "counter", "add", { n: 2 });
      deliver(f, store, chain.next([a]));
      deliver(f, store, chain.next([b]));
      for (let k = 0; k < CERTS_KEPT + 2; k++) deliver(f, store, chain.next([]));
      const head = f.head().seq;
      expect(head).toBe(CERTS_KEPT + 4);
      expect(f.certificateAt(1)).toBeDefined(); // its result is kept, so is its certificate
      expect(f.certificateAt(3)).toBeUndefined();
      expect(f.certificateAt(head - CERTS_KEPT)).toBeUndefined();
      expect(f.certificateAt(head - CERTS_KEPT + 1)).toBeDefined();
      expect(f.certifiedResult(opIdOf(a))).not.toBeNull();
      // one more batch past the horizon: every older result goes, with its seq's certificate
      deliver(f, store, chain.next([], {}, RESULTS_KEPT_MS + 1));
      for (const g of [f, new Follower(ctx.reopen())]) {
        expect(g.certifiedResult(opIdOf(a))).toBeNull();
        expect(g.certifiedResult(opIdOf(b))).toBeNull();
        expect(g.certificateAt(1)).toBeUndefined();
        expect(g.certificateAt(2)).toBeUndefined();
      }
    });

    test("a transferred state adopted over a diverged one (patched, then fresh): served again, and the chain goes on", (ctx) => {
      for (const fresh of [false, true]) {
        const store = ctx.open();
        const f = new Follower(store);
        const chain = new Chain();
        deliver(f, store, chain.next([op("acc/x", "counter", "add", { n: 1 })]));
        const lie = chain.next([op("acc/x", "counter", "add", { n: 2 })], { stateRoot: "cd".repeat(32) });
        expect(deliver(f, store, lie).report.outcome).toBe("root_mismatch");
        // the cluster's true seq 2 and 3, which this follower never applied
        const truth = new Chain();
        truth.next([op("acc/x", "counter", "add", { n: 1 })]);
        truth.next([op("acc/y", "set", "add", { x: "a" })]);
        const three = truth.next([]);
        const fx = store.transaction(() => f.onTransfer(three.message.certificate, truth.staged(), fresh));
        expect(fx.outcome, `fresh ${fresh}`).toBe("adopted");
        for (const g of [f, new Follower(ctx.reopen())]) {
          expect(g.certification()).toBe("ok");
          expect(g.head()).toEqual({
            seq: 3,
            logRoot: truth.logRoot,
            opCount: truth.opCount,
            diverged: null,
          });
          expect(g.local().hashAt("")).toBe(truth.sm.hashAt(""));
          expect(g.certifiedRead("acc/y")!.value).toMatchObject({ type: "set" });
        }
        expect(deliver(f, store, truth.next([op("acc/x", "counter", "add", { n: 1 })])).report.outcome).toBe(
          "applied",
        );
        expect(f.certifiedRead("acc/x")!.value).toMatchObject({ value: 2 });
      }
    });
  });
}
