// Namespaces through the verifying SDK, against the in-test deployment (test/support/sdk-deployment.ts:
// real Ed25519, real certificates; its replicas decide with the certified order's own code): a claim
// race at two replicas and a write racing its writer's revocation are both answered ok, then the
// certified order keeps one owner and rejects the racing write, and the losers' SDKs emit `rollback`.
import { describe, expect, it } from "vitest";
import { AspecClient, type RollbackEvent } from "../../../client/client.js";
import { endedAfterEach } from "../../support/client-cleanup.js";
import { TestDeployment } from "../../support/sdk-deployment.js";

const ended = endedAfterEach();

async function twoClients() {
  const d = await TestDeployment.create();
  const a = ended(await AspecClient.connect(d.connectOptions({ replica: "weur" })));
  const b = ended(await AspecClient.connect(d.connectOptions({ replica: "enam" })));
  const rollbacks: RollbackEvent[] = [];
  for (const c of [a, b]) c.on("rollback", (e) => rollbacks.push(e));
  return { d, a, b, rollbacks };
}

describe("namespaces through the SDK", () => {
  it("a claim race at two replicas: both ok at once, one certified owner, the other rolled back (namespace_taken)", async () => {
    const { d, a, b, rollbacks } = await twoClients();
    d.replicateTentative = false; // a partition: each replica sees only its own claim
    const ca = await a.namespace("shop").claim();
    const cb = await b.namespace("shop").claim();
    expect([ca.key, ca.tentative.status, cb.tentative.status]).toEqual(["@shop", "ok", "ok"]);
    await d.certify();
    const [fa, fb] = await Promise.all([ca.certified, cb.certified]);
    expect([fa.rolledBack, fb.result.status, fb.result.reason]).toEqual([
      false,
      "rejected",
      "namespace_taken",
    ]);
    expect(rollbacks).toEqual([
      expect.objectContaining({
        opId: cb.opId,
        certified: expect.objectContaining({ reason: "namespace_taken" }),
      }),
    ]);
    // the certified record, proved: a is the one owner
    expect((await a.getCertified("@shop")).certified.value?.value).toEqual({ [a.key.publicKey]: "owner" });
  });

  it("a write racing its writer's revocation: ok at the replica that had not seen it, certified not_authorized, rolled back", async () => {
    const { d, a, b, rollbacks } = await twoClients();
    await a.namespace("doc").claim();
    await a.namespace("doc").grant(b.key.publicKey, "writer");
    await d.certify();
    d.replicateTentative = false;
    const revoke = await a.namespace("doc").revoke(b.key.publicKey);
    const write = await b.counter("doc/words").add(3);
    expect([revoke.tentative.status, write.tentative]).toEqual(["ok", { status: "ok", value: 3 }]);
    await d.certify();
    const final = await write.certified;
    expect(final.result).toMatchObject({ status: "rejected", reason: "not_authorized" });
    expect(final.rolledBack).toBe(true);
    expect(rollbacks.map((e) => e.opId)).toEqual([write.opId]);
    expect((await b.getCertified("doc/words")).certified.value).toBeNull();
  });
});
