/**
 * The four PBFT nodes live inside workerd (real SQLite-backed Durable Objects, real alarms, real
 * local queues, real Ed25519): ops written at the edge reach the nodes through the replicate queue,
 * are ordered and executed, and their certified batches reach every replica through the
 * certificates queue. Nothing here is hand-made: the certificates are the nodes' own.
 */
import { SELF, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { verifyCertificate } from "../../shared/certified/certificate.js";
import { verifyStateProof } from "../../shared/certified/proofs.js";
import type { ClusterInfo } from "../../shared/cluster-config.js";
import { PBFT_NODES } from "../../shared/cluster-config.js";
import type { CertificateReply, ReadReply } from "../../shared/replies.js";
import { pbftNodeStub } from "../../workers/pbft-node-stub.js";
import { REPLICAS, eventually, post, TestClient } from "../runtime/helpers.js";

const get = (path: string) => SELF.fetch(`https://edge.test${path}`);

describe("the PBFT cluster on four Durable Objects", () => {
  it("ops written at all three replicas are certified by the nodes and every replica holds the certificate", async () => {
    const c = await TestClient.create();
    const ops = [];
    for (const [i, r] of REPLICAS.entries()) {
      const op = await c.sign(`cl/k${i}`, "counter", "add", { n: i + 1 });
      ops.push(op);
      expect((await post(op, r)).status).toBe(200);
    }
    const info = (await (await get("/v1/cluster")).json()) as ClusterInfo;
    const config = {
      cluster: info.cluster,
      f: info.f,
      nodes: info.nodes.map(({ id, publicKey }) => ({ id, publicKey })),
    };
    // Every replica ends up with a certificate covering all three ops, signed by 2f+1 nodes.
    await eventually(async () => {
      for (const r of REPLICAS) {
        const reply = (await (await get(`/v1/certificates/latest?replica=${r}`)).json()) as CertificateReply;
        expect(reply.certificate, r).not.toBeNull();
        expect(reply.certificate!.body.opCount, r).toBeGreaterThanOrEqual(3);
        expect(await verifyCertificate(reply.certificate!, config)).toMatchObject({ ok: true });
      }
    }, 30_000);
    // Certified reads: the value with a proof against the certificate's state root.
    for (const [i, r] of REPLICAS.entries()) {
      const read = (await (await get(`/v1/kv/cl%2Fk${i}?replica=${r}`)).json()) as ReadReply;
      expect(read.certified, r).toBeTruthy();
      const root = read.certificate!.body.stateRoot;
      expect(verifyStateProof(root, `cl/k${i}`, read.certified!.value, read.certified!.proof)).toBe(true);
      expect(read.certified!.value).toMatchObject({ type: "counter", value: i + 1 });
    }
    // The nodes agree on what they executed.
    const status = await Promise.all(PBFT_NODES.map((n) => pbftNodeStub(env, n).status(n.id)));
    for (const s of status) expect(s.lastExecuted).toBeGreaterThanOrEqual(1);
    expect(status.reduce((a, s) => a + s.certificatesPosted, 0)).toBeGreaterThanOrEqual(1);
  });
});
