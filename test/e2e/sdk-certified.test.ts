// The verifying SDK against the real Worker under `wrangler dev` (four PBFT Durable Objects
// certifying in the background): writes at two replicas certified and verified through the SDK,
// certified reads proven, k = 0 resolving only once certified, and a rollback observed when two
// withdraws of the last funds race at two replicas.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AspecClient, type RollbackEvent } from "../../client/index.js";
import { startWranglerDev, type DevServer } from "../support/wrangler-dev.js";

const CERTIFIED_MS = 60_000;
let server: DevServer;
const clients: AspecClient[] = [];

beforeAll(async () => {
  server = await startWranglerDev({ name: "sdk", readyPath: "/v1/replicas", vars: { ENVIRONMENT: "dev" } });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await server?.stop();
});

async function connect(replica: string, maxUncertified = 4) {
  const c = await AspecClient.connect({
    endpoint: server.url,
    replica,
    maxUncertified,
    certifyDeadlineMs: CERTIFIED_MS,
  });
  clients.push(c);
  return c;
}

const u = Date.now().toString(36);

describe("the SDK verifies what a real deployment certifies", () => {
  it("writes at weur and enam are certified, verified, and read back with checked proofs", async () => {
    const weur = await connect("weur");
    const enam = await connect("enam");
    const cluster = (await (await fetch(`${server.url}/v1/cluster`)).json()) as { configDigest: string };
    expect(weur.cluster.configDigest).toBe(cluster.configDigest);
    const a = await weur.counter(`hits-${u}`).add(2);
    const b = await enam.counter(`hits-${u}`).add(3);
    const [ca, cb] = await Promise.all([a.certified, b.certified]);
    expect(ca.result.status).toBe("ok");
    expect(cb.result.status).toBe("ok");
    expect(ca.certificate.sigs.length).toBeGreaterThanOrEqual(3);
    // the certified counter holds both adds, whatever their order
    expect(Math.max(ca.result.value as number, cb.result.value as number)).toBe(5);
    expect(weur.uncertified).toBe(0);
    expect(weur.certifiedSeq).toBeGreaterThanOrEqual(ca.seq);
    // a certified read, proven against the certificate in the reply (the edge may cache it)
    const deadline = Date.now() + CERTIFIED_MS;
    let read = await weur.get(`hits-${u}`);
    while (read.certified?.value?.value !== 5 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      read = await weur.get(`hits-${u}`);
    }
    expect(read.certified?.value?.value).toBe(5);
    const cr = await weur.getCertified(`hits-${u}`);
    expect(cr.certified.seq).toBeGreaterThanOrEqual(read.certified!.seq);
    const status = await enam.opStatus(b.opId);
    expect(status.certified?.result).toEqual(cb.result);
  });

  it("k = 0: an op resolves only once certified", async () => {
    const strong = await connect("apac", 0);
    const w = await strong.register(`title-${u}`).set("strong");
    expect(strong.uncertified).toBe(0); // already certified when the write resolved
    const final = await w.certified;
    expect(final.result).toMatchObject({ status: "ok", value: "strong" });
  });

  it("two withdraws of the last funds at two replicas: one is rolled back", async () => {
    const weur = await connect("weur");
    const enam = await connect("enam");
    const rollbacks: RollbackEvent[] = [];
    weur.on("rollback", (e) => rollbacks.push(e));
    enam.on("rollback", (e) => rollbacks.push(e));
    // Tentatively both withdraws succeed only if neither replica has seen the other's yet; they are
    // sent at once, but if replication wins the race, try again with a fresh account (at most 3).
    for (let attempt = 0; attempt < 3; attempt++) {
      const acct = `acct-${u}-${attempt}`;
      await (
        await weur.account(acct).deposit(10)
      ).certified;
      // the deposit must be at enam too before it can withdraw there
      for (let r = await enam.get(acct); r.value !== 10; r = await enam.get(acct))
        await new Promise((d) => setTimeout(d, 100));
      const [wa, wb] = await Promise.all([weur.account(acct).withdraw(10), enam.account(acct).withdraw(10)]);
      const [fa, fb] = await Promise.all([wa.certified, wb.certified]);
      // the certified order always lets exactly one through
      expect([fa.result.status, fb.result.status].sort()).toEqual(["ok", "rejected"]);
      if (wa.tentative.status !== "ok" || wb.tentative.status !== "ok") continue;
      const loser = fa.result.status === "rejected" ? wa : wb;
      expect(rollbacks).toHaveLength(1);
      expect(rollbacks[0]).toMatchObject({
        opId: loser.opId,
        tentative: { status: "ok", value: 0 },
        certified: { status: "rejected", reason: "insufficient_funds" },
      });
      return;
    }
    throw new Error("replication won the race three times: no concurrent withdraws to roll back");
  });
});
