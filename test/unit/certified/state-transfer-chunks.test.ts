/**
 * Chunked state transfer over `MerkleStateMachine`: serveChunk (sender) → checkChunk → adopt
 * (receiver), as `shared/pbft/state-transfer.ts` drives it, without the PBFT messages around it.
 */
import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { toHex, utf8Length } from "../../../shared/bytes.js";
import { canonicalJson } from "../../../shared/canonical.js";
import { EXECUTED_TYPE, executedKey } from "../../../shared/certified/executed.js";
import { EMPTY_HASH, keyHashOf } from "../../../shared/certified/hashing.js";
import { hasPrefix } from "../../../shared/certified/merkle-map.js";
import { verifyStateProof } from "../../../shared/certified/proofs.js";
import { MemoryRecordStore } from "../../../shared/certified/record-store.js";
import { MerkleStateMachine, memoryStores } from "../../../shared/certified/state-machine.js";
import type {
  ChunkLimits,
  ChunkRecord,
  Digest,
  StateChunk,
  StateHandle,
} from "../../../shared/certified/types.js";
import type { SignedOp } from "../../../shared/ops.js";
import { CLIENTS, op } from "../../support/trusted-ops.js";

const SMALL: ChunkLimits = { records: 3, bytes: 400 };
const EMPTY: Digest = "0".repeat(64);
const KEYS = Array.from({ length: 40 }, (_, i) => `k${i}`);

const opArb: fc.Arbitrary<SignedOp> = fc
  .tuple(
    fc.constantFrom(...KEYS),
    fc.oneof(
      fc.record({
        type: fc.constant("counter" as const),
        op: fc.constant("add"),
        args: fc.record({ n: fc.integer({ min: -9, max: 9 }) }),
      }),
      fc.record({
        type: fc.constant("set" as const),
        op: fc.constantFrom("add", "remove"),
        args: fc.record({ x: fc.constantFrom("a", "b", "c") }),
      }),
      fc.record({
        type: fc.constant("register" as const),
        op: fc.constant("set"),
        args: fc.record({ v: fc.string({ maxLength: 40 }) }),
      }),
    ),
    fc.nat(CLIENTS.length - 1),
  )
  .map(([key, o, c]) => op(key, o.type, o.op, o.args, c));

const batchesArb = (max: number) => fc.array(fc.array(opArb, { maxLength: 12 }), { maxLength: max });

/** Run batches at versions from, from+1, …; returns the next version. */
function run(sm: MerkleStateMachine, batches: readonly SignedOp[][], from: number): number {
  batches.forEach((b, i) => sm.execute(b, from + i));
  return from + batches.length;
}

interface Transfer {
  root: Digest | null;
  chunks: number;
  records: number;
  reused: number;
}

/** Fetch state `h` (at `version`) of `from` into `to` chunk by chunk, then adopt it at `version`. */
function transfer(
  from: MerkleStateMachine,
  h: StateHandle,
  version: number,
  to: MerkleStateMachine,
  limits: ChunkLimits,
): Transfer {
  const pending: [string, Digest][] = [["", h.root]];
  const staged: [string, ChunkRecord[]][] = [];
  const t: Transfer = { root: null, chunks: 0, records: 0, reused: 0 };
  while (pending.length > 0) {
    const [path, want] = pending.pop()!;
    if (to.hashAt(path) === want) {
      t.reused++;
      continue;
    }
    if (want === EMPTY) {
      // the checkpoint has nothing here and `to` has keys: staged empty (as the PBFT core does)
      staged.push([path, []]);
      continue;
    }
    const check = to.checkChunk(path, want, from.serveChunk(h, version, path, limits));
    t.chunks++;
    if (!check.ok) throw new Error(`honest chunk refused at '${path}': ${check.reason}`);
    if ("children" in check) {
      pending.push(...check.children);
    } else {
      staged.push([path, check.records]);
      t.records += check.records.length;
    }
  }
  t.root = to.adopt(staged, version);
  return t;
}

/** Every (path, expected hash, honest chunk) of a state, by walking its splits. */
function allChunks(
  sm: MerkleStateMachine,
  version: number,
  limits: ChunkLimits,
): [string, Digest, StateChunk][] {
  const h = sm.handle();
  const out: [string, Digest, StateChunk][] = [];
  const pending: [string, Digest][] = [["", h.root]];
  while (pending.length > 0) {
    const [path, want] = pending.pop()!;
    if (want === EMPTY) continue; // nothing to serve
    const chunk = sm.serveChunk(h, version, path, limits);
    out.push([path, want, chunk]);
    const check = sm.checkChunk(path, want, chunk);
    if (check.ok && "children" in check) pending.push(...check.children);
  }
  return out;
}

function expectSameState(a: MerkleStateMachine, b: MerkleStateMachine, keys = KEYS): void {
  expect(a.stateRoot()).toBe(b.stateRoot());
  for (const key of keys) {
    const kp = a.proveKey(key);
    expect(kp.value).toEqual(b.proveKey(key).value);
    expect(verifyStateProof(a.stateRoot(), key, kp.value, kp.proof)).toBe(true);
  }
}

describe("chunked state transfer", () => {
  it("brings a machine at a prefix of the log to the sender's root; both then execute alike", () => {
    fc.assert(
      fc.property(
        batchesArb(6),
        batchesArb(6),
        batchesArb(3),
        fc.record({ records: fc.integer({ min: 1, max: 5 }), bytes: fc.integer({ min: 50, max: 800 }) }),
        (prefix, more, after, limits) => {
          const a = new MerkleStateMachine();
          const b = new MerkleStateMachine();
          run(a, prefix, 1);
          const v = run(b, [...prefix, ...more], 1) - 1;
          const t = transfer(b, b.handle(), v, a, limits);
          expect(t.root).toBe(b.stateRoot());
          expectSameState(a, b);
          // the dedupe state came along: the ops a never executed count as executed
          for (const o of more.flat()) expect(a.hasExecuted(o)).toBe(true);
          after.forEach((batch, i) =>
            expect(a.execute(batch, v + 1 + i)).toEqual(b.execute(batch, v + 1 + i)),
          );
          expectSameState(a, b);
          // executing a batch already in the adopted state again executes nothing
          if (more.length > 0) expect(a.execute(more[0]!, v + after.length + 1).ops).toEqual([]);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("with small limits the state splits into many chunks (the test exercises splits)", () => {
    const b = new MerkleStateMachine();
    run(b, [KEYS.map((k) => op(k, "register", "set", { v: "x".repeat(60) }))], 1);
    const t = transfer(b, b.handle(), 1, new MerkleStateMachine(), SMALL);
    expect(t.root).toBe(b.stateRoot());
    expect(t.records).toBe(KEYS.length + 1); // every key and the one client's executed ids
    expect(t.chunks).toBeGreaterThan(2 * (KEYS.length / SMALL.records));
  });

  it("costs O(changes), not O(state): 2,000 keys, 20 changed", () => {
    const keys = Array.from({ length: 2000 }, (_, i) => `key-${i}`);
    const prefix: SignedOp[][] = [];
    for (let i = 0; i < keys.length; i += 100)
      prefix.push(keys.slice(i, i + 100).map((k, j) => op(k, "counter", "add", { n: j + 1 }, j % 2)));
    const changed = keys.filter((_, i) => i % 100 === 7).map((k) => op(k, "counter", "add", { n: 1 }, 2));
    expect(changed.length).toBe(20);
    const b = new MerkleStateMachine();
    const v = run(b, [...prefix, changed.slice(0, 10), changed.slice(10)], 1) - 1;
    // 20 changed user keys + 1 new executed-ids record (client C) out of 2,003 records.
    const changedRecords = changed.length + 1;
    expect(b.size).toBe(keys.length + 3);
    // Measured (records fetched / chunks fetched / subtrees reused):
    //   {records: 3, bytes: 400}:   53 / 131 / 90
    //   {records: 8, bytes: 2000}:  118 / 102 / 61
    //   {records: 32, bytes: 8000}: 53 / 131 / 902
    // A chunk of records is a whole subtree of ≤ limits.records, so each change brings its
    // neighbours along: records fetched ≤ changes × limits.records, chunks ≤ ~log2(n) per change.
    for (const limits of [SMALL, { records: 8, bytes: 2000 }, { records: 32, bytes: 8000 }]) {
      const a = new MerkleStateMachine();
      run(a, prefix, 1);
      const t = transfer(b, b.handle(), v, a, limits);
      expect(t.root).toBe(b.stateRoot());
      expectSameState(a, b, keys);
      expect(t.records).toBeLessThanOrEqual(changedRecords * limits.records);
      expect(t.records).toBeLessThan(b.size / 2);
      expect(t.chunks).toBeLessThanOrEqual(changedRecords * (Math.ceil(Math.log2(b.size)) + 2));
    }
  });

  it("serves a retained older state while executing past it, until collected", () => {
    fc.assert(
      fc.property(
        batchesArb(5),
        fc.array(fc.array(opArb, { minLength: 1, maxLength: 8 }), { minLength: 5, maxLength: 5 }),
        (prefix, later) => {
          const stores = memoryStores();
          const b = new MerkleStateMachine(stores);
          const v = run(b, prefix, 1) - 1;
          const h = b.handle();
          run(b, later, v + 1); // versions v+1 .. v+5
          expect(b.stateRoot()).not.toBe(h.root); // every later batch executes at least one op
          const old = new MerkleStateMachine();
          expect(transfer(b, h, v, old, SMALL).root).toBe(h.root);
          const retired = stores.nodes.retiredCount;
          const history = stores.records.historySize;
          expect(retired).toBeGreaterThan(0);
          expect(history).toBeGreaterThan(0);
          b.collect(v + 5);
          expect(stores.nodes.retiredCount).toBe(0);
          expect(stores.records.historySize).toBe(0);
          // the current state is still whole and servable
          const now = new MerkleStateMachine();
          expect(transfer(b, b.handle(), v + 5, now, SMALL).root).toBe(b.stateRoot());
          expectSameState(now, b);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("collect(v) keeps what states after v still need", () => {
    const stores = memoryStores();
    const b = new MerkleStateMachine(stores);
    run(b, [KEYS.map((k) => op(k, "counter", "add", { n: 1 }))], 1);
    run(b, [[op("k1", "counter", "add", { n: 1 })]], 2);
    const h2 = b.handle();
    run(b, [[op("k2", "counter", "add", { n: 1 })]], 3);
    b.collect(2); // frees what the state at 1 alone used; the state at 2 is replaced at 3: kept
    expect(stores.nodes.retiredCount).toBeGreaterThan(0);
    expect(transfer(b, h2, 2, new MerkleStateMachine(), SMALL).root).toBe(h2.root);
  });

  // A `delete` removes a key, so a node behind may hold a key the checkpoint lacks (deleted since):
  // adopting the checkpoint's subtree removes it, and the root is the checkpoint's.
  it("adopt removes a key this machine holds and the checkpoint lacks (deleted since), and reaches its root", () => {
    const a = new MerkleStateMachine();
    const b = new MerkleStateMachine();
    const common = [op("k1", "counter", "add", { n: 1 }), op("k2", "counter", "add", { n: 2 })];
    run(a, [common, [op("only-a", "counter", "add", { n: 3 }, 1)]], 1);
    run(b, [common, [op("k3", "counter", "add", { n: 4 })]], 1);
    const chunk = b.serveChunk(b.handle(), 2, "", { records: 100, bytes: 1e6 });
    const check = a.checkChunk("", b.stateRoot(), chunk);
    if (!check.ok || !("records" in check)) throw new Error("expected records");
    expect(a.adopt([["", check.records]], 3)).toBe(b.stateRoot());
    expect(a.get("only-a")).toBeUndefined();
    expect(a.proveKey("only-a").value).toBeNull();
    expect(a.proveKey("k3").value).toEqual(b.proveKey("k3").value);
  });
  // A machine that is not at a prefix of the checkpoint's log (it holds "x0", the checkpoint does
  // not) and whose extra key sits where the checkpoint has an empty subtree: the transfer never
  // fetches or stages that path, so adopt does not see the key.
  function diverged() {
    const a = new MerkleStateMachine();
    const b = new MerkleStateMachine();
    const common = Array.from({ length: 6 }, (_, j) => op(`c${j}`, "counter", "add", { n: 1 }));
    a.execute(common, 1);
    b.execute(common, 1);
    a.execute([op("x0", "counter", "add", { n: 1 })], 2);
    b.execute([op("y", "counter", "add", { n: 1 })], 2);
    b.execute([op("y2", "counter", "add", { n: 1 })], 3);
    return { a, b };
  }

  it("adopt removes a key where the checkpoint's subtree is empty (staged empty), and reaches its root", () => {
    const { a, b } = diverged();
    expect(transfer(b, b.handle(), 3, a, { records: 2, bytes: 1e6 }).root).toBe(b.stateRoot());
    expect(a.get("x0")).toBeUndefined();
  });
});

type Mutation =
  "state" | "key" | "type" | "drop" | "add" | "duplicate" | "offPath" | "pathMismatch" | "flipHex" | "swap";

const MUTATIONS: Mutation[] = [
  "state",
  "key",
  "type",
  "drop",
  "add",
  "duplicate",
  "offPath",
  "pathMismatch",
  "flipHex",
  "swap",
];

/** A key under `path` other than those given (searching: paths in these tests are short). */
function keyUnder(path: string, avoid: Set<string>): string | undefined {
  for (let i = 0; i < 1 << Math.min(16, path.length + 6); i++) {
    const k = `extra-${i}`;
    if (!avoid.has(k) && hasPrefix(keyHashOf(k), path)) return k;
  }
  return undefined;
}

/** `chunk` (for `path`) with one thing changed, and the path to check it at. */
function mutate(
  path: string,
  chunk: StateChunk,
  m: Mutation,
  pick: number,
  other: string,
): [string, StateChunk] {
  if ("split" in chunk) {
    const [l, r] = chunk.split;
    if (m === "swap") return [path, { split: [r, l] }];
    if (m === "pathMismatch")
      return [path === "" ? "0" : path.slice(0, -1) + (path.endsWith("0") ? "1" : "0"), chunk];
    const i = pick % 128;
    const s = (i < 64 ? l : r).split("");
    s[i % 64] = s[i % 64] === "0" ? "1" : "0";
    const flipped = s.join("");
    return [path, { split: i < 64 ? [flipped, r] : [l, flipped] }];
  }
  const recs = structuredClone(chunk.records);
  const i = recs.length === 0 ? 0 : pick % recs.length;
  const rec = recs[i];
  switch (m) {
    case "state":
      if (rec) rec[2] = { wrapped: rec[2] };
      break;
    case "key":
      if (rec) rec[0] = rec[0] + "x";
      break;
    case "type":
      if (rec) rec[1] = rec[1] === "counter" ? "register" : "counter";
      break;
    case "drop":
      recs.splice(i, 1);
      break;
    case "add": {
      const k = keyUnder(path, new Set(recs.map(([key]) => key)));
      recs.push([k ?? other, "counter", 1]);
      break;
    }
    case "duplicate":
      if (rec) recs.push(structuredClone(rec));
      break;
    case "offPath":
      recs.push([other, "counter", 1]);
      break;
    case "pathMismatch":
      // the sibling path: the records are not under it
      if (path !== "") return [path.slice(0, -1) + (path.endsWith("0") ? "1" : "0"), chunk];
      // at the root: the half the first record is not in
      return [rec && hasPrefix(keyHashOf(rec[0]), "0") ? "1" : "0", chunk];
    default:
      break;
  }
  return [path, { records: recs }];
}

describe("checkChunk against a Byzantine sender", () => {
  it("refuses any one change to an honest chunk, and never throws", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(opArb, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        fc.constantFrom(...MUTATIONS),
        fc.nat(),
        (batches, which, m, pick) => {
          const sm = new MerkleStateMachine();
          const v = run(sm, batches, 1) - 1;
          const chunks = allChunks(sm, v, SMALL);
          const [path, want, honest] = chunks[which % chunks.length]!;
          expect(sm.checkChunk(path, want, honest).ok).toBe(true);
          // a key outside this subtree
          const other = KEYS.find((k) => !hasPrefix(keyHashOf(k), path)) ?? "k0";
          const [at, bad] = mutate(path, honest, m, pick, other);
          const fresh = new MerkleStateMachine();
          const check = fresh.checkChunk(at, want, bad);
          const same = at === path && canonicalJson(bad as never) === canonicalJson(honest as never);
          // a split binds only its hashes: checked at another path it is still the content of that hash
          if (m === "pathMismatch" && "split" in honest) expect(check.ok).toBe(true);
          else expect(check.ok).toBe(same);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("refuses hostile records without throwing", () => {
    const sm = new MerkleStateMachine();
    sm.execute([op("c", "counter", "add", { n: 1 })], 1);
    const root = sm.stateRoot();
    const ek = executedKey(CLIENTS[0]!);
    const proto = JSON.parse('{"__proto__": {"polluted": true}, "adds": {}, "removed": []}') as never;
    const hostile: unknown[][] = [
      ["c", "counter", null],
      ["c", "counter", 1e308],
      ["c", "counter", Number.MAX_SAFE_INTEGER + 2],
      ["c", "counter", Infinity],
      ["c", "counter", NaN],
      ["c", "counter", -0],
      ["c", "set", proto],
      ["__proto__", "counter", 1],
      ["constructor", "counter", 1],
      ["c", "nosuchtype", 1],
      ["c", EXECUTED_TYPE, { floor: 1, above: [] }],
      ["", "counter", 1],
      ["\u0000x", "counter", 1],
      [ek, EXECUTED_TYPE, null],
      [ek, EXECUTED_TYPE, { floor: -1, above: [] }],
      [ek, EXECUTED_TYPE, { floor: 1.5, above: [] }],
      [ek, EXECUTED_TYPE, { floor: 0, above: [1] }],
      [ek, EXECUTED_TYPE, { floor: 0, above: [5, 3] }],
      [ek, EXECUTED_TYPE, { floor: 0, above: [3, 3] }],
      [ek, EXECUTED_TYPE, { floor: 1, above: [], extra: 1 }],
      [ek, EXECUTED_TYPE, { floor: 1, above: "x" }],
      [ek, EXECUTED_TYPE, [1, []]],
      [ek, "counter", 1],
      [ek, EXECUTED_TYPE, { floor: Number.MAX_SAFE_INTEGER + 1, above: [] }],
      ["c", "counter"],
      ["c", "counter", 1, "extra"],
    ];
    for (const rec of hostile) {
      for (const records of [[rec], [rec, ["c", "counter", 1]]]) {
        let check: ReturnType<MerkleStateMachine["checkChunk"]> | undefined;
        expect(() => (check = sm.checkChunk("", root, { records } as never))).not.toThrow();
        expect(check!.ok).toBe(false);
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // bad paths and hashes
    const honest = sm.serveChunk(sm.handle(), 1, "", SMALL);
    expect(sm.checkChunk("", root, honest).ok).toBe(true);
    for (const [path, want] of [
      ["2", root],
      ["0".repeat(257), root],
      ["", root.toUpperCase()],
      ["", root.slice(1)],
      ["", "0".repeat(64)],
    ] as const)
      expect(sm.checkChunk(path, want, honest).ok).toBe(false);
    expect(sm.checkChunk("", root, { split: ["0".repeat(64), "0".repeat(64)] }).ok).toBe(false);
    expect(sm.checkChunk("", root, { split: ["zz", root] } as never).ok).toBe(false);
    expect(sm.checkChunk("0".repeat(256), root, { split: [root, root] }).ok).toBe(false);
  });
  it("never throws on chunks that are not StateChunk-shaped", () => {
    const sm = new MerkleStateMachine();
    sm.execute([op("c", "counter", "add", { n: 1 })], 1);
    for (const chunk of [null, {}, { split: null }, { split: 5 }, { records: null }, { records: 5 }])
      expect(sm.checkChunk("", sm.stateRoot(), chunk as never)).toMatchObject({ ok: false });
  });
});

/** A checkpoint's key-hash prefix for `checkChunk`'s malformed-chunk cases. */
const D = "ab".repeat(32);
const BIG = { records: 1000, bytes: 1 << 20 };

function machine(keys: string[]): MerkleStateMachine {
  const sm = new MerkleStateMachine();
  sm.execute(
    keys.map((k) => op(k, "counter", "add", { n: 1 })),
    1,
  );
  return sm;
}

/** A key whose hash starts with the given bit. */
const keyWithBit = (bit: 0 | 1): string => {
  for (let i = 0; ; i++) if (keyHashOf(`q${i}`)[0]! >> 7 === bit) return `q${i}`;
};

describe("checkChunk: each malformed chunk gets its reason", () => {
  // Per test, not while tests are collected (test/support/lazy.ts says why).
  let sm: MerkleStateMachine;
  let root: string;
  let full: { records: ChunkRecord[] };
  beforeEach(() => {
    sm = machine(["a", "b", "c"]);
    root = sm.stateRoot();
    full = sm.serveChunk(sm.handle(), 1, "", BIG) as { records: ChunkRecord[] };
  });
  const check = (path: unknown, expected: unknown, chunk: unknown) =>
    sm.checkChunk(path as string, expected as string, chunk as StateChunk);

  it("accepts the honest whole-state chunk", () => {
    expect(full.records.length).toBe(4); // three keys and the client's executed-ids record
    expect(check("", root, full)).toEqual({ ok: true, records: full.records });
  });

  it("bad_path: not a string, not bits, too long, or a non-digest expected hash", () => {
    expect(check(5, root, full)).toEqual({ ok: false, reason: "bad_path" });
    expect(check("2", root, full)).toEqual({ ok: false, reason: "bad_path" });
    for (const bits of [0, 1, 10]) expect(check(bits, root, full)).toEqual({ ok: false, reason: "bad_path" });
    expect(check("0".repeat(257), D, { records: [] })).toEqual({ ok: false, reason: "bad_path" });
    expect(check("", "nothex", full)).toEqual({ ok: false, reason: "bad_path" });
  });

  it("a path of the full depth (256 bits) is a path: its records are hash-checked, it cannot split", () => {
    expect(check("0".repeat(256), D, { records: [] })).toEqual({ ok: false, reason: "records_hash" });
    expect(check("0".repeat(256), D, { split: [D, D] })).toEqual({ ok: false, reason: "bad_split" });
  });

  it("bad_chunk: null, a string, neither split nor records, records not a list", () => {
    expect(check("", root, null)).toEqual({ ok: false, reason: "bad_chunk" });
    expect(check("", root, "x")).toEqual({ ok: false, reason: "bad_chunk" });
    expect(check("", root, {})).toEqual({ ok: false, reason: "bad_chunk" });
    expect(check("", root, { records: 5 })).toEqual({ ok: false, reason: "bad_chunk" });
  });

  it("empty_subtree: nothing to fetch under the empty hash", () => {
    expect(check("", toHex(EMPTY_HASH), full)).toEqual({ ok: false, reason: "empty_subtree" });
  });

  it("bad_split: not a pair of digests; split_hash: a pair that does not hash to the expected one", () => {
    expect(check("", root, { split: "x" })).toEqual({ ok: false, reason: "bad_split" });
    expect(check("", root, { split: [D, D, D] })).toEqual({ ok: false, reason: "bad_split" });
    expect(check("", root, { split: [D, "zz"] })).toEqual({ ok: false, reason: "bad_split" });
    expect(check("", root, { split: [D, D] })).toEqual({ ok: false, reason: "split_hash" });
  });

  it("bad_record: each malformed item, a repeated key, a state that cannot be hashed", () => {
    const good = full.records[0]!;
    const bad: unknown[] = [
      "x",
      [good[0], good[1]],
      [5, good[1], good[2]],
      [good[0], 5, good[2]],
      ["", good[1], good[2]],
      [good[0], "nope", good[2]],
      [executedKey("c"), EXECUTED_TYPE, null],
      [executedKey("c"), "counter", { floor: 1, above: [] }],
      [good[0], "counter", undefined],
      [...good, "extra"], // an honest record with a fourth element
      { 0: good[0], 1: good[1], 2: good[2], length: 3 }, // array-like, not an array
    ];
    for (const item of bad)
      expect(check("", root, { records: [item] }), JSON.stringify(item)).toEqual({
        ok: false,
        reason: "bad_record",
      });
    expect(check("", root, { records: [good, good] })).toEqual({ ok: false, reason: "bad_record" });
  });

  it("record_off_path: a record whose key hash is not under the path", () => {
    const one = machine([keyWithBit(1)]);
    const recs = (one.serveChunk(one.handle(), 1, "", BIG) as { records: ChunkRecord[] }).records;
    expect(one.checkChunk("0", D, { records: recs })).toEqual({ ok: false, reason: "record_off_path" });
  });
});

describe("serveChunk at its edges", () => {
  it("an empty state serves an empty records chunk", () => {
    const sm = new MerkleStateMachine();
    expect(sm.serveChunk(sm.handle(), 0, "", BIG)).toEqual({ records: [] });
  });

  it("splits exactly when the records' bytes pass the limit", () => {
    const sm = machine(["a", "b", "c", "d"]);
    const full = sm.serveChunk(sm.handle(), 1, "", BIG) as { records: ChunkRecord[] };
    const bytes = full.records.reduce((n, r) => n + utf8Length(canonicalJson(r)), 0);
    expect(sm.serveChunk(sm.handle(), 1, "", { records: 1000, bytes })).toEqual(full);
    expect("split" in sm.serveChunk(sm.handle(), 1, "", { records: 1000, bytes: bytes - 1 })).toBe(true);
  });

  it("refuses (a clear error) to serve a leaf whose record it does not have", () => {
    const sm = machine(["a", "b"]);
    const noRecords = new MerkleStateMachine({ records: new MemoryRecordStore(), nodes: sm.stores.nodes });
    expect(() => noRecords.serveChunk(noRecords.handle(), 1, "", BIG)).toThrow(/a leaf without its record/);
    // the key is known, but not as of the version asked for
    const later = new MemoryRecordStore();
    for (const k of ["a", "b"]) later.setAt(k, sm.get(k)!, 10);
    const stale = new MerkleStateMachine({ records: later, nodes: sm.stores.nodes });
    expect(() => stale.serveChunk(stale.handle(), 1, "", BIG)).toThrow(/a leaf without its record/);
  });
});

describe("adopt refuses or skips", () => {
  it("drops a key this node has and the checkpoint lacks, even with as many keys", () => {
    const mine = machine([keyWithBit(0)]);
    const theirs = machine(["other"]);
    const recs = (theirs.serveChunk(theirs.handle(), 1, "", BIG) as { records: ChunkRecord[] }).records;
    expect(recs.length).toBe(2); // "other" and the same client's executed-ids record
    expect(mine.adopt([["", recs]], 2)).toBe(theirs.stateRoot());
    expect(mine.get(keyWithBit(0))).toBeUndefined();
  });

  it("writes nothing for records it already has unchanged", () => {
    const sm = machine(["a", "b"]);
    const recs = (sm.serveChunk(sm.handle(), 1, "", BIG) as { records: ChunkRecord[] }).records;
    const records = sm.stores.records as MemoryRecordStore;
    const before = records.historySize;
    expect(sm.adopt([["", recs]], 2)).toBe(sm.stateRoot());
    expect(records.historySize).toBe(before);
  });
});
