// What an app sees over a client's life, against the in-test deployment (real Ed25519, real
// certificates): events it can unsubscribe from, a throwing listener that is reported and stops
// nothing, `settled()` and `close()`, a rollback that changes only the status, set removal, one
// certification poll at a time, and the `evidence` event of an accepted submission.
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import { AspecClient, type ConnectOptions, type EvidenceReport } from "../../../client/client.js";
import type { CertifiedOutcome } from "../../../client/certify.js";
import { AspecClientError } from "../../../client/errors.js";
import { TestDeployment } from "../../support/sdk-deployment.js";
import { until, watch } from "../../support/settle.js";

async function setup(over: Partial<ConnectOptions> = {}) {
  const d = await TestDeployment.create();
  const c = await AspecClient.connect(d.connectOptions({ replica: "weur", ...over }));
  return { d, c };
}

describe("events", () => {
  it("a listener removed with off (or the function on returned) hears nothing more", async () => {
    const { d, c } = await setup();
    const byOff: string[] = [];
    const byUnsubscribe: string[] = [];
    const a = (o: CertifiedOutcome) => byOff.push(o.opId);
    c.on("certified", a);
    const unsubscribe = c.on("certified", (o) => byUnsubscribe.push(o.opId));
    const first = await c.counter("n").add(1);
    await d.certify();
    await first.certified;
    c.off("certified", a);
    unsubscribe();
    const second = await c.counter("n").add(1);
    await d.certify();
    await second.certified;
    expect(byOff).toEqual([first.opId]);
    expect(byUnsubscribe).toEqual([first.opId]);
    c.close();
  });

  it("off for an event nobody listens to is harmless", async () => {
    const { c } = await setup();
    expect(() => c.off("rollback", () => {})).not.toThrow();
    c.close();
  });

  describe("a listener that throws", () => {
    let logged: MockInstance<typeof console.error>;
    beforeEach(() => void (logged = vi.spyOn(console, "error").mockImplementation(() => {})));
    afterEach(() => logged.mockRestore());

    it("is reported as a structured log line, and the other listeners and the op go on", async () => {
      const { d, c } = await setup();
      const heard: string[] = [];
      c.on("certified", () => {
        throw new Error("app bug");
      });
      c.on("certified", (o) => heard.push(o.opId));
      const w = await c.counter("n").add(1);
      await d.certify();
      expect((await w.certified).opId).toBe(w.opId);
      expect(heard).toEqual([w.opId]);
      expect(logged).toHaveBeenCalledTimes(1);
      expect(logged.mock.calls[0]![0]).toEqual({
        event: "listener_threw",
        name: "certified",
        error: "Error: app bug",
      });
      c.close();
    });
  });
});

describe("settled() and close()", () => {
  it("settled() waits for the ops uncertified when it is called, and resolves once they are", async () => {
    const { d, c } = await setup();
    await c.counter("n").add(1);
    await c.counter("n").add(1);
    const settled = watch(c.settled());
    await until(() => d.requests.some((r) => r.path.startsWith("/v1/ops/")));
    expect(settled.done).toBe(false);
    await d.certify();
    await until(() => settled.done);
    expect(c.uncertified).toBe(0);
    c.close();
  });

  it("close() refuses an op waiting for a slot, with code closed", async () => {
    const { c } = await setup({ maxUncertified: 1 });
    await c.counter("n").add(1); // takes the one slot (never certified here)
    const waiting = watch(c.counter("n").add(1));
    c.close();
    await until(() => waiting.done);
    expect(waiting.error).toBeInstanceOf(AspecClientError);
    expect(waiting.error).toMatchObject({ code: "closed", message: expect.stringContaining("closed") });
  });

  it("an op sent after close() does not leave its certification hanging: it rejects with closed", async () => {
    const { c } = await setup();
    c.close();
    const w = await c.counter("n").add(1);
    const certified = watch(w.certified);
    await until(() => certified.done);
    expect(certified.error).toMatchObject({ code: "closed" });
  });
});

describe("rollback", () => {
  it("a withdraw refused at once that the certified order accepts is a rollback, though the balance reads the same", async () => {
    const d = await TestDeployment.create();
    const a = await AspecClient.connect(d.connectOptions({ replica: "weur" }));
    const b = await AspecClient.connect(d.connectOptions({ replica: "enam" }));
    d.replicateTentative = false; // a partition: enam does not see weur's deposit
    const rollbacks: unknown[] = [];
    b.on("rollback", (r) => rollbacks.push(r));
    await a.account("acct").deposit(3);
    const w = await b.account("acct").withdraw(3);
    expect(w.tentative).toMatchObject({ status: "rejected", value: 0 }); // nothing there yet at enam
    await d.certify(); // the deposit first, then the withdraw
    const final = await w.certified;
    expect(final.result).toMatchObject({ status: "ok", value: 0 });
    expect(final.rolledBack).toBe(true);
    expect(rollbacks).toHaveLength(1);
    a.close();
    b.close();
  });
});

describe("set handles", () => {
  it("remove takes the element out of the set", async () => {
    const { d, c } = await setup();
    await c.set("tags").add("a");
    await c.set("tags").add("b");
    const r = await c.set("tags").remove("a");
    expect(r.tentative.status).toBe("ok");
    expect((await c.get("tags")).value).toEqual(["b"]);
    await d.certify();
    await c.settled();
    const certified = (await c.get("tags")).certified;
    expect(certified?.value?.value).toEqual(["b"]);
    c.close();
  });
});

describe("certification polling", () => {
  it("one poll at a time: ops issued while one is being followed wait their turn", async () => {
    const d = await TestDeployment.create();
    let inFlight = 0;
    let most = 0;
    const counting: typeof d.fetch = async (url, init) => {
      const poll = new URL(url).pathname.startsWith("/v1/ops/");
      if (poll) most = Math.max(most, ++inFlight);
      try {
        return await d.fetch(url, init);
      } finally {
        if (poll) inFlight--;
      }
    };
    const c = await AspecClient.connect(d.connectOptions({ replica: "weur", fetch: counting }));
    const ws = [await c.counter("n").add(1), await c.counter("n").add(1), await c.counter("n").add(1)];
    await until(() => d.requests.filter((r) => r.path.startsWith("/v1/ops/")).length >= 3);
    await d.certify();
    await Promise.all(ws.map((w) => w.certified));
    expect(most).toBe(1);
    c.close();
  });
});

describe("evidence", () => {
  it("an accepted submission is reported with what the server answered", async () => {
    const d = await TestDeployment.create();
    const answer = { verdict: { kind: "bad_certified_result" }, outcome: "quarantined" };
    const withEvidenceRoute: typeof d.fetch = async (url, init) =>
      new URL(url).pathname === "/v1/evidence"
        ? new Response(JSON.stringify(answer), { status: 200 })
        : d.fetch(url, init);
    const c = await AspecClient.connect(
      d.connectOptions({ replica: "weur", fetch: withEvidenceRoute, now: Date.now }),
    );
    const reports: EvidenceReport[] = [];
    c.on("evidence", (r) => reports.push(r));
    const w = await c.counter("g").add(2);
    d.lie = (path, reply, replica) => {
      if (path === "op-status" && replica === "weur" && reply.certified)
        (reply.certified as { result: { value: number } }).result.value = 999;
      return reply;
    };
    d.autoCertify = true;
    await w.certified; // from enam, after weur's lie
    await until(() => reports.length === 1);
    expect(reports[0]!.submission).toEqual(answer);
    expect(reports[0]!.evidence.kind).toBe("bad_certified_result");
    expect(reports[0]!.error.replica).toBe("weur");
    expect(reports[0]!.failure).toBeUndefined();
    c.close();
  });
});
