/**
 * An equivocating client's race at three replicas: version `a` accepted at weur, `b` at enam, apac
 * takes both. Once the replicas agree on the key, `GET /v1/ops/:id` agrees too: the same status,
 * reason and value at every replica, the winning version's outcome as its origin decided it.
 *
 * Deterministic: every replica's sends are dropped (so no queue delivery and no evidence share runs
 * on its own) and each version goes to each replica through the real queue handler, one target at a
 * time, in an enumerated order. With the shares held back the replicas do not touch each other's
 * rows, so an arrival order is the order each replica sees the two versions in: an origin holds its
 * own first; apac takes either first, from the queue or from the client itself (a third origin).
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { equivocationWinner } from "../../shared/equivocation.js";
import { opIdOf, type SignedOp } from "../../shared/ops.js";
import type { OpReply, OpStatusReply, TentativeResult } from "../../shared/replies.js";
import type { ReplicatedOp } from "../../shared/replication.js";
import { deliver, setFaults } from "./delivery-helpers.js";
import { post, read, stub, TestClient } from "./helpers.js";

const [A, B, C] = ["weur", "enam", "apac"] as const;
const THREE = [A, B, C];

/** The entry `origin`'s drain would have sent for `op` (its own log holds it near the head). */
async function ownEntry(origin: string, op: SignedOp): Promise<ReplicatedOp> {
  const page = (after: number, limit: number) =>
    stub(origin)
      .opsSince(origin, "test", after, limit)
      .then((t) => JSON.parse(t) as { entries: ReplicatedOp[]; head: number });
  const { head } = await page(0, 1);
  const entry = (await page(Math.max(0, head - 8), 8)).entries.find((e) => e.op.sig === op.sig);
  expect(entry, `${origin} holds ${opIdOf(op)}`).toBeDefined();
  return entry!;
}

async function opStatus(opId: string, replica: string): Promise<OpStatusReply> {
  const res = await SELF.fetch(`https://edge.test/v1/ops/${encodeURIComponent(opId)}?replica=${replica}`);
  expect(res.status).toBe(200);
  return (await res.json()) as OpStatusReply;
}

async function accept(op: SignedOp, replica: string): Promise<TentativeResult> {
  const res = await post(op, replica);
  expect(res.status).toBe(200);
  return ((await res.json()) as OpReply).tentative;
}

/** An op reply's outcome as `GET /v1/ops/:id` reports it (which does not say `superseded`). */
const outcome = ({ superseded: _, ...t }: TentativeResult) => t;

type Version = (c: TestClient, key: string, ts: number) => Promise<SignedOp>;
/** Two versions of one op (seq 1, so under one op id), decided at origins that hold nothing of the key. */
const PAIRS: [name: string, a: Version, b: Version][] = [
  [
    "counter adds",
    (c, k, ts) => c.sign(k, "counter", "add", { n: 1 }, { seq: 1, ts }),
    (c, k, ts) => c.sign(k, "counter", "add", { n: 100 }, { seq: 1, ts }),
  ],
  [
    "account withdraw (rejected: nothing there) and deposit",
    (c, k, ts) => c.sign(k, "account", "withdraw", { n: 5 }, { seq: 1, ts }),
    (c, k, ts) => c.sign(k, "account", "deposit", { n: 5 }, { seq: 1, ts }),
  ],
  [
    "register writes",
    (c, k, ts) => c.sign(k, "register", "set", { v: "a" }, { seq: 1, ts }),
    (c, k, ts) => c.sign(k, "register", "set", { v: "b" }, { seq: 1, ts }),
  ],
  [
    "set remove and add",
    (c, k, ts) => c.sign(k, "set", "remove", { x: "x" }, { seq: 1, ts }),
    (c, k, ts) => c.sign(k, "set", "add", { x: "x" }, { seq: 1, ts }),
  ],
];

/** apac's arrival orders: which version it holds first, and whether the client or the queue brought it. */
const ORDERS = (["a", "b"] as const).flatMap((first) =>
  (["queue", "client"] as const).flatMap((via) =>
    (["a", "b"] as const).map((winner) => ({ first, via, winner })),
  ),
);

describe("an equivocating client's race: GET /v1/ops/:id agrees at every replica", () => {
  for (const [name, versionA, versionB] of PAIRS)
    it(`${name}: in every arrival order, the winner's status and value everywhere`, async () => {
      for (const r of THREE) await setFaults(r, { dropQueueSends: true });
      try {
        for (const { first, via, winner } of ORDERS) {
          const race = `${first} first at ${C} via ${via}, ${winner} wins`;
          const c = await TestClient.create();
          const key = `eqs/${crypto.randomUUID()}`;
          const a = await versionA(c, key, Date.now());
          // re-signed (another ts) until the version wanted wins: both winners, whatever the hashes
          let b = await versionB(c, key, a.ts);
          while ((equivocationWinner(a, b) === a) !== (winner === "a")) b = await versionB(c, key, b.ts + 1);
          const won = winner === "a" ? a : b;
          const decided = { a: await accept(a, A), b: await accept(b, B) }[winner];
          const entries = { a: await ownEntry(A, a), b: await ownEntry(B, b) };
          const origins = { a: A, b: B };
          const send = (v: "a" | "b", to: string) =>
            deliver([{ origin: origins[v], entries: JSON.stringify([entries[v]]), targets: [to] }]);

          const second = first === "a" ? "b" : "a";
          if (via === "client") await accept(first === "a" ? a : b, C);
          await send(first, C); // a duplicate when the client brought it
          await send(second, C);
          await send("b", A);
          await send("a", B);

          const values = await Promise.all(THREE.map((r) => read(key, r)));
          expect(new Set(values.map((v) => JSON.stringify([v.type, v.value]))).size, `${race}: one key`).toBe(
            1,
          );
          for (const r of THREE) {
            const s = await opStatus(opIdOf(won), r);
            expect(s.tentative, `${race}: ${r}`).toEqual(outcome(decided));
          }
        }
      } finally {
        for (const r of THREE) await setFaults(r, {});
      }
    });
});
