/**
 * The certified follower's rules (shared/follower/follower.ts), on the memory store: ordering and
 * the buffer's bounds, the log-root check, divergence only from its own execution, recovery by a
 * transfer. The certificate's signatures are the host's to verify; here the host says "verified"
 * (test/support/follower-chain.ts), so every refusal below is the core's own.
 */
import { describe, expect, it } from "vitest";
import { Follower } from "../../../shared/follower/follower.js";
import { batchDigest } from "../../../shared/pbft/chain.js";
import { CERT_BUFFER_SEQS, CERT_BUFFER_VARIANTS } from "../../../shared/follower/limits.js";
import { MemoryFollowerStore } from "../../../shared/follower/memory-store.js";
import { deliver } from "../../support/follower-acceptance.js";
import { Chain, VERIFIED, withOps, type Batch } from "../../support/follower-chain.js";
import { op } from "../../support/trusted-ops.js";

function follower() {
  const store = new MemoryFollowerStore();
  const f = new Follower(store);
  return { store, f, send: (b: Batch | string) => deliver(f, store, b) };
}

/** The same certificate over other ops (what a faulty carrier can make of a genuine batch). */
const swapped = (b: Batch, n: number) =>
  withOps(b.message.certificate, [op("swap/k", "counter", "add", { n })]);

describe("ordering and the buffer's bounds", () => {
  it("an older seq is a duplicate and a seq past CERT_BUFFER_SEQS ahead is dropped, both before verification", () => {
    const { f, store, send } = follower();
    const chain = new Chain();
    const batches = Array.from({ length: CERT_BUFFER_SEQS + 2 }, () => chain.next([]));
    send(batches[0]!);
    expect(f.screen(batches[0]!.text)).toMatchObject({
      kind: "drop",
      effects: { report: { outcome: "duplicate" } },
    });
    // head 1: seq 1 + CERT_BUFFER_SEQS is the last one buffered, the next is too far ahead
    expect(send(batches[CERT_BUFFER_SEQS]!).report.outcome).toBe("buffered");
    expect(f.screen(batches[CERT_BUFFER_SEQS + 1]!.text)).toMatchObject({
      kind: "drop",
      effects: { report: { outcome: "too_far_ahead" } },
    });
    expect(store.bufferSize()).toBe(1);
    expect(f.stats().dropped).toMatchObject({ duplicate: 1, tooFarAhead: 1 });
  });

  it("a carrier's wrong variants of a seq can't crowd out the right batch: held beside it, then discarded", () => {
    const { f, store, send } = follower();
    const chain = new Chain();
    const [b1, b2, b3] = [
      chain.next([]),
      chain.next([]),
      chain.next([op("v/k", "counter", "add", { n: 3 })]),
    ];
    send(b1);
    // wrong variants the buffer holds before the right one (by digest): each is tried and refused
    const right = batchDigest(b3.message.ops);
    const wrong = Array.from({ length: 64 }, (_, n) => swapped(b3, n + 1))
      .filter((b) => batchDigest(b.message.ops) < right)
      .slice(0, CERT_BUFFER_VARIANTS - 1);
    expect(wrong).toHaveLength(CERT_BUFFER_VARIANTS - 1);
    for (const w of wrong) expect(send(w).report.outcome).toBe("buffered");
    expect(send(b3).report.outcome).toBe("buffered"); // the right one, last of CERT_BUFFER_VARIANTS
    expect(store.bufferAt(3).at(-1)!.digest).toBe(right);
    expect(send(swapped(b3, 99)).report.outcome).toBe("buffer_full"); // the bound: one more is refused
    expect(send(b2).report).toMatchObject({ outcome: "applied", applied: 2, head: 3 });
    expect(f.local().hashAt("")).toBe(chain.sm.hashAt(""));
    expect(store.bufferSize()).toBe(0);
  });

  it("a seq whose held copies are all wrong is emptied, so the right copy finds room", () => {
    const { f, store, send } = follower();
    const chain = new Chain();
    const [b1, b2, b3, b4] = [chain.next([]), chain.next([]), chain.next([]), chain.next([])];
    send(b1);
    for (let n = 1; n <= CERT_BUFFER_VARIANTS; n++) send(swapped(b3, n));
    send(b4);
    expect(send(b2).report).toMatchObject({ outcome: "applied", applied: 1, head: 2 });
    expect(store.bufferAt(3)).toEqual([]); // useless copies gone; seq 4 still held
    expect(store.bufferSize()).toBe(1);
    expect(send(b3).report).toMatchObject({ outcome: "applied", applied: 2, head: 4 });
    expect(f.certification()).toBe("ok");
  });
});

describe("the log-root check", () => {
  it("ops that are not the certificate's are refused before execution, write nothing, and the right copy applies", () => {
    const { f, store, send } = follower();
    const chain = new Chain();
    send(chain.next([op("lr/k", "counter", "add", { n: 1 })]));
    const b = chain.next([op("lr/k", "counter", "add", { n: 2 }), op("lr/j", "counter", "add", { n: 1 })]);
    const before = store.clone();
    const lies = [
      swapped(b, 5),
      withOps(b.message.certificate, [...b.message.ops].reverse()),
      withOps(b.message.certificate, b.message.ops.slice(1)),
    ];
    for (const lie of lies) {
      expect(send(lie).report).toMatchObject({ outcome: "ops_mismatch", head: 1 });
      expect(f.certification()).toBe("ok");
    }
    expect(new Follower(store).head()).toEqual(new Follower(before).head());
    expect(f.local().hashAt("")).toBe(new Follower(before).local().hashAt(""));
    expect(f.stats().dropped.opsMismatch).toBe(3);
    expect(send(b).report).toMatchObject({ outcome: "applied", head: 2 });
  });
});

describe("divergence", () => {
  it("only from its own execution: a certificate whose roots this follower does not compute halts it", () => {
    const { f, send } = follower();
    const chain = new Chain();
    send(chain.next([op("dv/k", "counter", "add", { n: 1 })]));
    const root = f.local().hashAt("");
    const bad = chain.next([op("dv/k", "counter", "add", { n: 1 })], { resultsRoot: "ef".repeat(32) });
    expect(send(bad).report).toMatchObject({ outcome: "root_mismatch", head: 1 });
    expect(f.certification()).toBe("diverged");
    expect(f.head().diverged).toMatchObject({ seq: 2, certified: { resultsRoot: "ef".repeat(32) } });
    expect(f.local().hashAt("")).toBe(root);
    expect(f.certifiedRead("dv/k")).toBeNull();
    expect(send(chain.next([])).report.outcome).toBe("halted");
  });

  it("never from what a carrier can change: malformed text, a refused certificate, other ops, extra members", () => {
    const { f, store, send } = follower();
    const chain = new Chain();
    send(chain.next([]));
    const b = chain.next([op("dc/k", "counter", "add", { n: 1 })]);
    const extra = JSON.stringify({ ...JSON.parse(b.text), padding: "x" });
    for (const text of ["{", "null", extra, b.text.replace('"ops":[', '"ops":[1,')])
      expect(send(text).report.outcome, text.slice(0, 20)).toBe("invalid");
    const s = f.screen(b.text);
    if (s.kind !== "verify") throw new Error("expected a batch to verify");
    const refused = store.transaction(() => f.onBatch(s.batch, { ok: false, reason: "bad_signature" }));
    expect(refused.report).toMatchObject({ outcome: "invalid", reason: "bad_signature" });
    expect(send(swapped(b, 7)).report.outcome).toBe("ops_mismatch");
    expect(f.certification()).toBe("ok");
    expect(send(b).report.outcome).toBe("applied");
  });
});

describe("recovery", () => {
  it("a diverged follower comes back by a transfer of the cluster's state, then takes the next batch", () => {
    const { f, store, send } = follower();
    const truth = new Chain();
    const one = truth.next([op("rc/k", "counter", "add", { n: 1 })]);
    send(one);
    const two = truth.next([op("rc/k", "counter", "add", { n: 1 })]);
    const lie = { ...two.message.certificate, body: { ...two.body, stateRoot: "12".repeat(32) } };
    expect(send(withOps(lie, two.message.ops)).report.outcome).toBe("root_mismatch");
    const three = truth.next([op("rc/j", "counter", "add", { n: 4 })]);
    const adopt = (cert = three.message.certificate, staged = truth.staged(), fresh = false) =>
      store.transaction(() => f.onTransfer(cert, staged, fresh)).outcome;
    // stale, or not the certificate's state (an empty one; a tampered record): nothing changes
    expect(adopt(one.message.certificate)).toBe("stale");
    expect(adopt(three.message.certificate, [["", []]])).toBe("root_mismatch");
    const tampered = truth.staged();
    for (const item of tampered[0]![1]) if (item[0] === "rc/k") item[2] = { p: 99, n: 0 };
    expect(adopt(three.message.certificate, tampered)).toBe("root_mismatch");
    expect(f.certification()).toBe("diverged");
    expect(f.head().seq).toBe(1);
    // the cluster's state at seq 3, adopted
    expect(adopt()).toBe("adopted");
    expect(f.certification()).toBe("ok");
    expect(f.head()).toEqual({ seq: 3, logRoot: truth.logRoot, opCount: truth.opCount, diverged: null });
    expect(f.certifiedRead("rc/k")!.value).toMatchObject({ value: 2 });
    expect(send(truth.next([op("rc/j", "counter", "add", { n: 1 })])).report).toMatchObject({
      outcome: "applied",
      head: 4,
    });
    expect(f.local().hashAt("")).toBe(truth.sm.hashAt(""));
  });

  it("a transfer of a state where a key was deleted since removes it, and names it among the keys to rebuild", () => {
    const { f, store, send } = follower();
    const truth = new Chain();
    send(truth.next([op("dx/gone", "counter", "add", { n: 1 }), op("dx/kept", "counter", "add", { n: 2 })]));
    truth.next([op("dx/gone", "counter", "delete", {})]); // this follower misses seq 2
    const three = truth.next([]);
    const fx = store.transaction(() => f.onTransfer(three.message.certificate, truth.staged(), false));
    expect(fx.outcome).toBe("adopted");
    expect(fx.adopted!.keys.has("dx/gone")).toBe(true);
    expect(f.certifiedRead("dx/gone")!.value).toBeNull();
    expect(f.certifiedRead("dx/kept")!.value).toMatchObject({ value: 2 });
    expect(f.local().hashAt("")).toBe(truth.sm.hashAt(""));
  });
});
