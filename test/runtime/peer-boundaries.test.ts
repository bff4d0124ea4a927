/**
 * Peers are adversaries: what a node or a replica hands a replica crosses as JSON text and is parsed
 * strictly (shared/wire/). A Byzantine sender holding a key may add, replace or nest values that only
 * structured clone carries (`undefined`, `NaN`, `±Infinity`, `-0`, `Date`, `Map`, `Set`, typed arrays,
 * `BigInt`, sparse arrays, objects with prototypes, cycles) or extra members, in any field, through
 * the real queue consumer or straight through RPC. Every such copy must be refused before anything is
 * verified, executed or stored: every replica stays certified (not diverged), keeps answering 200,
 * and applies the genuine copy when it comes.
 */
import { mutate, pathsOf } from "../support/json-paths.js";
import { SELF } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { replicateText, type ReplicateMessage } from "../../shared/replication.js";
import { deliverCertified, TestCluster } from "./cert-helpers.js";
import { applyRemote, deliverTo, originEntry } from "./delivery-helpers.js";
import { REPLICAS, post, stub, TestClient } from "./helpers.js";

/** Values JSON cannot carry as they are, but structured clone (queues, RPC) does. */
function hostileValues(): fc.Arbitrary<unknown> {
  const cycle = () => {
    const o: Record<string, unknown> = { a: 1 };
    o.self = o;
    return o;
  };
  const sparse = () => {
    const a: unknown[] = [1];
    a[3] = 2;
    return a;
  };
  const withProto = () => Object.assign(Object.create({ inherited: true }) as object, { own: 1 });
  return fc.oneof(
    fc.constantFrom(undefined, NaN, Infinity, -Infinity, -0),
    fc.constant(null).map(() => new Date(0)),
    fc.constant(null).map(() => new Map<unknown, unknown>([[1, "x"]])),
    fc.constant(null).map(() => new Set([1, 2])),
    fc.constant(null).map(() => new Uint8Array([1, 2, 3])),
    fc.constant(null).map(() => BigInt(7)),
    fc.constant(null).map(sparse),
    fc.constant(null).map(withProto),
    fc.constant(null).map(cycle),
  );
}

/**
 * An RPC whose argument workerd cannot serialize fails at the sender (an object with a prototype, a
 * class instance): such a value never reaches a peer that way. null then; any other error is thrown.
 */
async function unlessUnsendable<T>(call: () => Promise<T>): Promise<T | null> {
  try {
    return await call();
  } catch (e) {
    if (String(e).startsWith("DataCloneError: Could not serialize")) return null;
    throw e;
  }
}

/** JSON values an extra member (or a replaced one) may hold in a text. */
const jsonValues = (): fc.Arbitrary<unknown> =>
  fc.oneof(fc.constant(null), fc.integer(), fc.string({ maxLength: 8 }), fc.constant([]), fc.constant({}));

/** What each replica says about its certified state, and that it answers reads. */
async function healthy(key: string): Promise<void> {
  for (const r of REPLICAS) {
    const c = (await stub(r).stats()).certification;
    expect(c.certification, r).not.toBe("diverged");
    expect(c.diverged, r).toBeNull();
    const res = await SELF.fetch(`https://edge.test/v1/kv/${encodeURIComponent(key)}?replica=${r}`);
    expect(res.status, r).toBe(200);
  }
}

describe("certified batches from a Byzantine node", () => {
  it("every structured-clone value or extra member in any field, by queue or RPC, is refused; the genuine batch then applies everywhere", async () => {
    const cluster = await TestCluster.create();
    const c = await TestClient.create();
    const ops = [
      await c.sign("pb/counter", "counter", "add", { n: 3 }),
      await c.sign("pb/reg", "register", "set", { v: { deep: [1, "two", null] } }),
    ];
    for (const op of ops) expect((await post(op, "weur")).status).toBe(200);
    const made = await cluster.certify(ops);
    const genuine = made.message as unknown;
    const paths = pathsOf(genuine);
    const seen = new Set<string>();

    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...paths),
        fc.boolean(),
        hostileValues(),
        fc.constantFrom(...REPLICAS),
        async (path, extra, value, r) => {
          const mangled = mutate(genuine, path, value, extra);
          // RPC: the object itself, as a Byzantine node's direct post would carry it
          const viaRpc = await unlessUnsendable(() => stub(r).receiveCertified(r, mangled as string));
          if (viaRpc) {
            expect(viaRpc.outcome).toBe("invalid");
            expect(viaRpc.applied).toBe(0);
            seen.add(viaRpc.reason ?? "");
          }
          // the queue: the consumer drops what is not text, and acks it (nothing to retry)
          const viaQueue = await unlessUnsendable(() => deliverTo("aspec-certificates", [mangled]));
          if (viaQueue) {
            expect(viaQueue.explicitAcks.length).toBe(1);
            expect(viaQueue.retryMessages).toEqual([]);
          }
        },
      ),
      { numRuns: 40 },
    );

    // texts: every field replaced by, or padded with, a JSON value: refused (shape, signatures, log chain)
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), fc.boolean(), jsonValues(), async (path, extra, value) => {
        const text = JSON.stringify(mutate(genuine, path, value, extra));
        fc.pre(text !== JSON.stringify(genuine));
        const got = await stub("apac").receiveCertified("apac", text);
        // refused, or a seq changed to one held or too far ahead: nothing applied either way
        expect(["invalid", "ops_mismatch", "duplicate", "too_far_ahead"]).toContain(got.outcome);
        expect(got.applied).toBe(0);
        const viaQueue = await deliverTo("aspec-certificates", [text]);
        expect(viaQueue.retryMessages).toEqual([]);
      }),
      { numRuns: 40 },
    );
    expect(seen.has("not_text")).toBe(true);
    await healthy("pb/counter");
    for (const r of REPLICAS) expect((await stub(r).stats()).certification.seq).toBe(0);

    // the genuine copy: applied at every replica, its text exactly what is stored and served
    const result = await deliverCertified([made.message]);
    expect(result.explicitAcks.length).toBe(1);
    for (const r of REPLICAS) {
      const s = (await stub(r).stats()).certification;
      expect(s).toMatchObject({ certification: "ok", seq: 1, diverged: null });
    }
    await healthy("pb/counter");
    const certified = (await (
      await SELF.fetch("https://edge.test/v1/certificates/1?replica=enam")
    ).json()) as {
      certificate: unknown;
    };
    expect(certified.certificate).toEqual(made.certificate);
  });
});

describe("replicate messages from a Byzantine replica", () => {
  async function entryOf(c: TestClient, key: string, n: number) {
    return originEntry(await c.sign(key, "counter", "add", { n }));
  }

  it("structured-clone values or extra members anywhere in a message, by queue or RPC, apply nothing; the genuine message then applies", async () => {
    const c = await TestClient.create();
    const entries = [await entryOf(c, "pb/rep", 2), await entryOf(c, "pb/rep", 5)];
    const genuine = { origin: "weur", entries };
    const paths = pathsOf(genuine).filter((p) => p[0] !== "origin");
    const asMessage = (m: unknown): ReplicateMessage => {
      const o = m as { origin: string; entries: unknown };
      return { origin: o.origin, entries: JSON.stringify(o.entries) };
    };

    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...paths),
        fc.boolean(),
        hostileValues(),
        async (path, extra, value) => {
          const mangled = mutate(genuine, path, value, extra);
          // RPC: a structured clone instead of text
          const raw = await unlessUnsendable(() => stub("enam").applyRemote("enam", mangled as string));
          if (raw !== null) expect((JSON.parse(raw) as { applied: number }).applied).toBe(0);
          // the queue: the consumer refuses what is not text
          const q = await deliverTo("aspec-replicate", [mangled]);
          expect(q.retryMessages).toEqual([]);
        },
      ),
      { numRuns: 30 },
    );
    // texts with an extra member in an entry or its op: that entry is malformed, nothing of it applies
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...paths.filter((p) => p.length === 3 || (p.length === 4 && p[2] === "op"))),
        jsonValues(),
        async (path, value) => {
          const m = mutate(genuine, path, value, true) as { origin: string; entries: unknown[] };
          const one = { origin: m.origin, entries: [m.entries[path[1] as number]] };
          const report = await applyRemote("apac", asMessage(one));
          expect(report).toMatchObject({ applied: 0, malformed: 1 });
        },
      ),
      { numRuns: 20 },
    );
    for (const r of ["enam", "apac"])
      expect(await (await SELF.fetch(`https://edge.test/v1/kv/pb%2Frep?replica=${r}`)).json()).toMatchObject({
        type: null,
      });
    // the genuine message: applied once at each target
    const q = await deliverTo("aspec-replicate", [replicateText(asMessage(genuine))]);
    expect(q.explicitAcks.length).toBe(1);
    for (const r of ["enam", "apac"])
      expect(await (await SELF.fetch(`https://edge.test/v1/kv/pb%2Frep?replica=${r}`)).json()).toMatchObject({
        type: "counter",
        value: 7,
      });
  });
});
