/**
 * Tentative state = certified state + the ops not yet certified, at every replica, in workerd with
 * real SQLite replicas: whatever the certified order decided differently from a replica's tentative
 * guess (a withdraw it rejected, the other register write winning, an effect its origin lied about)
 * leaves the tentative state once the certificate arrives, and the replicas' tentative states agree.
 * Certified batches are made as the nodes make them (cert-helpers.ts); the tests share one history.
 */
import { SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { opIdOf, type SignedOp } from "../../shared/ops.js";
import type { OpStatusReply, ReadReply } from "../../shared/replies.js";
import { deliverCertified, TestCluster } from "./cert-helpers.js";
import { deliver } from "./delivery-helpers.js";
import { REPLICAS, eventually, post, stub, TestClient } from "./helpers.js";

const get = (path: string) => SELF.fetch(`https://edge.test${path}`);
const readAt = async (key: string, replica: string) =>
  (await (await get(`/v1/kv/${encodeURIComponent(key)}?replica=${replica}`)).json()) as ReadReply;
const tentativeEverywhere = async (key: string) =>
  Promise.all(REPLICAS.map(async (r) => (await readAt(key, r)).value));
/** Wait until every replica holds `ops` (their rows, tentatively applied). */
const heldEverywhere = (ops: SignedOp[]) =>
  eventually(async () => {
    for (const r of REPLICAS)
      for (const op of ops) {
        const s = (await (await get(`/v1/ops/${encodeURIComponent(opIdOf(op))}?replica=${r}`)).json()) as {
          tentative?: unknown;
        };
        expect(s.tentative, `${r} holds ${opIdOf(op)}`).toBeDefined();
      }
  });
const certify = async (cluster: TestCluster, ops: SignedOp[]) => {
  const made = await cluster.certify(ops);
  const res = await deliverCertified([made.message]);
  expect(res.explicitAcks.length).toBe(1);
  return made;
};

let cluster: TestCluster;
let alice: TestClient;
let bob: TestClient;
beforeAll(async () => {
  cluster = await TestCluster.create();
  alice = await TestClient.create();
  bob = await TestClient.create();
});

describe("tentative state is rebuilt from the certified state when a certificate arrives", () => {
  it("account: two withdraws of the last funds at two replicas, both tentatively ok; the certified order rejects one and every replica's balance is the certified one", async () => {
    const dep = await alice.sign("rb/acct", "account", "deposit", { n: 10 });
    expect((await post(dep, "weur")).status).toBe(200);
    await heldEverywhere([dep]);
    await certify(cluster, [dep]);
    const wa = await alice.sign("rb/acct", "account", "withdraw", { n: 10 });
    const wb = await bob.sign("rb/acct", "account", "withdraw", { n: 10 });
    const ra = await (await post(wa, "weur")).json();
    const rb = await (await post(wb, "enam")).json();
    expect(ra).toMatchObject({ tentative: { status: "ok", value: 0 } });
    expect(rb).toMatchObject({ tentative: { status: "ok", value: 0 } });
    await heldEverywhere([wa, wb]);
    // tentatively overdrawn everywhere: both deltas applied
    expect(await tentativeEverywhere("rb/acct")).toEqual([-10, -10, -10]);

    const made = await certify(cluster, [wa, wb]);
    // the certified balance, and nothing else, at every replica
    expect(await tentativeEverywhere("rb/acct")).toEqual([0, 0, 0]);
    for (const r of REPLICAS)
      expect((await readAt("rb/acct", r)).certified!.value).toMatchObject({ value: 0 });
    const sb = (await (
      await get(`/v1/ops/${encodeURIComponent(opIdOf(wb))}?replica=enam`)
    ).json()) as OpStatusReply;
    expect(sb.tentative).toMatchObject({ status: "ok" });
    expect(sb.certified).toMatchObject({
      seq: made.body.seq,
      result: { status: "rejected", reason: "insufficient_funds" },
    });
  });

  it("register: the write the certified order puts last wins everywhere, though the origins' clocks ordered them the other way", async () => {
    const first = await alice.sign("rb/reg", "register", "set", { v: "first" });
    expect((await post(first, "weur")).status).toBe(200);
    await new Promise((r) => setTimeout(r, 5)); // a later clock at the second origin
    const second = await bob.sign("rb/reg", "register", "set", { v: "second" });
    expect((await post(second, "apac")).status).toBe(200);
    await heldEverywhere([first, second]);
    expect(await tentativeEverywhere("rb/reg")).toEqual(["second", "second", "second"]);
    // the certified order: second, then first (last wins)
    await certify(cluster, [second, first]);
    expect(await tentativeEverywhere("rb/reg")).toEqual(["first", "first", "first"]);
    // a write not yet certified still wins over the certified value, at every replica
    const third = await alice.sign("rb/reg", "register", "set", { v: "third" });
    expect((await post(third, "enam")).status).toBe(200);
    await heldEverywhere([third]);
    expect(await tentativeEverywhere("rb/reg")).toEqual(["third", "third", "third"]);
  });

  it("counter: ops not in the certificate stay applied on top of the certified value", async () => {
    const x = await alice.sign("rb/hits", "counter", "add", { n: 2 });
    const y = await alice.sign("rb/hits", "counter", "add", { n: 5 });
    expect((await post(x, "weur")).status).toBe(200);
    expect((await post(y, "weur")).status).toBe(200);
    await heldEverywhere([x, y]);
    await certify(cluster, [x]);
    expect(await tentativeEverywhere("rb/hits")).toEqual([7, 7, 7]);
    for (const r of REPLICAS)
      expect((await readAt("rb/hits", r)).certified!.value).toMatchObject({ value: 2 });
    await certify(cluster, [y]);
    expect(await tentativeEverywhere("rb/hits")).toEqual([7, 7, 7]);
  });

  it("an effect its origin lied about (add 1 replicated as +500) leaves every tentative state once certified", async () => {
    const op = await alice.sign("rb/lie", "counter", "add", { n: 1 });
    // a faulty origin "apac" hands the others the client-signed op with a forged effect
    const entry = { op, status: "ok", effect: { n: 500 }, pos: 1_000_000 };
    await deliver([{ origin: "apac", entries: JSON.stringify([entry]), targets: ["weur", "enam"] }]);
    await eventually(async () => expect((await readAt("rb/lie", "weur")).value).toBe(500));
    expect((await readAt("rb/lie", "enam")).value).toBe(500);
    await certify(cluster, [op]);
    expect((await readAt("rb/lie", "weur")).value).toBe(1);
    expect((await readAt("rb/lie", "enam")).value).toBe(1);
    // apac never held the op: the certified state gives it the key all the same
    expect((await readAt("rb/lie", "apac")).value).toBe(1);
  });

  it("an op that arrives after its certificate is not applied a second time", async () => {
    const z = await bob.sign("rb/late", "counter", "add", { n: 3 });
    await certify(cluster, [z]);
    expect(await tentativeEverywhere("rb/late")).toEqual([3, 3, 3]);
    const reply = await (await post(z, "weur")).json();
    expect(reply).toMatchObject({ duplicate: false, uncertified: 0 });
    await heldEverywhere([z]);
    expect(await tentativeEverywhere("rb/late")).toEqual([3, 3, 3]);
    expect((await stub("weur").stats()).certification.seq).toBe(cluster.seq);
  });
});
