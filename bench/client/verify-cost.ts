/**
 * The client's verification cost per reply, on replies from the in-test deployment
 * (test/support/sdk-deployment.ts: real Ed25519, real certificates and proofs over a state of
 * `keys` keys). Measured with the SDK's own verifiers, each reply with a fresh `CertificateGuard`
 * (so its certificate is verified, not found in the cache), and once more with a warm guard.
 */
import { performance } from "node:perf_hooks";
import { AspecClient } from "../../client/client.js";
import { CertificateGuard } from "../../client/certificates.js";
import { checkCluster } from "../../client/cluster.js";
import { verifyOpStatusReply, verifyReadReply } from "../../client/verify.js";
import { verifyResultProof, verifyStateProof } from "../../shared/certified/proofs.js";
import type { ClusterInfo } from "../../shared/cluster-config.js";
import type { OpStatusReply, ReadReply } from "../../shared/replies.js";
import { TestDeployment } from "../../test/support/sdk-deployment.js";

export interface Samples {
  cluster: ClusterInfo;
  pinned: [string, string][];
  opStatus: OpStatusReply;
  read: ReadReply;
  key: string;
}

/** A certified state of `keys` keys written in `batch`-op batches, and one signed reply of each kind. */
export async function makeSamples(keys: number, batch = 64): Promise<Samples> {
  const d = await TestDeployment.create();
  const c = await AspecClient.connect(d.connectOptions({ replica: "weur", maxUncertified: Infinity }));
  let last = "";
  for (let i = 0; i < keys; i++) {
    last = (await c.counter(`k${i}`).add(i + 1)).opId;
    if ((i + 1) % batch === 0) await d.certify();
  }
  await d.certify();
  const get = async (path: string) => (await d.fetch(`http://deployment.test${path}?replica=weur`)).json();
  return {
    cluster: d.cluster.info,
    pinned: d.replicas.map((r) => [r.name, r.key.publicKey]),
    opStatus: (await get(`/v1/ops/${encodeURIComponent(last)}`)) as OpStatusReply,
    read: (await get(`/v1/kv/k${keys - 1}`)) as ReadReply,
    key: `k${keys - 1}`,
  };
}

export interface Cost {
  what: string;
  us: number;
}

async function time(n: number, f: () => Promise<unknown> | unknown): Promise<number> {
  for (let i = 0; i < Math.min(50, n); i++) await f(); // warm up
  const t = performance.now();
  for (let i = 0; i < n; i++) await f();
  return ((performance.now() - t) * 1000) / n;
}

export async function measureNode(s: Samples, n: number): Promise<Cost[]> {
  const cluster = checkCluster(s.cluster);
  const pinned = new Map(s.pinned);
  // the samples are made once and verified many times: their age is not what is measured
  const fresh = () => new CertificateGuard(cluster, { now: Date.now, maxAgeMs: Infinity });
  const warm = fresh();
  const st = s.opStatus.certified!;
  const cv = s.read.certified!;
  return [
    {
      what: "op result reply (signature + certificate + result proof)",
      us: await time(n, () =>
        verifyOpStatusReply(s.opStatus, { replica: "weur", opId: s.opStatus.opId }, pinned, fresh()),
      ),
    },
    {
      what: "certified read reply (signature + certificate + state proof)",
      us: await time(n, () => verifyReadReply(s.read, { replica: "weur", key: s.key }, pinned, fresh())),
    },
    {
      what: "certified read reply, certificate already verified",
      us: await time(n, () => verifyReadReply(s.read, { replica: "weur", key: s.key }, pinned, warm)),
    },
    {
      what: `state proof alone (${cv.proof.siblings.length} levels)`,
      us: await time(n * 10, () => verifyStateProof(cv.stateRoot, s.key, cv.value, cv.proof)),
    },
    {
      what: `result proof alone (${st.proof.path.length} hashes)`,
      us: await time(n * 10, () => verifyResultProof(st.certificate.body.resultsRoot, st.result, st.proof)),
    },
  ];
}

/**
 * The same measurements as page code for the browser bundle (a string: it runs in Chromium).
 * Returns microseconds in the order of `measureNode`'s first three rows.
 */
export const browserScript = (s: Samples, n: number) => `(async () => {
  const url = URL.createObjectURL(new Blob([window.__bundle], { type: "text/javascript" }));
  const { CertificateGuard, checkCluster, verifyOpStatusReply, verifyReadReply } = await import(url);
  const s = ${JSON.stringify(s)};
  const cluster = checkCluster(s.cluster);
  const pinned = new Map(s.pinned);
  const fresh = () => new CertificateGuard(cluster, { now: Date.now, maxAgeMs: Infinity });
  const warm = fresh();
  const time = async (n, f) => {
    for (let i = 0; i < Math.min(50, n); i++) await f();
    const t = performance.now();
    for (let i = 0; i < n; i++) await f();
    return ((performance.now() - t) * 1000) / n;
  };
  return [
    await time(${n}, () => verifyOpStatusReply(s.opStatus, { replica: "weur", opId: s.opStatus.opId }, pinned, fresh())),
    await time(${n}, () => verifyReadReply(s.read, { replica: "weur", key: s.key }, pinned, fresh())),
    await time(${n}, () => verifyReadReply(s.read, { replica: "weur", key: s.key }, pinned, warm)),
  ];
})()`;
