// client/certify.ts, through the client against the in-test deployment on its test clock (`d.time`,
// moved only by the test): how long an op is followed at a replica, when it is re-sent, what the
// server is asked to wait, what giving up says, and that close() ends every op it follows with
// nothing reported afterwards.
import { describe, expect, it } from "vitest";
import { AspecClient, type ConnectOptions, type FailoverEvent } from "../../../client/client.js";
import { AspecClientError } from "../../../client/errors.js";
import type { FetchFn } from "../../../client/transport.js";
import { TestDeployment } from "../../support/sdk-deployment.js";
import { until, watch } from "../../support/settle.js";

const isPoll = (url: string) => new URL(url).pathname.startsWith("/v1/ops/");
const isPost = (init?: RequestInit) => init?.method === "POST";
const replicaOf = (url: string) => new URL(url).searchParams.get("replica");

/** A client of a fresh deployment whose requests go through `wrap(d.fetch)`; failovers recorded. */
async function setup(wrap: (d: TestDeployment) => FetchFn, over: Partial<ConnectOptions> = {}) {
  const d = await TestDeployment.create();
  const c = await AspecClient.connect(d.connectOptions({ replica: "weur", fetch: wrap(d), ...over }));
  const failovers: FailoverEvent[] = [];
  c.on("failover", (e) => failovers.push(e));
  return { d, c, failovers };
}

describe("how long an op is followed at a replica", () => {
  it("an op that waited behind an older one past its deadline is still asked for at its replica", async () => {
    let moved = false;
    const { d, c, failovers } = await setup(
      (d) => async (url, init) => {
        // once both ops are in: the first took long, the second's deadline has passed meanwhile
        if (isPoll(url) && !moved && d.pending.length === 2) {
          moved = true;
          d.time += 5_000;
          await d.certify();
        }
        return d.fetch(url, init);
      },
      { certifyDeadlineMs: 1_000 },
    );
    const w1 = await c.counter("n").add(1);
    const w2 = await c.counter("n").add(1);
    const [o1, o2] = [watch(w1.certified), watch(w2.certified)];
    await until(() => o1.done && o2.done);
    expect(moved).toBe(true);
    expect([o1.value?.replica, o2.value?.replica]).toEqual(["weur", "weur"]);
    expect(failovers).toEqual([]);
    c.close();
  });

  it("at its deadline an op is re-sent through the next replica, not polled again", async () => {
    let start: number | undefined;
    const { d, c, failovers } = await setup(
      (d) => async (url, init) => {
        if (isPoll(url) && replicaOf(url) === "weur" && start !== undefined) d.time = start + 1_000;
        return d.fetch(url, init);
      },
      { certifyDeadlineMs: 1_000 },
    );
    start = d.time;
    await c.counter("n").add(1);
    await until(() => failovers.length === 1);
    expect(failovers[0]).toMatchObject({ from: "weur", to: "enam", reason: "deadline" });
    c.close();
  });

  it("a re-send slower than the deadline still gets the new replica asked once", async () => {
    const { d, c, failovers } = await setup((d) => async (url, init) => {
      if (isPost(init) && replicaOf(url) === "enam") {
        d.time += 20_000; // twice the deadline
        const res = await d.fetch(url, init);
        await d.certify();
        return res;
      }
      return d.fetch(url, init);
    });
    const w = await c.counter("n").add(1);
    d.replica("weur").quarantined = true;
    expect((await w.certified).replica).toBe("enam");
    expect(failovers.map((f) => f.to)).toEqual(["enam"]);
    c.close();
  });

  it("an op failed over gets a whole deadline at the new replica, not what was left", async () => {
    let enamPolls = 0;
    const { d, c, failovers } = await setup(
      (d) => async (url, init) => {
        if (isPoll(url) && replicaOf(url) === "enam" && ++enamPolls === 2) await d.certify();
        return d.fetch(url, init);
      },
      { certifyDeadlineMs: 1_000 },
    );
    const w = await c.counter("n").add(1);
    d.replica("weur").quarantined = true;
    expect((await w.certified).replica).toBe("enam");
    expect(failovers.map((f) => [f.from, f.to])).toEqual([["weur", "enam"]]);
    c.close();
  });
});

describe("what the server is asked to wait", () => {
  it("the long-poll asks for the time left before the deadline, at most 30 s", async () => {
    for (const [certifyDeadlineMs, timeoutMs] of [
      [10_000, "10000"],
      [60_000, "30000"],
    ] as const) {
      const polls: URL[] = [];
      const { d, c } = await setup(
        (d) => async (url, init) => {
          if (isPoll(url)) {
            polls.push(new URL(url));
            await d.certify();
          }
          return d.fetch(url, init);
        },
        { certifyDeadlineMs },
      );
      await (
        await c.counter("n").add(1)
      ).certified;
      expect(polls[0]!.searchParams.get("wait")).toBe("certified");
      expect(polls[0]!.searchParams.get("timeoutMs")).toBe(timeoutMs);
      c.close();
    }
  });
});

describe("giving up", () => {
  it("names the op and every replica tried, with the last refusal as the cause", async () => {
    const { d, c } = await setup((d) => d.fetch);
    const w = await c.counter("n").add(1);
    for (const r of d.replicas) r.down = true;
    const e = await w.certified.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AspecClientError);
    expect((e as AspecClientError).code).toBe("not_certified");
    expect((e as Error).message).toContain(w.opId);
    expect((e as Error).message).toContain("weur, enam, apac");
    expect((e as Error).cause).toMatchObject({ code: "unavailable", message: "apac is down" });
    c.close();
  });
});

describe("close()", () => {
  it("ends every op it follows with closed, and no failover is reported for the aborted poll", async () => {
    // A fetch that honours the abort signal, as the platform's does.
    const { c, failovers } = await setup(
      (d) => (url, init) =>
        new Promise<Response>((ok, fail) => {
          init?.signal?.addEventListener("abort", () => fail(init.signal!.reason));
          d.fetch(url, init).then(ok, fail);
        }),
    );
    const followed = [await c.counter("n").add(1), await c.counter("n").add(1), await c.counter("n").add(1)];
    const outcomes = followed.map((w) => watch(w.certified));
    c.close();
    await until(() => outcomes.every((o) => o.done));
    for (const o of outcomes) expect(o.error).toMatchObject({ code: "closed" });
    expect(failovers).toEqual([]);
  });

  it("a certified answer that arrives as the client closes is not reported afterwards", async () => {
    let client: AspecClient | undefined;
    const { d, c } = await setup((d) => async (url, init) => {
      if (!isPoll(url)) return d.fetch(url, init);
      await d.certify();
      const res = await d.fetch(url, init);
      client?.close(); // the answer is on its way: the app closes now
      return res;
    });
    client = c;
    const certifiedEvents: unknown[] = [];
    c.on("certified", (o) => certifiedEvents.push(o));
    const w = await c.counter("n").add(1);
    const outcome = watch(w.certified);
    await until(() => outcome.done);
    expect(outcome.error).toMatchObject({ code: "closed" });
    // the answer's check ends by recording its certificate; what follows it runs without a macrotask turn
    await until(() => c.certifiedSeq === 1);
    await new Promise((r) => setImmediate(r));
    expect(certifiedEvents).toEqual([]);
  });
});
