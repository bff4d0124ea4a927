/**
 * A replica that diverged comes back by itself, in the live cluster: its alarm's `certifiedSync`
 * task sees the divergence and runs a certified state transfer from the four PBFT nodes
 * (`transferPoint`, `stateChunks`: durable-objects/certified-transfer.ts), adopts the nodes' stable
 * checkpoint, and the normal catch-up takes it on from there. The divergence is made by handing the
 * replica's one verifying entry point the genuine next batch under a certificate the nodes' keys
 * signed over another state root (what a replica whose execution disagrees sees).
 */
import { certifiedBatchText, type CertifiedBatchMessage } from "../../shared/wire/certified-batch.js";
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ReplicaParts } from "../../durable-objects/replica-parts.js";
import type { EdgeReplica } from "../../durable-objects/edge-replica.js";
import { certificateBytes, combineShares } from "../../shared/certified/certificate.js";
import { verifyStateProof } from "../../shared/certified/proofs.js";
import type { CertificateBody } from "../../shared/certified/types.js";
import { PBFT_NODES, resolveCluster } from "../../shared/cluster-config.js";
import { devKeyPair } from "../../shared/crypto/keys.js";
import { ed25519Scheme } from "../../shared/pbft/signature-scheme.js";
import type { ReadReply } from "../../shared/replies.js";
import { certifiedBatchesOf, certifiedHeadOf } from "../../platform/pbft-node-stub.js";
import { setFaults } from "../runtime/delivery-helpers.js";
import { REPLICAS, eventually, post, stub, TestClient } from "../runtime/helpers.js";
import { allStatus, get, writeAndCertify } from "./support.js";

const nodeHeads = () => Promise.all(PBFT_NODES.map((n) => certifiedHeadOf(env, n)));

describe("certified state transfer from the live nodes", () => {
  it(
    "a diverged replica recovers by itself and serves certified reads with proofs again",
    { timeout: 150_000 },
    async () => {
      const x = REPLICAS[REPLICAS.length - 1]!;
      await writeAndCertify("xfer-warm");
      const headX = (await stub(x).stats()).certification.seq;
      expect(headX).toBeGreaterThan(0);

      // the next seq certified while x refuses batches, then handed to x under a wrong-root certificate
      await setFaults(x, { refuseCertified: true });
      const c = await TestClient.create();
      expect((await post(await c.sign("xfer/acct", "counter", "add", { n: 3 }), REPLICAS[0])).status).toBe(
        200,
      );
      await eventually(async () => expect(Math.min(...(await nodeHeads()))).toBeGreaterThan(headX), 30_000);
      const [text] = JSON.parse(await certifiedBatchesOf(env, PBFT_NODES[0]!, headX + 1, 1)) as string[];
      const batch = JSON.parse(text!) as CertifiedBatchMessage;
      const { config } = await resolveCluster(env);
      const body: CertificateBody = { ...batch!.certificate.body, stateRoot: "ab".repeat(32) };
      const shares = await Promise.all(
        PBFT_NODES.map(async (n, node) => ({
          node,
          body,
          sig: await ed25519Scheme(config, (await devKeyPair(env.DEV_SEED, n.id)).secret).sign(
            certificateBytes(body),
          ),
        })),
      );
      const forged = { certificate: combineShares(shares, config)!, ops: batch!.ops };
      const report = await runInDurableObject(
        env.EDGE_REPLICA.get(env.EDGE_REPLICA.idFromName(x)),
        (instance: EdgeReplica) =>
          (instance as unknown as { parts: ReplicaParts }).parts.certified.receive(
            x,
            certifiedBatchText(forged),
            config,
          ),
      );
      expect(report).toMatchObject({ outcome: "root_mismatch" });
      await setFaults(x, {});
      expect((await stub(x).stats()).certification).toMatchObject({ certification: "diverged" });

      // more seqs, until the nodes' stable checkpoint is past x's head (checkpoints every 16 seqs)
      let n = 0;
      for (;;) {
        const stable = Math.min(...(await allStatus()).map((s) => s.stableSeq));
        if (stable > headX + 1) break;
        const before = Math.max(...(await nodeHeads()));
        n++;
        expect((await post(await c.sign(`xfer/more${n}`, "counter", "add", { n }), REPLICAS[0])).status).toBe(
          200,
        );
        await eventually(
          async () => expect(Math.max(...(await nodeHeads()))).toBeGreaterThan(before),
          30_000,
        );
      }

      // by itself: x's alarm finds it diverged and transfers; then catches up as usual
      await eventually(async () => {
        const read = (await (await get(`/v1/kv/xfer%2Facct?replica=${x}`)).json()) as ReadReply;
        expect(read.certification).toBe("ok");
        expect(read.certified?.value).toMatchObject({ type: "counter", value: 3 });
        expect(
          verifyStateProof(
            read.certificate!.body.stateRoot,
            "xfer/acct",
            read.certified!.value,
            read.certified!.proof,
          ),
        ).toBe(true);
      }, 60_000);
      const stats = await stub(x).stats();
      expect(stats.certifiedTransfer.adopted).toBeGreaterThanOrEqual(1);
      expect(stats.certification).toMatchObject({ certification: "ok", diverged: null });
      expect(stats.certification.seq).toBeGreaterThan(headX + 1);
    },
  );
});
