/**
 * The op log is collected once its ops are delivered everywhere and past the dedupe horizon (0 in
 * the test config), so its size stays bounded however many ops went through; and a retry of a
 * collected op is still never applied twice (409 op_expired at an origin, a duplicate at a receiver).
 */
import { describe, expect, it } from "vitest";
import type { ReplicateMessage } from "../../shared/replication.js";
import type { SignedOp } from "../../shared/ops.js";
import { REPLICAS, eventually, post, read, stub, TestClient } from "./helpers.js";
import { applyRemote, deliver, ownLog, tick } from "./delivery-helpers.js";

const N = 50;

async function writeRound(c: TestClient, key: string, total: number): Promise<SignedOp[]> {
  const ops: SignedOp[] = [];
  for (let i = 0; i < N; i++) {
    const op = await c.sign(key, "counter", "add", { n: 1 });
    expect((await post(op, "weur")).status).toBe(200);
    ops.push(op);
  }
  // the real queue delivers; the consumer confirms to weur
  await eventually(async () => {
    for (const r of REPLICAS) expect(await read(key, r)).toMatchObject({ value: total });
  });
  return ops;
}

/** Two anti-entropy rounds (caught up with every peer, every confirmation in), then collection. */
async function settleAndCollect(): Promise<Record<string, number>> {
  for (let i = 0; i < 2; i++) for (const r of REPLICAS) await tick(r, ["antiEntropy"]);
  for (const r of REPLICAS) await tick(r, ["gc"]);
  const out: Record<string, number> = {};
  for (const r of REPLICAS) out[r] = (await stub(r).stats()).ops;
  return out;
}

describe("op log collection", () => {
  it(`stays bounded over rounds of ${N} delivered ops, and a collected op is never applied twice`, async () => {
    const c = await TestClient.create();
    const key = "gc/k";
    const round1 = await writeRound(c, key, N);
    const log = (await ownLog("weur")).filter((e) => (e as { op: SignedOp }).op.key === key);
    expect(log.length).toBe(N);
    const after1 = await settleAndCollect();
    for (const r of REPLICAS) expect(after1[r], r).toBeLessThan(N);

    await writeRound(c, key, 2 * N);
    const after2 = await settleAndCollect();
    for (const r of REPLICAS) expect(after2[r], `${r}: no growth`).toBeLessThanOrEqual(after1[r]!);

    // a client's retry of a collected op, at its origin or through another replica: refused
    for (const r of ["weur", "enam"]) {
      const res = await post(round1[0], r);
      expect(res.status).toBe(409);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("op_expired");
    }
    // the origin's message re-sent late (same position) and a copy via another origin (no position)
    const late: ReplicateMessage = { origin: "weur", entries: JSON.stringify(log.slice(0, 5)) };
    expect((await deliver([late])).explicitAcks.length).toBe(1);
    const { pos: _pos, ...unpositioned } = log[0] as { pos: number };
    const viaApac = await applyRemote("enam", {
      origin: "apac",
      entries: JSON.stringify([unpositioned]),
    });
    expect(viaApac).toMatchObject({ applied: 0, duplicates: 1 });
    for (const r of REPLICAS) expect(await read(key, r)).toMatchObject({ value: 2 * N });
  }, 90_000);
});
