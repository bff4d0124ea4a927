/**
 * One acceptance suite for the EC replica core (shared/replica/) over its store, run by every host:
 * the memory store in plain Node (test/unit/replica/core-memory.test.ts) and the EdgeReplica's
 * SQLite store inside workerd (test/runtime/replica-core-sqlite.test.ts). Each case steps the core
 * as the Durable Object does — signatures verified first (real Ed25519), then one step inside the
 * host's transaction — and checks the outcome, the report and what the store holds afterwards.
 */
import { describe, expect, it } from "vitest";
import { generateKeyPair, type KeyPair } from "../../shared/crypto/keys.js";
import { handle, isHandled, type CursorState } from "../../shared/delivery/origin-cursor.js";
import { equivocationWinner } from "../../shared/equivocation.js";
import { HLC_AHEAD_MAX_MS, HLC_ZERO, type Hlc } from "../../shared/hlc.js";
import { decideOp, valueOf, type KeyRecord } from "../../shared/materialize.js";
import { opIdOf, signOp, verifyOp, type OpBody, type SignedOp } from "../../shared/ops.js";
import { applyEntries, screenEntries, type ApplyResult } from "../../shared/replica/apply.js";
import type { ReplicaStateStore } from "../../shared/replica/store.js";
import { submitOp, type SubmitResult } from "../../shared/replica/submit.js";
import type { ReplicatedOp } from "../../shared/replication.js";

export interface ReplicaStoreContext {
  /** A fresh, empty store. */
  open(): ReplicaStateStore;
  /** Run `body` as the host's write transaction (all of its writes or, on a throw, none). */
  transaction<T>(body: () => T): T;
}

export interface ReplicaStoreHost {
  /** Run a test body where the store can be used (e.g. inside a Durable Object). */
  run(body: (ctx: ReplicaStoreContext) => Promise<void>): Promise<void>;
}

const ME = "weur";
const PEER = "enam";
const NOW = 1_700_000_000_000;

/** A replica under test: its store, clock, cursor for PEER, and the op ids the certified order holds. */
class Replica {
  hlc: Hlc = HLC_ZERO;
  cursor: CursorState = { cursor: 0, above: [] };
  readonly certified = new Set<string>();
  /** The certified state's records, as a test sets them (an equivocation rebuilds a key from them). */
  readonly certifiedRecords = new Map<string, KeyRecord>();

  constructor(
    readonly store: ReplicaStateStore,
    readonly ctx: ReplicaStoreContext,
  ) {}

  private isCertified = (op: SignedOp) => this.certified.has(opIdOf(op));

  /** A client's op at this replica (the origin), as `EdgeReplica.submit` steps it. */
  submit(op: SignedOp, nowMs = NOW): SubmitResult {
    const r = this.ctx.transaction(() =>
      submitOp(this.store, { op, me: ME, nowMs, hlc: this.hlc, isCertified: this.isCertified }),
    );
    if (r.kind === "accepted") this.hlc = r.hlc;
    return r;
  }

  /** Entries from PEER, as `EdgeReplica.applyEntries` steps them: screen, verify, apply, move the cursor. */
  async receive(entries: readonly unknown[], nowMs = NOW): Promise<ApplyResult> {
    const seen = (pos: number | undefined) => pos !== undefined && isHandled(this.cursor, pos);
    // as from the wire: plain JSON, parsed by the core
    const raw = JSON.parse(JSON.stringify(entries)) as unknown[];
    const screened = screenEntries(this.store, PEER, raw, seen);
    const verified = await Promise.all(screened.fresh.map((e) => verifyOp(e.op)));
    const r = this.ctx.transaction(() =>
      applyEntries(this.store, {
        origin: PEER,
        screened,
        verified,
        nowMs,
        hlc: this.hlc,
        isCertified: this.isCertified,
        certifiedRecord: (key) => this.certifiedRecords.get(key),
        seen,
      }),
    );
    this.hlc = r.hlc;
    this.cursor = handle(this.cursor, r.handled);
    return r;
  }
}

/** A client with its own key and seqs. */
class Client {
  constructor(readonly key: KeyPair) {}
  static async make(): Promise<Client> {
    return new Client(await generateKeyPair());
  }
  op(seq: number, key: string, type: OpBody["type"], op: string, args: OpBody["args"]): Promise<SignedOp> {
    return signOp(this.key.secret, { client: this.key.publicKey, seq, key, type, op, args, ts: NOW });
  }
}

/** What an origin replica with an empty `key` (clock `stamp`) sends for `op` at position `pos`. */
function entryOf(op: SignedOp, pos: number, stamp: Hlc = { wall: NOW, logical: 0 }): ReplicatedOp {
  const d = decideOp(undefined, op, { kind: "origin", stamp });
  const e: ReplicatedOp = { op, status: d.status, effect: d.effect, pos };
  if (d.reason) e.reason = d.reason;
  return e;
}

const accepted = (r: SubmitResult) => {
  if (r.kind !== "accepted") throw new Error(`refused: ${r.error.code}`);
  return r.outcome;
};
const refusal = (r: SubmitResult) => (r.kind === "refused" ? r.error.code : "accepted");
const value = (store: ReplicaStateStore, key: string) => valueOf(store.getRecord(key));

export function runReplicaCoreAcceptance(name: string, host: ReplicaStoreHost): void {
  const test = (title: string, body: (r: Replica) => Promise<void>) =>
    it(title, () => host.run((ctx) => body(new Replica(ctx.open(), ctx))));

  describe(`replica core acceptance: ${name}`, () => {
    test("a fresh op is applied: outcome, tentative state, op log row and the client's pending count", async (r) => {
      const c = await Client.make();
      const op = await c.op(1, "k", "counter", "add", { n: 5 });
      expect(accepted(r.submit(op))).toEqual({
        status: "ok",
        reason: undefined,
        value: 5,
        superseded: false,
        duplicate: false,
        pending: 1,
      });
      expect(value(r.store, "k")).toBe(5);
      expect(r.store.getOp(opIdOf(op))).toMatchObject({ origin: ME, op, status: "ok", value: 5 });
      expect(r.store.clientMaxSeq(c.key.publicKey)).toBe(1);
      // own positions count 1, 2, 3, ...
      expect(r.store.nextOwnPos()).toBe(2);

      const remote = await c.op(2, "k", "counter", "add", { n: 2 });
      const rep = await r.receive([entryOf(remote, 1)]);
      expect(rep.counts).toMatchObject({ applied: 1, duplicates: 0, badSignature: 0 });
      expect(rep.handled).toEqual([1]);
      expect(value(r.store, "k")).toBe(7);
      expect(r.store.getOp(opIdOf(remote))).toMatchObject({ origin: PEER, value: 7 });
      // a remote op is not this replica's to have certified
      expect(r.store.clientPending(c.key.publicKey)).toBe(1);
    });

    test("the same op again is a duplicate answered with the stored outcome, and changes nothing", async (r) => {
      const c = await Client.make();
      const op = await c.op(1, "k", "account", "withdraw", { n: 3 });
      const first = accepted(r.submit(op));
      expect(first).toMatchObject({ status: "rejected", reason: "insufficient_funds", value: 0 });
      expect(accepted(r.submit(op))).toEqual({ ...first, reason: "insufficient_funds", duplicate: true });
      expect(r.store.clientPending(c.key.publicKey)).toBe(1);

      const remote = entryOf(await c.op(2, "k", "account", "deposit", { n: 4 }), 1);
      expect((await r.receive([remote])).counts.applied).toBe(1);
      // by position (the cursor), and by op id once the cursor forgot it
      const again = await r.receive([remote]);
      expect(again.counts).toMatchObject({ applied: 0, duplicates: 1 });
      expect(again.handled).toEqual([1]);
      r.cursor = { cursor: 0, above: [] };
      expect((await r.receive([{ ...remote, pos: undefined }])).counts).toMatchObject({ duplicates: 1 });
      expect(value(r.store, "k")).toBe(4);
    });

    test("a seq at or below the client's collected seq is refused op_expired, and a remote copy is a duplicate", async (r) => {
      const c = await Client.make();
      const ops = [
        await c.op(1, "k", "counter", "add", { n: 1 }),
        await c.op(2, "k", "counter", "add", { n: 1 }),
      ];
      for (const op of ops) accepted(r.submit(op));
      expect(r.store.collectOps(ME, 2, NOW + 1, false, 10)).toBe(2);
      expect(r.store.collectedSeq(c.key.publicKey)).toBe(2);
      for (const op of ops) {
        const res = r.submit(op);
        expect(refusal(res)).toBe("op_expired");
        if (res.kind === "refused") expect(res.error.details).toEqual({ lastSeq: 2 });
      }
      expect((await r.receive([entryOf(ops[0]!, 7)])).counts).toMatchObject({ applied: 0, duplicates: 1 });
      expect(value(r.store, "k")).toBe(2);
      // the next seq is new
      expect(accepted(r.submit(await c.op(3, "k", "counter", "add", { n: 1 }))).value).toBe(3);
    });

    test("an op of another type than its key's is refused type_mismatch at the origin, a type conflict from a peer", async (r) => {
      const c = await Client.make();
      accepted(r.submit(await c.op(1, "k", "counter", "add", { n: 1 })));
      const wrong = await c.op(2, "k", "register", "set", { v: "x" });
      expect(refusal(r.submit(wrong))).toBe("type_mismatch");
      expect(r.store.hasOp(opIdOf(wrong))).toBe(false);
      expect(r.store.clientMaxSeq(c.key.publicKey)).toBe(1);

      const remote = await c.op(3, "k", "register", "set", { v: "y" });
      const rep = await r.receive([entryOf(remote, 1)]);
      expect(rep.counts).toMatchObject({ applied: 1, typeConflicts: 1 });
      expect(rep.events.map((e) => e.event)).toEqual(["type_conflict"]);
      expect(r.store.getRecord("k")).toMatchObject({ type: "counter" });
      // kept in the log (the certified order settles it), its value the key's as it stands
      expect(r.store.getOp(opIdOf(remote))).toMatchObject({ origin: PEER, value: 1 });
    });

    const variants = [
      { held: "winner", base: 0 },
      { held: "loser", base: 0 },
      { held: "loser", base: 100 }, // the key keeps another op's effect once the loser's is taken out
    ] as const;
    for (const { held, base } of variants)
      test(`an equivocating second version from a peer (held here: the ${held}; key's other ops: ${base}): both kept as evidence, the winner stays, the client refused`, async (r) => {
        const c = await Client.make();
        if (base) accepted(r.submit(await (await Client.make()).op(1, "k", "counter", "add", { n: base })));
        const a = await c.op(1, "k", "counter", "add", { n: 5 });
        const b = await c.op(1, "k", "counter", "add", { n: 7 });
        const winner = equivocationWinner(a, b);
        const loser = winner === a ? b : a;
        const [mine, theirs] = held === "winner" ? [winner, loser] : [loser, winner];
        accepted(r.submit(mine));
        const heldText = r.store.entryOf(opIdOf(mine))!;

        const rep = await r.receive([entryOf(theirs, 1)]);
        expect(rep.counts).toMatchObject({ equivocations: 1, applied: 0, duplicates: 0 });
        expect(rep.handled).toEqual([1]);
        expect(rep.events).toEqual([
          {
            event: "client_equivocated",
            fields: { client: c.key.publicKey, opId: opIdOf(a), replaced: held === "loser" },
          },
        ]);
        // both versions, to be shared with the peers
        expect(rep.evidence).toHaveLength(2);
        expect(rep.evidence[0]).toBe(heldText);
        expect(JSON.parse(rep.evidence[1]!)).toEqual({ ...entryOf(theirs, 1), pos: undefined });
        expect(r.store.evidenceOf(c.key.publicKey, 20)).toEqual([
          { opId: opIdOf(a), kept: winner, other: loser, refused: true, at: NOW },
        ]);
        // the loser's effect is gone (taken out, or never applied): only the winner's holds
        expect(r.store.getOp(opIdOf(a))).toMatchObject({ op: winner, origin: ME });
        expect(value(r.store, "k")).toBe(base + (winner.args["n"] as number));
        expect(refusal(r.submit(await c.op(2, "k", "counter", "add", { n: 1 })))).toBe("client_equivocated");

        // the other version once more: counted, but the evidence is known and not shared again
        r.cursor = { cursor: 0, above: [] };
        const again = await r.receive([entryOf(loser, 2)]);
        expect(again.counts).toMatchObject({ equivocations: 1 });
        expect(again.evidence).toEqual([]);
        expect(value(r.store, "k")).toBe(base + (winner.args["n"] as number));
      });

    test("a register's held losing version is taken out: the key falls back to its best other write, then takes the winner", async (r) => {
      const c = await Client.make();
      accepted(
        r.submit(await (await Client.make()).op(1, "r", "register", "set", { v: "base" }), NOW - 5000),
      );
      const a = await c.op(1, "r", "register", "set", { v: "a" });
      const b = await c.op(1, "r", "register", "set", { v: "b" });
      const winner = equivocationWinner(a, b);
      const loser = winner === a ? b : a;
      accepted(r.submit(loser));
      // stamped before the loser was here: it wins only because the loser's write is gone
      const rep = await r.receive([entryOf(winner, 1, { wall: NOW - 1000, logical: 0 })]);
      expect(rep.counts).toMatchObject({ equivocations: 1 });
      expect(value(r.store, "r")).toBe(winner.args["v"]);
      expect(r.store.isSuperseded(opIdOf(a))).toBe(false);
      expect(r.store.getOp(opIdOf(a))).toMatchObject({ op: winner, value: winner.args["v"] });
    });

    test("an equivocation whose held version is certified already: evidence kept, but the certified order settled the row", async (r) => {
      const c = await Client.make();
      const a = await c.op(1, "k", "counter", "add", { n: 5 });
      const b = await c.op(1, "k", "counter", "add", { n: 7 });
      const winner = equivocationWinner(a, b);
      const loser = winner === a ? b : a;
      r.certified.add(opIdOf(a));
      accepted(r.submit(loser));
      const rep = await r.receive([entryOf(winner, 1)]);
      expect(rep.counts).toMatchObject({ equivocations: 1 });
      expect(r.store.evidenceOf(c.key.publicKey, 20)).toMatchObject([
        { kept: winner, other: loser, refused: true },
      ]);
      expect(r.store.getOp(opIdOf(a))).toMatchObject({ op: loser });
      expect(r.store.getRecord("k")).toBeUndefined();
    });

    test("a remote entry with a bad signature is counted, its position handled, nothing stored", async (r) => {
      const c = await Client.make();
      const op = await c.op(1, "k", "counter", "add", { n: 5 });
      const other = await c.op(2, "k", "counter", "add", { n: 5 });
      const forged = { ...op, sig: other.sig };
      const rep = await r.receive([entryOf(forged, 1), entryOf(other, 2)]);
      expect(rep.counts).toMatchObject({ badSignature: 1, applied: 1 });
      expect(rep.handled.sort()).toEqual([1, 2]);
      expect(rep.events).toEqual([
        { event: "remote_bad_signature", fields: { origin: PEER, opId: opIdOf(op) } },
      ]);
      expect(r.store.hasOp(opIdOf(op))).toBe(false);
      expect(value(r.store, "k")).toBe(5);
      expect(r.cursor.cursor).toBe(2);
      // known by its position: not verified nor counted as forged again
      expect((await r.receive([entryOf(forged, 1)])).counts).toMatchObject({
        duplicates: 1,
        badSignature: 0,
      });
    });

    test("a stamp too far ahead is refused without moving the cursor; applied and absorbed by the clock once within the bound", async (r) => {
      const c = await Client.make();
      const op = await c.op(1, "r", "register", "set", { v: "far" });
      const stamp = { wall: NOW + HLC_AHEAD_MAX_MS + 1000, logical: 3 };
      const e = entryOf(op, 1, stamp);
      const rep = await r.receive([e]);
      expect(rep.counts).toMatchObject({ stampAhead: 1, applied: 0 });
      expect(rep.handled).toEqual([]);
      expect(rep.events.map((x) => x.event)).toEqual(["remote_stamp_ahead"]);
      expect(r.cursor.cursor).toBe(0);
      expect(r.store.hasOp(opIdOf(op))).toBe(false);
      expect(rep.hlc).toEqual(HLC_ZERO);

      const later = await r.receive([e], NOW + 1000);
      expect(later.counts).toMatchObject({ stampAhead: 0, applied: 1 });
      expect(r.cursor.cursor).toBe(1);
      expect(value(r.store, "r")).toBe("far");
      expect(later.hlc).toEqual(stamp);
      // this replica's next write is stamped after it, and so wins
      const mine = await c.op(2, "r", "register", "set", { v: "mine" });
      expect(accepted(r.submit(mine, NOW + 1000))).toMatchObject({ value: "mine", superseded: false });
      expect(r.hlc).toEqual({ wall: stamp.wall, logical: 4 });
    });

    test("a remote register write older than the key's is applied as superseded (and its retry says so)", async (r) => {
      const c = await Client.make();
      accepted(r.submit(await c.op(1, "r", "register", "set", { v: "new" })));
      const old = await c.op(2, "r", "register", "set", { v: "old" });
      const rep = await r.receive([entryOf(old, 1, { wall: NOW - 5000, logical: 0 })]);
      expect(rep.counts).toMatchObject({ applied: 1 });
      expect(r.store.isSuperseded(opIdOf(old))).toBe(true);
      expect(value(r.store, "r")).toBe("new");
      expect(r.store.getOp(opIdOf(old))).toMatchObject({ value: "new" });
      expect(accepted(r.submit(old))).toMatchObject({ duplicate: true, superseded: true, value: "new" });
    });

    test("an op certified already is stored but not applied to the tentative state, nor counted pending", async (r) => {
      const c = await Client.make();
      const mine = await c.op(1, "k", "counter", "add", { n: 5 });
      r.certified.add(opIdOf(mine));
      expect(accepted(r.submit(mine))).toMatchObject({ status: "ok", value: 5, pending: 0 });
      expect(r.store.isOpCertified(opIdOf(mine))).toBe(true);
      expect(r.store.getRecord("k")).toBeUndefined();

      const theirs = await c.op(2, "k", "counter", "add", { n: 2 });
      r.certified.add(opIdOf(theirs));
      const rep = await r.receive([entryOf(theirs, 1)]);
      expect(rep.counts).toMatchObject({ applied: 1 });
      expect(r.store.isOpCertified(opIdOf(theirs))).toBe(true);
      expect(r.store.getRecord("k")).toBeUndefined();
      expect(r.store.getEffect(opIdOf(theirs))).toEqual({ n: 2 });
    });

    test("a key rebuilt as another type (the certified order chose another first write) reads back as that type", async (r) => {
      // two first writes of different types at two replicas: this one took the counter, the
      // certified order the register, and the tentative rebase puts the register in its place
      const c = await Client.make();
      accepted(r.submit(await c.op(1, "k", "counter", "add", { n: 5 })));
      expect(r.store.getRecord("k")?.type).toBe("counter");
      const register = await c.op(2, "k2", "register", "set", { v: "v" });
      const d = decideOp(undefined, register, { kind: "origin", stamp: { wall: NOW, logical: 0 } });
      r.store.putRecord("k", d.record!);
      expect(r.store.getRecord("k")).toEqual(d.record);
      expect(valueOf(r.store.getRecord("k"))).toBe("v");
    });

    test("a step that throws inside the host's transaction leaves nothing written", async (r) => {
      const c = await Client.make();
      const op = await c.op(1, "k", "counter", "add", { n: 5 });
      expect(() =>
        r.ctx.transaction(() => {
          submitOp(r.store, { op, me: ME, nowMs: NOW, hlc: HLC_ZERO, isCertified: () => false });
          throw new Error("crash after the step");
        }),
      ).toThrow("crash after the step");
      expect(r.store.hasOp(opIdOf(op))).toBe(false);
      expect(r.store.getRecord("k")).toBeUndefined();
      expect(accepted(r.submit(op))).toMatchObject({ duplicate: false, pending: 1 });
    });
  });
}
