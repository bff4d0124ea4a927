/**
 * `parseEnvelope` (shared/pbft/validate.ts) against every message the core really sends: taken
 * from clusters that order ops, change view and transfer state, each envelope is accepted as sent,
 * and refused once its structure is broken anywhere — an unknown field added to any object in it, a
 * field removed, or a value swapped for one of another type. (Client ops inside are `parseOp`'s:
 * test/unit/wire/parse-op-fuzz.test.ts; a leaf swapped within a type is the core's and the boundary's.)
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_PBFT_CONFIG } from "../../../shared/pbft/config.js";
import type { Envelope } from "../../../shared/pbft/messages.js";
import { parseEnvelope } from "../../../shared/pbft/validate.js";
import { lazy } from "../../support/lazy.js";
import { Harness, makeOp, UNIT_CONFIG } from "./harness.js";

const LIM = { n: 4, f: 1, cfg: { ...DEFAULT_PBFT_CONFIG, ...UNIT_CONFIG } };

/** Every envelope delivered in three runs: normal case, a view change, a state transfer. */
function sentEnvelopes(): Envelope[] {
  const seen: Envelope[] = [];
  const record = (h: Harness, drop: (to: number, env: Envelope) => boolean = () => false) =>
    void (h.drop = (to, env) => (seen.push(env), drop(to, env)));
  // normal case, with STATUS rounds
  const a = new Harness();
  record(a);
  a.tickAll(1_000);
  a.order(1, 3);
  for (let t = 1; t <= 3; t++) {
    a.tickAll(1_000 + t * 2_000);
    a.run();
  }
  // a silent primary: view change to view 1
  const b = new Harness();
  record(b, (to, env) => env.from === 0 || to === 0);
  b.tickAll(1_000);
  b.order(1, 2, [1, 2, 3]);
  for (let t = 1; t <= 400 && b.nodes[1]!.state.view === 0; t++) {
    b.tickAll(1_000 + t * 100);
    b.run();
  }
  expect(b.nodes[1]!.state.view).toBeGreaterThan(0);
  // node 3 cut off while the others move two checkpoints on, then back: it catches up by STATE
  const c = new Harness();
  let cut = true;
  record(c, (to, env) => cut && (to === 3 || env.from === 3));
  c.tickAll(1_000);
  c.order(1, 9, [0, 1, 2]);
  cut = false;
  for (let t = 1; t <= 200 && c.nodes[3]!.state.lastExecuted < 8; t++) {
    c.tickAll(1_000 + t * 100);
    c.run();
  }
  expect(c.nodes[3]!.state.lastExecuted).toBeGreaterThanOrEqual(8);
  return seen;
}

type Path = (string | number)[];
/** Every object in `v` (with its path), not descending into client ops. */
function* objects(v: unknown, path: Path = []): Generator<[Path, Record<string, unknown> | unknown[]]> {
  if (typeof v !== "object" || v === null) return;
  if (path[path.length - 2] === "ops") return; // a client op: parseOp's
  if (path[path.length - 3] === "records" && path[path.length - 1] === 2) return; // a record's value: any JSON, checked by hash
  yield [path, v as Record<string, unknown>];
  for (const [k, x] of Object.entries(v)) yield* objects(x, [...path, Array.isArray(v) ? Number(k) : k]);
}
const at = (root: unknown, path: Path) =>
  path.reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], root);
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
/** A value of another JSON type than `v`. */
const otherType = (v: unknown): unknown =>
  typeof v === "number"
    ? String(v)
    : typeof v === "string"
      ? 7
      : typeof v === "boolean"
        ? 0
        : Array.isArray(v)
          ? {}
          : v === null
            ? 1
            : [];

// (a CERTIFICATE goes to a peer only on a STATUS retransmit to one that lacks it: these runs send
// none; boundary-open.test.ts opens one)
const TYPES = [
  "checkpoint",
  "commit",
  "committed",
  "new-view",
  "ops",
  "pre-prepare",
  "prepare",
  "share",
  "state",
  "state-chunk",
  "state-fetch",
  "status",
  "view-change",
];

describe("parseEnvelope against the messages the core sends", () => {
  // Built inside the first test that asks, not while tests are collected: code run outside a test
  // counts as module-level for mutation testing, and Stryker then runs its mutants unactivated.
  const corpus = lazy(() => {
    const envs = sentEnvelopes();
    const byType = new Map<string, Envelope>();
    for (const e of envs) if (!byType.has(e.msg.type)) byType.set(e.msg.type, e);
    return { envs, byType };
  });

  it("sees every kind of message, and accepts each as sent", () => {
    const { envs, byType } = corpus();
    expect([...byType.keys()].sort()).toEqual(TYPES);
    for (const e of envs) expect(parseEnvelope(clone(e), LIM), e.msg.type).not.toBeNull();
  });

  it("a proposal rides only on a PRE-PREPARE or a COMMITTED", () => {
    const { byType } = corpus();
    const { proposal } = byType.get("pre-prepare")!;
    expect(proposal).toBeDefined();
    for (const [type, env] of byType) {
      const wants = type === "pre-prepare" || type === "committed";
      expect(parseEnvelope({ ...clone(env), proposal: clone(proposal) }, LIM) === null, type).toBe(!wants);
    }
  });

  for (const type of TYPES)
    it(`${type}: refused with a field added, removed or of another type anywhere`, () => {
      const env = corpus().byType.get(type)!;
      expect(env, type).toBeDefined();
      const tried: string[] = [];
      for (const [path, obj] of objects(env)) {
        if (Array.isArray(obj)) {
          const e = clone(env);
          (at(e, path) as unknown[]).push({ x: 1 });
          tried.push(`${path.join(".")}[+]`);
          expect(parseEnvelope(e, LIM), `${type} ${path.join(".")}: an extra element`).toBeNull();
          continue;
        }
        const added = clone(env);
        (at(added, path) as Record<string, unknown>).unknownField = 1;
        expect(parseEnvelope(added, LIM), `${type} ${path.join(".")}: an added field`).toBeNull();
        for (const k of Object.keys(obj)) {
          const where = [...path, k].join(".");
          if (where === "proposal" && type !== "pre-prepare" && type !== "committed") continue; // optional
          tried.push(where);
          const removed = clone(env);
          delete (at(removed, path) as Record<string, unknown>)[k];
          expect(parseEnvelope(removed, LIM), `${type} ${where}: removed`).toBeNull();
          const swapped = clone(env);
          (at(swapped, path) as Record<string, unknown>)[k] = otherType(obj[k]);
          expect(parseEnvelope(swapped, LIM), `${type} ${where}: of another type`).toBeNull();
        }
      }
      expect(tried.length).toBeGreaterThan(2);
    });
});
