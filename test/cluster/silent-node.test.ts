/**
 * A silent PBFT node (dev fault: nothing leaves it, no certificate posted) in the live cluster: the
 * view-0 primary pbft-0, then the designated poster of some seq (`seq mod n`), whose seq must still
 * reach every replica through the fallback poster (`(seq + 1) mod n`, CERT_FALLBACK_MS later) —
 * which, with every node honest, posts nothing the replicas already have. Storage is shared by the
 * tests of this file (keys differ; faults are switched off after each test); the first silent-node
 * test needs view 0 (test order matters: the honest one before it changes no view).
 */
import { afterEach, describe, expect, it } from "vitest";
import { PBFT_NODES } from "../../shared/cluster-config.js";
import type { CertificateReply } from "../../shared/replies.js";
import type { NodeStatus } from "../../shared/rpc/nodes.js";
import { verifyCertificate } from "../../shared/certified/certificate.js";
import { REPLICAS, eventually, post, stub, TestClient } from "../runtime/helpers.js";
import {
  allStatus,
  clearAllFaults,
  clusterConfig,
  expectCertified,
  get,
  nodeStatus,
  setNodeFaults,
  signers,
  writeAndCertify,
} from "./support.js";

afterEach(clearAllFaults);

const n = PBFT_NODES.length;
const certifiedSeqs = () => Promise.all(REPLICAS.map(async (r) => (await stub(r).stats()).certification.seq));

/** Posts node `i` sent before its fault (heartbeats certify a seq every 2 s) settle first: they count as before. */
const postsSettled = (i: number) =>
  eventually(async () => expect((await nodeStatus(i)).postsInFlight).toBe(0));

describe("the fallback poster, every node honest", () => {
  it("posts only what some replica lacks: with every poster honest, the due fallbacks are skipped", async () => {
    const sum = (xs: NodeStatus[], f: (x: NodeStatus) => number) => xs.reduce((a, x) => a + f(x), 0);
    const before = await allStatus();
    await writeAndCertify("sn-none");
    // the fallbacks of the write's seqs (and of the heartbeats meanwhile) come due 2 s later
    // (CERT_FALLBACK_MS) and find the seq at every replica: skipped, not posted
    let after = before;
    await eventually(async () => {
      after = await allStatus();
      expect(sum(after, (x) => x.fallbacksSkipped)).toBeGreaterThan(
        sum(before, (x) => x.fallbacksSkipped) + 1,
      );
    }, 15_000);
    const skipped = sum(after, (x) => x.fallbacksSkipped) - sum(before, (x) => x.fallbacksSkipped);
    const posted = sum(after, (x) => x.fallbacksPosted) - sum(before, (x) => x.fallbacksPosted);
    // (a heartbeat's seq still on its way to a replica when its fallback came due is posted: rare)
    expect(posted, `posted ${posted}, skipped ${skipped}`).toBeLessThan(skipped);
  });
});

describe("a silent PBFT node (dev fault)", () => {
  it("the view-0 primary pbft-0 silent: ops are still certified at every replica, after a view change", async () => {
    expect((await nodeStatus(0)).view).toBe(0);
    await setNodeFaults(0, { silent: true });
    await postsSettled(0);
    const posted = (await nodeStatus(0)).certificatesPosted;
    const certificates = await writeAndCertify("sn-primary");
    for (const c of certificates) expect(signers(c)).not.toContain(0); // it sent no share
    const s = await allStatus();
    expect(Math.max(...s.map((x) => x.view))).toBeGreaterThanOrEqual(1);
    expect(s[0]!.certificatesPosted).toBe(posted); // it posted nothing
  });

  it("the designated poster of a seq silent: that seq still reaches every replica (the next node in line posts it)", async () => {
    const view = Math.max(...(await allStatus()).map((x) => x.view));
    const silent = (view + 2) % n; // not the primary: no view change needed
    const fallback = (silent + 1) % n;
    await setNodeFaults(silent, { silent: true });
    await postsSettled(silent);
    const before = await allStatus();
    const start = Math.min(...(await certifiedSeqs()));
    const c = await TestClient.create();
    // one op at a time, each certified everywhere, until the replicas are past a seq `silent` was to post
    let target: number | null = null;
    for (let i = 0; i < 12 && target === null; i++) {
      const key = `sn-fallback/k${i}`;
      expect(
        (await post(await c.sign(key, "counter", "add", { n: 1 }), REPLICAS[i % REPLICAS.length])).status,
      ).toBe(200);
      await expectCertified([key], () => 1, 30_000);
      const head = Math.min(...(await certifiedSeqs()));
      for (let s = start + 1; s <= head; s++) if (s % n === silent) target = s;
    }
    expect(target, "no seq of the silent poster was reached").not.toBeNull();
    const after = await allStatus();
    expect(after[silent]!.certificatesPosted).toBe(before[silent]!.certificatesPosted);
    expect(after[fallback]!.fallbacksPosted).toBeGreaterThan(before[fallback]!.fallbacksPosted);
    const config = await clusterConfig();
    for (const r of REPLICAS) {
      const reply = (await (await get(`/v1/certificates/${target}?replica=${r}`)).json()) as CertificateReply;
      expect(reply.certificate?.body.seq, r).toBe(target);
      expect(await verifyCertificate(reply.certificate!, config), r).toMatchObject({ ok: true });
    }
  });
});
