/**
 * One PBFT node faulty at a time (f = 1), through its dev-only fault RPC (platform/dev-faults/node-faults.ts),
 * in the live cluster: ops written at the three replicas are still certified, every replica holds a
 * certificate that verifies and proves the written values. Also: the fault RPC is refused without
 * the token, and faults never act outside dev. Storage is shared by the tests of this file (keys
 * differ; faults are switched off after each test); the view-0 primary pbft-0 equivocates here
 * before any view change (test order matters).
 */
import { env, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { FAULT_INJECTION_OFF } from "../../shared/config.js";
import { PBFT_NODES } from "../../shared/cluster-config.js";
import type { PbftNode } from "../../durable-objects/pbft-node.js";
import type { Certificate } from "../../shared/certified/types.js";
import type { Env } from "../../platform/env.js";
import { certifiedBatchesOf } from "../../platform/pbft-node-stub.js";
import { CERTIFIED_BATCHES_MAX } from "../../shared/rpc/nodes.js";
import { eventually } from "../runtime/helpers.js";
import {
  allStatus,
  clearAllFaults,
  node,
  nodeStatus,
  setNodeFaults,
  signers,
  writeAndCertify,
} from "./support.js";

afterEach(clearAllFaults);

/** The message a refused call threw (null: it was not refused). */
const refusal = (p: PromiseLike<unknown>): Promise<string | null> =>
  Promise.resolve(p).then(
    () => null,
    (e: unknown) => (e instanceof Error ? e.message : String(e)),
  );

describe("a faulty PBFT node (dev faults)", () => {
  it("the fault RPC is refused without the token, and faults act only in dev", async () => {
    expect(await refusal(setNodeFaults(1, { silent: true }, "wrong-token"))).toBe(FAULT_INJECTION_OFF);
    expect(await refusal(setNodeFaults(1, { silent: true }, ""))).toBe(FAULT_INJECTION_OFF);
    expect((await nodeStatus(1)).faults).toEqual({});
    await setNodeFaults(1, { silent: true });
    expect((await nodeStatus(1)).faults).toEqual({ silent: true });
    // outside dev: the RPC is refused even with the token, and stored faults are not in force
    await runInDurableObject(node(1), async (object) => {
      const instance = object as unknown as PbftNode;
      const e = (object as unknown as { env: Env }).env;
      const was = e.ENVIRONMENT;
      e.ENVIRONMENT = "production";
      try {
        await expect(instance.setFaults(PBFT_NODES[1]!.id, env.FAULT_TOKEN!, {})).rejects.toThrow(
          FAULT_INJECTION_OFF,
        );
        expect((await instance.status(PBFT_NODES[1]!.id)).faults).toEqual({});
      } finally {
        e.ENVIRONMENT = was;
      }
    });
    expect((await nodeStatus(1)).faults).toEqual({ silent: true }); // kept (refused call changed nothing)
  });

  it("a node signing shares over a wrong stateRoot: ops are still certified at every replica", async () => {
    await setNodeFaults(2, { wrongRoots: true });
    const certificates = await writeAndCertify("nf-wrongroots");
    // its shares match no one's: no certificate made while it signed wrong roots carries its signature
    for (const c of certificates) expect(signers(c)).not.toContain(2);
    // its own core stays right: it completes the same certificates (its own share is the right one)
    await eventually(async () => {
      const s = await allStatus();
      expect(s[2]!.lastExecuted).toBe(Math.max(...s.map((x) => x.lastExecuted)));
      expect(s[2]!.uncertifiedFrom).toBe(Math.max(...s.map((x) => x.uncertifiedFrom)));
    }, 10_000);
    // and no right signature of its own leaves it: the batches it serves replicas carry none
    // (it keeps them as its own core certified them, with its right signature: served once the fault is off)
    const batchesOf = async () =>
      (JSON.parse(await certifiedBatchesOf(env, PBFT_NODES[2]!, 1, CERTIFIED_BATCHES_MAX)) as string[]).map(
        (t) => JSON.parse(t) as { certificate: Certificate },
      );
    const served = await batchesOf();
    expect(served.length).toBeGreaterThan(0);
    for (const b of served) expect(signers(b.certificate)).not.toContain(2);
    await setNodeFaults(2, {});
    const again = await batchesOf();
    expect(again.some((b) => signers(b.certificate).includes(2))).toBe(true);
  });

  it("the view-0 primary pbft-0 equivocating: ops are still certified at every replica, after a view change", async () => {
    expect((await nodeStatus(0)).view).toBe(0);
    await setNodeFaults(0, { equivocate: true });
    await writeAndCertify("nf-equivocate");
    const views = (await allStatus()).map((x) => x.view);
    expect(Math.max(...views)).toBeGreaterThanOrEqual(1);
  });
});
