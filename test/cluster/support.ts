/** Helpers for the cluster tests: the live nodes' stubs and faults, writes checked end to end. */
import { SELF, env } from "cloudflare:test";
import { expect } from "vitest";
import { verifyCertificate } from "../../shared/certified/certificate.js";
import { verifyResultProof, verifyStateProof } from "../../shared/certified/proofs.js";
import { opIdOf, type SignedOp } from "../../shared/ops.js";
import type { Certificate, ClusterConfig } from "../../shared/certified/types.js";
import type { ClusterInfo } from "../../shared/cluster-config.js";
import { PBFT_NODES } from "../../shared/cluster-config.js";
import type { NodeFaults } from "../../platform/dev-faults/node-faults.js";
import type { CertifiedResult, OpStatusReply, ReadReply } from "../../shared/replies.js";
import { nodeObject } from "../../platform/node-object.js";
import { FAULT_TOKEN } from "../runtime/delivery-helpers.js";
import { REPLICAS, eventually, post, TestClient } from "../runtime/helpers.js";

export const get = (path: string) => SELF.fetch(`https://edge.test${path}`);

/** Node i's Durable Object itself (the tests' one Worker holds the nodes' namespace too). */
export const node = (i: number) => nodeObject(env.PBFT_NODE, PBFT_NODES[i]!);
export const setNodeFaults = (i: number, f: NodeFaults, token = FAULT_TOKEN) =>
  node(i).setFaults(PBFT_NODES[i]!.id, token, f);
export const nodeStatus = (i: number) => node(i).status(PBFT_NODES[i]!.id);
export const allStatus = () => Promise.all(PBFT_NODES.map((_, i) => nodeStatus(i)));
export const clearAllFaults = () => Promise.all(PBFT_NODES.map((_, i) => setNodeFaults(i, {})));

/** The cluster as a client pins it (`GET /v1/cluster`). */
export async function clusterConfig(): Promise<ClusterConfig> {
  const info = (await (await get("/v1/cluster")).json()) as ClusterInfo;
  return {
    cluster: info.cluster,
    f: info.f,
    nodes: info.nodes.map(({ id, publicKey }) => ({ id, publicKey })),
  };
}

/**
 * One counter op per replica (`<tag>/k<i>` += i + 1, at replica i), then, at every replica, each
 * key's certified value with a proof against a certificate that `verifyCertificate` accepts.
 * Returns those certificates (one per replica and key, as last read).
 */
export async function writeAndCertify(tag: string, timeoutMs = 40_000): Promise<Certificate[]> {
  const c = await TestClient.create();
  const keys: string[] = [];
  for (const [i, r] of REPLICAS.entries()) {
    const key = `${tag}/k${i}`;
    expect((await post(await c.sign(key, "counter", "add", { n: i + 1 }), r)).status).toBe(200);
    keys.push(key);
  }
  return expectCertified(keys, (i) => i + 1, timeoutMs);
}

export async function expectCertified(
  keys: readonly string[],
  value: (i: number) => number,
  timeoutMs: number,
): Promise<Certificate[]> {
  const config = await clusterConfig();
  const certificates: Certificate[] = [];
  await eventually(async () => {
    certificates.length = 0;
    for (const r of REPLICAS)
      for (const [i, key] of keys.entries()) {
        const read = (await (
          await get(`/v1/kv/${encodeURIComponent(key)}?replica=${r}`)
        ).json()) as ReadReply;
        expect(read.certified?.value ?? null, `${r} ${key}`).toMatchObject({
          type: "counter",
          value: value(i),
        });
        const root = read.certificate!.body.stateRoot;
        expect(verifyStateProof(root, key, read.certified!.value, read.certified!.proof), `${r} ${key}`).toBe(
          true,
        );
        expect(await verifyCertificate(read.certificate!, config), r).toMatchObject({ ok: true });
        certificates.push(read.certificate!);
      }
  }, timeoutMs);
  return certificates;
}

/** The nodes whose signatures a certificate carries. */
export const signers = (c: Certificate): number[] => c.sigs.map((x) => x.node);

/** An op's status at `replica`, held until it is certified there or 20 s passed (`?wait=certified`). */
export const certifiedStatus = async (op: SignedOp, replica: string): Promise<OpStatusReply> =>
  (await (
    await get(`/v1/ops/${encodeURIComponent(opIdOf(op))}?replica=${replica}&wait=certified&timeoutMs=20000`)
  ).json()) as OpStatusReply;

/** Two ops sent at once, `a` to weur and `b` to apac; each one's certified result, its proof checked. */
export async function raceCertified(a: SignedOp, b: SignedOp): Promise<CertifiedResult[]> {
  const [ra, rb] = await Promise.all([post(a, "weur"), post(b, "apac")]);
  expect([ra.status, rb.status]).toEqual([200, 200]); // ok or rejected, each as its replica saw it
  const results = [
    (await certifiedStatus(a, "weur")).certified!,
    (await certifiedStatus(b, "apac")).certified!,
  ];
  for (const x of results)
    expect(verifyResultProof(x.certificate.body.resultsRoot, x.result, x.proof)).toBe(true);
  return results;
}
