// verifyCertificate's promise: every signature a certificate carries is checked, so one bad
// signature rejects it wherever it sits — also past the first 2f+1 (an honest combiner never adds
// one, so a bad extra is evidence of tampering, not noise to skip).
import { beforeAll, describe, expect, it } from "vitest";
import { toHex, utf8 } from "../../shared/bytes.js";
import { devKeyPair, type KeyPair } from "../../shared/crypto/keys.js";
import { sha256 } from "../../shared/hash.js";
import { signShare, verifyCertificate } from "../../shared/certified/certificate.js";
import { clusterId } from "../../shared/certified/cluster-id.js";
import type { Certificate, CertificateBody, ClusterConfig } from "../../shared/certified/types.js";

const D = (s: string) => toHex(sha256(utf8(s)));
const body = (c: Cluster, over: Partial<CertificateBody> = {}): CertificateBody => ({
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

interface Cluster {
  config: ClusterConfig;
  keys: KeyPair[];
}
async function cluster(f: number): Promise<Cluster> {
  const keys = await Promise.all(
    Array.from({ length: 3 * f + 1 }, (_, i) => devKeyPair("cert-mutants", `f${f}-${i}`)),
  );
  return {
    keys,
    config: { cluster: "mut", f, nodes: keys.map((k, i) => ({ id: `n${i}`, publicKey: k.publicKey })) },
  };
}

/** Every node's signature over `body(c)`, in node order. */
async function allSigs(c: Cluster, b = body(c)): Promise<{ node: number; sig: string }[]> {
  return Promise.all(
    c.keys.map(async (k, i) => {
      const s = await signShare(k.secret, i, b);
      return { node: s.node, sig: s.sig };
    }),
  );
}

describe("verifyCertificate checks every signature it carries", () => {
  const clusters: Cluster[] = [];
  beforeAll(async () => {
    clusters.push(await cluster(1), await cluster(2));
  });

  for (const f of [1, 2]) {
    it(`f = ${f}: a bad signature after 2f+1 good ones rejects, naming that node`, async () => {
      const c = clusters[f - 1]!;
      const good = await allSigs(c);
      const other = await allSigs(c, body(c, { stateRoot: D("forged") }));
      const quorum = 2 * f + 1;
      expect(await verifyCertificate({ body: body(c), sigs: good }, c.config)).toEqual({ ok: true });
      for (let bad = quorum; bad < good.length; bad++) {
        const sigs = good.map((s, i) => (i === bad ? other[i]! : s));
        const cert: Certificate = { body: body(c), sigs };
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
        expect(await verifyCertificate({ body: body(c), sigs }, c.config)).toMatchObject({
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
    expect(await verifyCertificate({ body: body(c), sigs }, c.config)).toMatchObject({
      ok: false,
      reason: "bad_signature",
    });
  });
});
