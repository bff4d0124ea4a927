/**
 * Registers are ordered by the replicas' hybrid logical clocks, not by the client's ts: a far-future
 * ts can't pin a value, a faulty replica's far-future stamp is refused, a replica's clock survives a
 * restart, and a write that lost at a replica says so there.
 */
import { describe, expect, it } from "vitest";
import { HLC_AHEAD_MAX_MS, type Hlc } from "../../shared/hlc.js";
import { decideOp } from "../../shared/materialize.js";
import type { SignedOp } from "../../shared/ops.js";
import type { OpReply } from "../../shared/replies.js";
import { REPLICAS, eventually, post, read, stub, TestClient } from "./helpers.js";
import { restartAll } from "./state-digest.js";
import { applyRemote } from "./delivery-helpers.js";

/** What an origin replica stamped `stamp` would send for `op`. */
function entry(op: SignedOp, stamp: Hlc) {
  const d = decideOp(undefined, op, { kind: "origin", stamp });
  return { op, status: d.status, effect: d.effect };
}

const remote = (to: string, entries: unknown[]) =>
  applyRemote(to, { origin: "weur", entries: JSON.stringify(entries) });

describe("register clock", () => {
  it("a write with ts = now + 4m59s does not pin the register: later honest writes win everywhere", async () => {
    const attacker = await TestClient.create();
    const honest = await TestClient.create();
    const key = "clock/pin";
    const pin = await attacker.sign(key, "register", "set", { v: "pinned" }, { ts: Date.now() + 299_000 });
    expect((await post(pin, "weur")).status).toBe(200);
    const r = (await (
      await post(await honest.sign(key, "register", "set", { v: "honest" }), "weur")
    ).json()) as OpReply;
    expect(r.tentative).toEqual({ status: "ok", value: "honest" });
    await eventually(async () => {
      for (const x of REPLICAS) expect(await read(key, x)).toMatchObject({ value: "honest" });
    });
    // and at another replica, once the pinned write has arrived there
    const again = (await (
      await post(await honest.sign(key, "register", "set", { v: "later" }), "apac")
    ).json()) as OpReply;
    expect(again.tentative).toEqual({ status: "ok", value: "later" });
  });

  it("a remote stamp too far ahead is refused and counted; one within the bound is absorbed, across a restart", async () => {
    const c = await TestClient.create();
    const key = "clock/ahead";
    const far = entry(await c.sign(key, "register", "set", { v: "far" }), {
      wall: Date.now() + 60_000,
      logical: 0,
    });
    expect(await remote("apac", [far])).toMatchObject({ applied: 0, stampAhead: 1 });
    expect(await read(key, "apac")).toMatchObject({ type: null });

    const near = entry(await c.sign(key, "register", "set", { v: "near" }), {
      wall: Date.now() + HLC_AHEAD_MAX_MS - 500,
      logical: 7,
    });
    expect(await remote("apac", [near])).toMatchObject({ applied: 1, stampAhead: 0 });
    await restartAll(); // the clock must come back from storage, not from memory
    const r = (await (
      await post(await c.sign(key, "register", "set", { v: "local" }), "apac")
    ).json()) as OpReply;
    expect(r.tentative).toEqual({ status: "ok", value: "local" });
  });

  it("a remote write older than the register's winner is applied as lost, and a reply from there says so", async () => {
    const c = await TestClient.create();
    const key = "clock/lost";
    expect((await post(await c.sign(key, "register", "set", { v: "winner" }), "enam")).status).toBe(200);
    const old = entry(await c.sign(key, "register", "set", { v: "old" }), {
      wall: Date.now() - 10_000,
      logical: 0,
    });
    expect(await remote("enam", [old])).toMatchObject({ applied: 1 });
    expect(await read(key, "enam")).toMatchObject({ value: "winner" });
    // the same signed op re-sent there (a failover): the stored outcome says it lost
    const r = (await (await post(old.op, "enam")).json()) as OpReply;
    expect(r).toMatchObject({
      duplicate: true,
      tentative: { status: "ok", value: "winner", superseded: true },
    });
  });
});
