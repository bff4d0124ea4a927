import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { toHex, utf8 } from "../../../shared/bytes.js";
import { DOMAIN, canonicalBytes } from "../../../shared/canonical.js";
import { devKeyPair, type KeyPair } from "../../../shared/crypto/keys.js";
import { sha256 } from "../../../shared/hash.js";
import type { SignedOp } from "../../../shared/ops.js";
import {
  GENESIS_LOG_ROOT,
  batchDigest,
  certificateBytes,
  certificateDigest,
  certificateOf,
  clusterConfigProblem,
  combineShares,
  countByBody,
  isCertificateBody,
  logRootOf,
  nextLogRoot,
  sameCertificateBody,
  signShare,
  verifyCertificate,
  verifyCertificateWith,
  verifyShare,
} from "../../../shared/certified/certificate.js";
import { clusterId } from "../../../shared/certified/cluster-id.js";
import { PbftBoundary } from "../../../shared/pbft/boundary.js";
import { ed25519Scheme } from "../../../shared/pbft/signature-scheme.js";
import type { Certificate, CertificateBody, ClusterConfig } from "../../../shared/certified/types.js";

const D = (s: string) => toHex(sha256(utf8(s)));

/** The id of the f = 1 test cluster (set per test with it): what its bodies name. */
let id1 = "";
const body = (over: Partial<CertificateBody> = {}): CertificateBody => ({
  cluster: id1,
  view: 0,
  seq: 1,
  logRoot: D("log"),
  stateRoot: D("state"),
  resultsRoot: D("results"),
  opCount: 3,
  time: 1_700_000_000_000,
  ...over,
});

async function cluster(f: number): Promise<{ config: ClusterConfig; keys: KeyPair[] }> {
  const keys = await Promise.all(
    Array.from({ length: 3 * f + 1 }, (_, i) => devKeyPair("cert-test", `pbft-${i}`)),
  );
  return {
    keys,
    config: { cluster: "test", f, nodes: keys.map((k, i) => ({ id: `pbft-${i}`, publicKey: k.publicKey })) },
  };
}

const signAll = (keys: KeyPair[], b: CertificateBody, nodes: number[]) =>
  Promise.all(nodes.map((i) => signShare(keys[i]!.secret, i, b)));

describe("certificates", () => {
  let c1: { config: ClusterConfig; keys: KeyPair[] };
  let c2: { config: ClusterConfig; keys: KeyPair[] };
  // Per test, not in beforeAll (test/support/lazy.ts says why).
  beforeEach(async () => {
    c1 = await cluster(1);
    c2 = await cluster(2);
    id1 = clusterId(c1.config);
  });

  it("signs over canonicalBytes(DOMAIN.certificate, body), ignoring stray fields", () => {
    const b = body();
    expect(certificateBytes(b)).toEqual(canonicalBytes(DOMAIN.certificate, b));
    expect(certificateDigest({ ...b, junk: 1 } as CertificateBody)).toBe(certificateDigest(b));
    expect(certificateDigest(body({ seq: 2 }))).not.toBe(certificateDigest(b));
  });

  for (const f of [1, 2]) {
    it(`2f+1 real Ed25519 shares combine and verify (f = ${f})`, async () => {
      const { config, keys } = f === 1 ? c1 : c2;
      const shares = await signAll(keys, body({ cluster: clusterId(config) }), [...keys.keys()].reverse());
      for (const s of shares) expect(await verifyShare(s, config)).toBe(true);
      const cert = combineShares(shares, config)!;
      expect(cert.sigs.map((s) => s.node)).toEqual([...Array(2 * f + 1).keys()]);
      expect(await verifyCertificate(cert, config)).toEqual({ ok: true });
      expect(combineShares(shares.slice(0, 2 * f), config)).toBeNull();
    });
  }

  it("combineShares ignores duplicates, unknown nodes, other bodies and other clusters", async () => {
    const { config, keys } = c1;
    const [s0, s1] = await signAll(keys, body(), [0, 1]);
    const [o2] = await signAll(keys, body({ stateRoot: D("other") }), [2]);
    const [x3] = await signAll(keys, body({ cluster: "elsewhere" }), [3]);
    expect(combineShares([s0!, s1!, s1!, { ...s0!, node: 9 }, o2!, x3!], config)).toBeNull();
    const [s3] = await signAll(keys, body(), [3]);
    const cert = combineShares([o2!, s0!, s1!, s3!], config)!;
    expect(cert.body).toEqual(body());
    expect(await verifyCertificate(cert, config)).toEqual({ ok: true });
  });

  it("sameCertificateBody: equal exactly when the digests are equal, field by field", () => {
    const b = body();
    expect(sameCertificateBody(b, body())).toBe(true);
    for (const [k, v] of Object.entries({
      cluster: "x",
      view: 1,
      seq: 2,
      logRoot: D("l"),
      stateRoot: D("s"),
      resultsRoot: D("r"),
      opCount: 4,
      time: 1,
    })) {
      const other = body({ [k]: v });
      expect(sameCertificateBody(b, other)).toBe(false);
      expect(certificateDigest(other)).not.toBe(certificateDigest(b));
    }
  });

  it("countByBody groups equal bodies in first-seen order", () => {
    const a = body();
    const b = body({ seq: 2 });
    expect(countByBody([a, b, body(), a]).map((g) => [g.body.seq, g.n])).toEqual([
      [1, 3],
      [2, 1],
    ]);
  });

  it("certificateOf: exactly the quorum, one signature per node (its first), lowest nodes first", () => {
    const b = body();
    const sigs = [
      { node: 3, sig: "d" },
      { node: 1, sig: "b" },
      { node: 1, sig: "b2" },
      { node: 0, sig: "a" },
    ];
    expect(certificateOf(b, sigs.slice(0, 3), 3)).toBeNull(); // nodes 3 and 1 only
    const cert = certificateOf(b, sigs, 3)!;
    expect(cert.body).toBe(b);
    expect(cert.sigs).toEqual([
      { node: 0, sig: "a" },
      { node: 1, sig: "b" },
      { node: 3, sig: "d" },
    ]);
  });

  it("the PBFT boundary checks a certificate as a client does (one verification)", async () => {
    const { config, keys } = c1;
    const cert = combineShares(await signAll(keys, body(), [0, 1, 2]), config)!;
    const boundary = new PbftBoundary(config, 0, ed25519Scheme(config, keys[0]!.secret));
    const tampered = { ...cert, body: body({ stateRoot: D("lie") }) };
    const short = { ...cert, sigs: cert.sigs.slice(0, 2) };
    const twice = { ...cert, sigs: [cert.sigs[0]!, cert.sigs[0]!, cert.sigs[1]!] };
    for (const c of [cert, tampered, short, twice]) {
      const client = await verifyCertificate(c, config);
      expect(await boundary.checkCertificate(c)).toBe(client.ok);
    }
    expect(await boundary.checkCertificate(cert)).toBe(true);
    // With any signature check: the bytes checked are certificateBytes(body).
    const seen: Uint8Array[] = [];
    await verifyCertificateWith(cert, config, async (_n, bytes) => (seen.push(bytes), true));
    for (const bytes of seen) expect(bytes).toEqual(certificateBytes(cert.body));
  });

  it("verifyShare rejects a share signed by another node, or for another body", async () => {
    const { config, keys } = c1;
    const [s0] = await signAll(keys, body(), [0]);
    expect(await verifyShare({ ...s0!, node: 1 }, config)).toBe(false);
    expect(await verifyShare({ ...s0!, body: body({ seq: 9 }) }, config)).toBe(false);
    expect(await verifyShare({ ...s0!, node: 4 }, config)).toBe(false);
  });

  it("isCertificateBody: exactly the known fields, a non-empty cluster; never throws on junk", () => {
    expect(isCertificateBody(body())).toBe(true);
    for (const junk of [null, undefined, 5, "body", [], [body()]])
      expect(isCertificateBody(junk)).toBe(false);
    expect(isCertificateBody(body({ cluster: "" }))).toBe(false);
    expect(isCertificateBody({ ...body(), cluster: 5 })).toBe(false);
  });

  it("clusterConfigProblem names what is wrong with a config, and never throws", () => {
    const { config } = c1;
    expect(clusterConfigProblem(config)).toBeNull();
    for (const junk of [null, undefined, "config", 4])
      expect(clusterConfigProblem(junk as never)).toBe("not an object");
    expect(clusterConfigProblem({ ...config, cluster: "" })).toBe("no cluster name");
    expect(clusterConfigProblem({ ...config, cluster: 5 as never })).toBe("no cluster name");
    expect(clusterConfigProblem({ ...config, f: 0 })).toBe("f must be an integer ≥ 1");
    expect(clusterConfigProblem({ ...config, nodes: config.nodes.slice(1) })).toBe("n must be 3f+1");
    const keyless = [{ id: "pbft-0" }, ...config.nodes.slice(1)] as ClusterConfig["nodes"];
    expect(clusterConfigProblem({ ...config, nodes: keyless })).toBe("a node has no public key");
    expect(clusterConfigProblem({ ...config, nodes: [null as never, ...config.nodes.slice(1)] })).toBe(
      "a node has no public key",
    );
  });

  it("verifyShare refuses what is not a share, and a share signed for another cluster", async () => {
    const { config, keys } = c1;
    const [s0] = await signAll(keys, body(), [0]);
    expect(await verifyShare(s0!, config)).toBe(true);
    for (const junk of [null, undefined, 7, "share", { ...s0!, sig: 5 }, { ...s0!, sig: undefined }])
      expect(await verifyShare(junk as never, config)).toBe(false);
    // Validly signed by node 0, but for a cluster of the same keys under another name.
    const other = { ...config, cluster: "other" };
    const [elsewhere] = await signAll(keys, body({ cluster: clusterId(other) }), [0]);
    expect(await verifyShare(elsewhere!, other)).toBe(true);
    expect(await verifyShare(elsewhere!, config)).toBe(false);
  });

  describe("verifyCertificate rejects", () => {
    let good: Certificate;
    let fourth: { node: number; sig: string };
    // Per test: code reached in beforeAll counts as module-level for mutation testing (see
    // test/unit/evidence/verify.test.ts).
    beforeEach(async () => {
      const shares = await signAll(c1.keys, body(), [0, 1, 2, 3]);
      good = combineShares(shares, c1.config)!;
      fourth = { node: 3, sig: shares[3]!.sig };
    });
    const expectReject = async (cert: unknown, reason: string, config = c1.config) =>
      expect(await verifyCertificate(cert as Certificate, config)).toMatchObject({ ok: false, reason });

    it("accepts all four signatures too", async () => {
      expect(await verifyCertificate({ ...good, sigs: [...good.sigs, fourth] }, c1.config)).toEqual({
        ok: true,
      });
    });
    it("too few signatures", () =>
      expectReject({ ...good, sigs: good.sigs.slice(0, 2) }, "too_few_signatures"));
    it("no signatures", () => expectReject({ ...good, sigs: [] }, "too_few_signatures"));
    it("a duplicated node", () =>
      expectReject({ ...good, sigs: [good.sigs[0], good.sigs[1], good.sigs[1]] }, "duplicate_node"));
    it("an unknown node index", async () => {
      for (const node of [4, -1, 1.5, "0"])
        await expectReject(
          { ...good, sigs: [...good.sigs.slice(0, 2), { node, sig: good.sigs[2]!.sig }] },
          "unknown_node",
        );
    });
    it("a wrong signature (swapped between nodes)", () =>
      expectReject(
        { ...good, sigs: [good.sigs[0], good.sigs[1], { node: 2, sig: fourth.sig }] },
        "bad_signature",
      ));
    it("a garbage signature", () =>
      expectReject({ ...good, sigs: [...good.sigs.slice(0, 2), { node: 2, sig: "AAAA" }] }, "bad_signature"));
    it("a body that doesn't match what was signed", async () => {
      for (const change of [{ stateRoot: D("forged") }, { seq: 2 }, { opCount: 4 }, { time: 1 }, { view: 1 }])
        await expectReject({ ...good, body: { ...good.body, ...change } }, "bad_signature");
    });
    it("signatures gathered over different bodies", async () => {
      const other = await signAll(c1.keys, body({ resultsRoot: D("r2") }), [2]);
      await expectReject(
        { ...good, sigs: [...good.sigs.slice(0, 2), { node: 2, sig: other[0]!.sig }] },
        "bad_signature",
      );
    });
    it("another cluster's certificate", () =>
      expectReject(good, "wrong_cluster", { ...c1.config, cluster: "prod" }));
    it("a malformed body or signature list", async () => {
      await expectReject({ ...good, body: { ...good.body, extra: 1 } }, "malformed");
      await expectReject({ ...good, body: { ...good.body, logRoot: "abc" } }, "malformed");
      await expectReject({ ...good, body: { ...good.body, seq: -1 } }, "malformed");
      await expectReject({ body: good.body }, "malformed");
      await expectReject(null, "malformed");
      await expectReject({ ...good, body: null }, "malformed");
      await expectReject({ ...good, body: [] }, "malformed");
      await expectReject({ ...good, sigs: [null, ...good.sigs] }, "malformed");
      await expectReject({ ...good, sigs: [{ node: 0, sig: 5 }, ...good.sigs.slice(1)] }, "malformed");
      await expectReject({ ...good, sigs: [{ node: 0 }, ...good.sigs.slice(1)] }, "malformed");
    });
    it("a cluster config that isn't n = 3f+1 with f ≥ 1", async () => {
      await expectReject(good, "bad_config", { ...c1.config, f: 0 });
      await expectReject(good, "bad_config", { ...c1.config, nodes: c1.config.nodes.slice(0, 3) });
      await expectReject(good, "bad_config", { ...c1.config, f: 2 });
    });
    it("an f = 1 certificate against an f = 2 cluster (too few for 2f+1 = 5)", async () => {
      const b = body({ cluster: clusterId(c2.config) });
      const shares = await signAll(c2.keys, b, [0, 1, 2]);
      await expectReject(
        { body: b, sigs: shares.map(({ node, sig }) => ({ node, sig })) },
        "too_few_signatures",
        c2.config,
      );
    });
  });
});

describe("log chain", () => {
  const op = (seq: number): SignedOp => ({
    client: "A".repeat(43),
    seq,
    key: "k",
    type: "counter",
    op: "add",
    args: { n: seq },
    ts: seq,
    sig: "S".repeat(86),
  });

  it("logRoot_s = H(logRoot_{s-1} ‖ H(batch_s)) from a fixed genesis", () => {
    expect(GENESIS_LOG_ROOT).toBe(D("aspec/log/v1\ngenesis"));
    const b1 = [op(1), op(2)];
    const b2 = [op(3)];
    const r1 = nextLogRoot(GENESIS_LOG_ROOT, batchDigest(b1));
    const raw = new Uint8Array(64);
    raw.set(sha256(utf8("aspec/log/v1\ngenesis")), 0);
    raw.set(sha256(canonicalBytes("aspec/batch/v1", b1)), 32);
    expect(r1).toBe(toHex(sha256(raw)));
    expect(logRootOf([b1, b2])).toBe(nextLogRoot(r1, batchDigest(b2)));
  });

  it("commits to order, content and signatures", () => {
    const a = logRootOf([[op(1)], [op(2)]]);
    expect(logRootOf([[op(2)], [op(1)]])).not.toBe(a);
    expect(logRootOf([[op(1), op(2)]])).not.toBe(a);
    expect(batchDigest([{ ...op(1), sig: "T".repeat(86) }])).not.toBe(batchDigest([op(1)]));
    expect(batchDigest([])).toBe(toHex(sha256(canonicalBytes("aspec/batch/v1", []))));
  });

  it("refuses a malformed digest", () => {
    expect(() => nextLogRoot("xyz", GENESIS_LOG_ROOT)).toThrow();
  });

  it("refuses a malformed digest on either side with a clear error", () => {
    expect(() => nextLogRoot("zz", GENESIS_LOG_ROOT)).toThrow(/nextLogRoot: not a hex SHA-256 digest/);
    expect(() => nextLogRoot(GENESIS_LOG_ROOT, "zz")).toThrow(/nextLogRoot: not a hex SHA-256 digest/);
    expect(() => nextLogRoot(GENESIS_LOG_ROOT, "A".repeat(64))).toThrow(/not a hex SHA-256 digest/);
  });
});

// verifyCertificate's promise: every signature a certificate carries is checked, so one bad
// signature rejects it wherever it sits — also past the first 2f+1 (an honest combiner never adds
// one, so a bad extra is evidence of tampering, not noise to skip).
const signedBody = (c: SigningCluster, over: Partial<CertificateBody> = {}): CertificateBody => ({
  cluster: clusterId(c.config),
  view: 0,
  seq: 4,
  logRoot: D("log"),
  stateRoot: D("state"),
  resultsRoot: D("results"),
  opCount: 2,
  time: 1_700_000_000_000,
  ...over,
});

interface SigningCluster {
  config: ClusterConfig;
  keys: KeyPair[];
}
async function signingCluster(f: number): Promise<SigningCluster> {
  const keys = await Promise.all(
    Array.from({ length: 3 * f + 1 }, (_, i) => devKeyPair("cert-every-sig", `f${f}-${i}`)),
  );
  return {
    keys,
    config: { cluster: "every-sig", f, nodes: keys.map((k, i) => ({ id: `n${i}`, publicKey: k.publicKey })) },
  };
}

/** Every node's signature over `signedBody(c)`, in node order. */
async function allSigs(c: SigningCluster, b = signedBody(c)): Promise<{ node: number; sig: string }[]> {
  return Promise.all(
    c.keys.map(async (k, i) => {
      const s = await signShare(k.secret, i, b);
      return { node: s.node, sig: s.sig };
    }),
  );
}

describe("verifyCertificate checks every signature it carries", () => {
  const clusters: SigningCluster[] = [];
  beforeAll(async () => {
    clusters.push(await signingCluster(1), await signingCluster(2));
  });

  for (const f of [1, 2]) {
    it(`f = ${f}: a bad signature after 2f+1 good ones rejects, naming that node`, async () => {
      const c = clusters[f - 1]!;
      const good = await allSigs(c);
      const other = await allSigs(c, signedBody(c, { stateRoot: D("forged") }));
      const quorum = 2 * f + 1;
      expect(await verifyCertificate({ body: signedBody(c), sigs: good }, c.config)).toEqual({ ok: true });
      for (let bad = quorum; bad < good.length; bad++) {
        const sigs = good.map((s, i) => (i === bad ? other[i]! : s));
        const cert: Certificate = { body: signedBody(c), sigs };
        expect(await verifyCertificate(cert, c.config)).toEqual({
          ok: false,
          reason: "bad_signature",
          detail: `node ${bad}`,
        });
      }
    });

    it(`f = ${f}: a bad signature in any position rejects, whatever order the list is in`, async () => {
      const c = clusters[f - 1]!;
      const good = await allSigs(c);
      for (let bad = 0; bad < good.length; bad++) {
        // the bad one last, after all the good ones, in reverse node order
        const sigs = [
          ...good.filter((_, i) => i !== bad).reverse(),
          { node: bad, sig: good[(bad + 1) % good.length]!.sig },
        ];
        expect(await verifyCertificate({ body: signedBody(c), sigs }, c.config)).toMatchObject({
          ok: false,
          reason: "bad_signature",
          detail: `node ${bad}`,
        });
      }
    });
  }

  it("a garbage extra signature rejects too", async () => {
    const c = clusters[0]!;
    const good = await allSigs(c);
    const sigs = [...good.slice(0, 3), { node: 3, sig: "AAAA" }];
    expect(await verifyCertificate({ body: signedBody(c), sigs }, c.config)).toMatchObject({
      ok: false,
      reason: "bad_signature",
    });
  });
});
