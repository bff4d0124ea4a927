// client/certificates.ts CertificateGuard, driven directly (it is exported SDK API): what it tells a
// caller about each certificate it refuses, the exact freshness bound, a replica's seq going back
// to "none", and that its verified-certificate cache is never shared by certificates whose JSON
// does not identify them. Real Ed25519 certificates signed by the four test nodes.
import { beforeEach, describe, expect, it } from "vitest";
import { CertificateGuard } from "../../../client/certificates.js";
import { checkCluster, type PinnedCluster } from "../../../client/cluster.js";
import { signShare } from "../../../shared/certified/certificate.js";
import { clusterId } from "../../../shared/certified/cluster-id.js";
import type { Certificate, CertificateBody } from "../../../shared/certified/types.js";
import { testCluster, type TestCluster } from "../../support/sdk-deployment.js";

let tc: TestCluster;
let pinned: PinnedCluster;
// Per test, not in beforeAll (test/support/lazy.ts says why).
beforeEach(async () => {
  tc = await testCluster("certificate-guard");
  pinned = checkCluster(tc.info);
});

const T0 = 1_700_000_000_000;

const bodyAt = (seq: number, time = T0): CertificateBody => ({
  cluster: clusterId(tc.config),
  view: 0,
  seq,
  logRoot: "a".repeat(64),
  stateRoot: "b".repeat(64),
  resultsRoot: "c".repeat(64),
  opCount: seq,
  time,
});

/** A certificate of `body` signed by `signers` (2f+1 = 3 needed). */
async function certOf(body: CertificateBody, signers = [0, 1, 2]): Promise<Certificate> {
  const shares = await Promise.all(signers.map((i) => signShare(tc.nodes[i]!.secret, i, body)));
  return { body, sigs: shares.map((s) => ({ node: s.node, sig: s.sig })) };
}

const guard = (now = () => T0, maxAgeMs?: number) => new CertificateGuard(pinned, { now, maxAgeMs });

describe("what the guard remembers per replica", () => {
  it("seqOf is the newest seq a replica showed, 0 for a replica never heard from", async () => {
    const g = guard();
    expect(g.seqOf("weur")).toBe(0);
    g.observe(await certOf(bodyAt(5)), "weur");
    expect(g.seqOf("weur")).toBe(5);
    expect(g.seqOf("apac")).toBe(0);
    expect(g.highestSeq).toBe(5);
  });

  it("a replica that showed a certificate and later shows none contradicts itself; a reply to an earlier request does not", async () => {
    const g = guard();
    const early = g.mark(); // a request sent before the reply below was received
    g.observe(await certOf(bodyAt(5)), "weur");
    const p = await g.check(null, "weur", g.mark());
    expect(p?.reason).toBe("certificate_regressed");
    expect(p?.message).toContain("weur");
    expect(p?.message).toContain("seq 5");
    expect(p?.message).toContain("none");
    expect(await g.check(null, "weur", early)).toBeNull(); // sent before: a late reply, no lie
    expect(await g.check(null, "enam", g.mark())).toBeNull(); // another replica, simply behind
  });

  it("a regression is reported with both seqs, so the caller can see what went back", async () => {
    const g = guard();
    g.observe(await certOf(bodyAt(5)), "weur");
    const p = await g.check(await certOf(bodyAt(3)), "weur", g.mark());
    expect(p?.reason).toBe("certificate_regressed");
    expect(p?.message).toMatch(/seq 5\b.*\b3\b/);
  });

  it("the reply's own signed time plays no part: only the client's receive order does", async () => {
    // a reply to a request sent after seq 5 was received, showing seq 3 of a certificate (and, were
    // it the reply's time, a reply) from a minute before: regressed, whatever the times say
    const g2 = guard(() => T0, Infinity);
    g2.observe(await certOf(bodyAt(5)), "weur");
    expect((await g2.check(await certOf(bodyAt(3, T0 - 60_000)), "weur", g2.mark()))?.reason).toBe(
      "certificate_regressed",
    );
  });

  it("without a send mark every reply recorded counts as received before the request", async () => {
    const g = guard();
    g.observe(await certOf(bodyAt(5)), "weur");
    expect((await g.check(await certOf(bodyAt(3)), "weur"))?.reason).toBe("certificate_regressed");
  });

  it("an unbound reply (no nonce: a cached certified read) that goes back is reply_replayed, not the replica's regression", async () => {
    const g = guard();
    g.observe(await certOf(bodyAt(5)), "weur");
    const p = await g.check(await certOf(bodyAt(3)), "weur", g.mark(), false);
    expect(p?.reason).toBe("reply_replayed");
    expect(p?.message).toContain("nonce");
  });

  it("the same seq seen again later keeps the mark of the first reply that showed it", async () => {
    const g = guard();
    g.observe(await certOf(bodyAt(5)), "weur");
    const between = g.mark();
    g.observe(await certOf(bodyAt(5)), "weur");
    expect((await g.check(await certOf(bodyAt(3)), "weur", between))?.reason).toBe("certificate_regressed");
  });

  it("an older seq received later changes nothing the newer seq decided", async () => {
    const g = guard();
    const before = g.mark();
    g.observe(await certOf(bodyAt(5)), "weur");
    g.observe(await certOf(bodyAt(3)), "weur");
    expect(g.seqOf("weur")).toBe(5);
    // A reply to a request sent before seq 5 was received: still a late reply, not a lie.
    expect(await g.check(await certOf(bodyAt(3)), "weur", before)).toBeNull();
  });

  it("highestSeq is the newest seq of any replica: a replica behind does not lower it", async () => {
    const g = guard();
    g.observe(await certOf(bodyAt(5)), "weur");
    g.observe(await certOf(bodyAt(2)), "enam");
    expect(g.highestSeq).toBe(5);
    expect(g.seqOf("enam")).toBe(2);
  });
});

describe("freshness (maxCertificateAgeMs)", () => {
  it("the default bound is 10 s; Infinity opts out; clockSkewMs widens the bound", async () => {
    let now = T0 + 10_000;
    const c = await certOf(bodyAt(2));
    expect(await guard(() => now).check(c, "weur")).toBeNull();
    now += 1;
    expect((await guard(() => now).check(c, "weur"))?.reason).toBe("certificate_stale");
    expect(await guard(() => now, Infinity).check(c, "weur")).toBeNull();
    const skewed = new CertificateGuard(pinned, { now: () => now, clockSkewMs: 1 });
    expect(await skewed.check(c, "weur")).toBeNull();
  });

  it("a certificate exactly maxAgeMs old is accepted; one ms older is stale, with its age and the bound", async () => {
    let now = T0 + 1_000;
    const g = guard(() => now, 1_000);
    const c = await certOf(bodyAt(2));
    expect(await g.check(c, "weur", now)).toBeNull();
    now += 1;
    const p = await g.check(c, "weur", now);
    expect(p?.reason).toBe("certificate_stale");
    expect(p?.message).toContain("1001 ms");
    expect(p?.message).toContain("max 1000 ms");
  });
});

describe("refused certificates say why", () => {
  it("the verifier's reason and detail are in the message", async () => {
    const g = guard();
    const p = await g.verify(await certOf(bodyAt(1), [0, 1])); // 2 of 3 signatures
    expect(p?.reason).toBe("bad_certificate");
    expect(p?.message).toContain("certificate refused");
    expect(p?.message).toContain("too_few_signatures (2 < 3)");
  });

  it("a reason without a detail is given alone, with nothing appended", async () => {
    const g = guard();
    const c = await certOf(bodyAt(1));
    const p = await g.verify({ ...c, body: { ...c.body, cluster: "another-cluster" } });
    expect(p?.reason).toBe("bad_certificate");
    expect(p?.message).toMatch(/: wrong_cluster$/);
  });
});

describe("the verified-certificate cache", () => {
  it("a certificate whose JSON is undefined is verified every time: a forged one never rides on a good one", async () => {
    const g = guard();
    const good = await certOf(bodyAt(1));
    const forged = { ...good, body: { ...good.body, stateRoot: "d".repeat(64) } }; // signatures no longer match
    const noJson = <T extends object>(c: T) => ({ ...c, toJSON: () => undefined });
    expect(await g.verify(noJson(good))).toBeNull();
    expect((await g.verify(noJson(forged)))?.reason).toBe("bad_certificate");
  });

  it("a certificate that cannot be serialized is verified every time too", async () => {
    const g = guard();
    const good = await certOf(bodyAt(1));
    const forged = { ...good, body: { ...good.body, stateRoot: "d".repeat(64) } };
    const circular = (c: Certificate) => {
      const x: Record<string, unknown> = { ...c };
      x.self = x; // JSON.stringify throws
      return x;
    };
    expect(await g.verify(circular(good))).toBeNull();
    expect((await g.verify(circular(forged)))?.reason).toBe("bad_certificate");
  });

  it("a certificate seen before is accepted again, and a changed copy is checked afresh", async () => {
    const g = guard();
    const good = await certOf(bodyAt(1));
    expect(await g.verify(good)).toBeNull();
    expect(await g.verify(structuredClone(good))).toBeNull();
    const forged = { ...good, body: { ...good.body, seq: 2 } };
    expect((await g.verify(forged))?.reason).toBe("bad_certificate");
  });
});
