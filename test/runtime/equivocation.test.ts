/**
 * An equivocating client: one op id, two validly signed contents, sent to two replicas. Through the
 * real queue, every replica ends with the same version (the deterministic winner), keeps the
 * evidence and refuses the client from then on.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { equivocationWinner } from "../../shared/equivocation.js";
import { verifyOp } from "../../shared/ops.js";
import type { ErrorReply, EvidenceReply } from "../../shared/replies.js";
import { setFaults, tick } from "./delivery-helpers.js";
import { REPLICAS, eventually, post, read, stub, TestClient } from "./helpers.js";

async function evidence(client: string, replica: string): Promise<EvidenceReply> {
  const res = await SELF.fetch(
    `https://edge.test/v1/clients/${encodeURIComponent(client)}/evidence?replica=${replica}`,
  );
  expect(res.status).toBe(200);
  return (await res.json()) as EvidenceReply;
}

describe("equivocating client", () => {
  it("same client:seq, different content at two replicas: all converge on the winner, refuse the client, keep evidence", async () => {
    const c = await TestClient.create();
    const key = "eq/counter";
    const a = await c.sign(key, "counter", "add", { n: 1 });
    const b = await c.sign(key, "counter", "add", { n: 100 }, { seq: a.seq });
    expect((await post(a, "weur")).status).toBe(200);
    expect((await post(b, "apac")).status).toBe(200);
    const winner = equivocationWinner(a, b);

    // through the queue only (anti-entropy is hours away here); a consumer retry backs off 2 s, 4 s, ...
    await eventually(async () => {
      for (const r of REPLICAS) expect(await read(key, r)).toMatchObject({ value: winner.args.n });
      for (const r of REPLICAS) expect((await evidence(c.key.publicKey, r)).refused).toBe(true);
    }, 20_000);
    // the same record everywhere, hidden state included, and the op log holds the winner
    const records = await Promise.all(
      REPLICAS.map((r) =>
        stub(r)
          .read(r, key)
          .then((x) => (x.ok ? x.value.value : x)),
      ),
    );
    expect(new Set(records.map((x) => JSON.stringify(x))).size).toBe(1);

    for (const r of ["weur", "apac"]) {
      const ev = await evidence(c.key.publicKey, r);
      expect(ev.evidence).toHaveLength(1);
      const pair = ev.evidence[0]!;
      expect([pair.kept, pair.other].map((o) => o.args.n).sort((x, y) => Number(x) - Number(y))).toEqual([
        1, 100,
      ]);
      expect(pair.kept).toEqual(winner);
      expect(await verifyOp(pair.kept)).toBe(true);
      expect(await verifyOp(pair.other)).toBe(true);

      const res = await post(await c.sign(key, "counter", "add", { n: 5 }), r);
      expect(res.status).toBe(403);
      expect((await res.json()) as ErrorReply).toMatchObject({
        error: { code: "client_equivocated" },
        kind: "error",
        replica: r,
      });
    }
    expect(await read(key, "weur")).toMatchObject({ value: winner.args.n });
  });

  it("a register equivocated across two keys: the loser's key is as if never written, the winner's holds it", async () => {
    const c = await TestClient.create();
    const a = await c.sign("eq/reg-a", "register", "set", { v: "a" });
    const b = await c.sign("eq/reg-b", "register", "set", { v: "b" }, { seq: a.seq });
    expect((await post(a, "enam")).status).toBe(200);
    expect((await post(b, "weur")).status).toBe(200);
    const [win, lose] = equivocationWinner(a, b) === a ? [a, b] : [b, a];
    await eventually(async () => {
      for (const r of REPLICAS) {
        expect(await read(win.key, r)).toMatchObject({ type: "register", value: win.args.v });
        expect(await read(lose.key, r)).toMatchObject({ type: null, value: null });
      }
    });
  });

  // The race behind a flaky run: the origin's own version had not left it yet when the other one
  // arrived and took its log row, so the losing version would never reach anyone else. The replica
  // that learns of an equivocation shares both versions, so every replica refuses the client.
  it("the losing version never leaves its origin: the evidence is shared, every replica refuses the client", async () => {
    const c = await TestClient.create();
    const key = "eq/unsent";
    const a = await c.sign(key, "counter", "add", { n: 1 });
    const b = await c.sign(key, "counter", "add", { n: 100 }, { seq: a.seq });
    await setFaults("weur", { dropQueueSends: true });
    try {
      expect((await post(a, "weur")).status).toBe(200);
      await tick("weur", ["drain"]); // a's only message is lost
    } finally {
      await setFaults("weur", {});
    }
    expect((await post(b, "apac")).status).toBe(200);
    const winner = equivocationWinner(a, b);
    await eventually(async () => {
      for (const r of REPLICAS) {
        expect(await read(key, r)).toMatchObject({ value: winner.args.n });
        const ev = await evidence(c.key.publicKey, r);
        expect(ev.refused, `${r} refuses the client`).toBe(true);
        expect(ev.evidence[0]!.kept).toEqual(winner);
      }
    }, 20_000);
  });

  // A refusal changes nothing (bad-input.test.ts checks every table): the origin keeps no evidence
  // of a replay it refused, and does not hold it against the client, whose SDK re-signs under a
  // fresh seq after losing its counter. Only two versions that both spread are evidence.
  it("a second op under a used seq at the origin is seq_replayed: nothing kept, the client not refused", async () => {
    const c = await TestClient.create();
    const a = await c.sign("eq/origin", "counter", "add", { n: 1 });
    const b = await c.sign("eq/origin", "counter", "add", { n: 2 }, { seq: a.seq });
    expect((await post(a, "enam")).status).toBe(200);
    const res = await post(b, "enam");
    expect(res.status).toBe(409);
    expect(((await res.json()) as ErrorReply).error.code).toBe("seq_replayed");
    const ev = await evidence(c.key.publicKey, "enam");
    expect(ev).toMatchObject({ refused: false, evidence: [] });
    expect((await post(await c.sign("eq/origin", "counter", "add", { n: 3 }), "enam")).status).toBe(200);
  });
});
