// End to end under `wrangler dev`: ops written at all three replicas are certified, and every
// certificate, result proof and state proof verifies with the shared verifiers against the cluster
// of `GET /v1/cluster`; then the same with one Byzantine PBFT node in each mode in turn (silent,
// equivocating, signing wrong roots), switched on and off over HTTP (`POST /v1/dev/faults`). The
// faulty node is the current primary each time (view 0: pbft-0), the node whose faults hurt most.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyCertificate } from "../../shared/certified/certificate.js";
import { verifyResultProof, verifyStateProof } from "../../shared/certified/proofs.js";
import type { Certificate, ClusterConfig } from "../../shared/certified/types.js";
import type { ClusterInfo } from "../../shared/cluster-config.js";
import { PBFT_NODES } from "../../shared/cluster-config.js";
import { generateKeyPair } from "../../shared/crypto/keys.js";
import { opIdOf, signOp, type SignedOp } from "../../shared/ops.js";
import {
  verifyReply,
  type OpStatusReply,
  type ReadReply,
  type ReplicaInfo,
  type ReplicaReply,
} from "../../shared/replies.js";
import type { ClusterStatusReply } from "../../workers/cluster-status.js";
import { DEV_FAULT_TOKEN, startWranglerDev, stopAll, type DevServer } from "../support/wrangler-dev.js";

const REPLICAS = ["weur", "enam", "apac"];
/** How long one round's ops may take to be certified everywhere (a view change included). */
const ROUND_MS = 45_000;

let server: DevServer;
let config: ClusterConfig;
let replicaKeys: Record<string, string>;

const url = (path: string) => `${server.url}${path}`;
async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(url(path), { signal: AbortSignal.timeout(35_000) });
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}
const signedByItsReplica = async (r: ReplicaReply) =>
  expect(await verifyReply(replicaKeys[r.replica]!, r), `${r.kind} signed by ${r.replica}`).toBe(true);

async function setFaults(target: string, faults: Record<string, boolean>): Promise<void> {
  const res = await fetch(url("/v1/dev/faults"), {
    method: "POST",
    headers: { "content-type": "application/json", "x-aspec-fault-token": DEV_FAULT_TOKEN },
    body: JSON.stringify({ target, faults }),
  });
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ target, faults });
}

beforeAll(async () => {
  server = await startWranglerDev({
    name: "byzantine",
    readyPath: "/v1/replicas",
    vars: { ENVIRONMENT: "dev" },
  });
  const info = await getJson<ClusterInfo>("/v1/cluster");
  config = {
    cluster: info.cluster,
    f: info.f,
    nodes: info.nodes.map(({ id, publicKey }) => ({ id, publicKey })),
  };
  const { replicas } = await getJson<{ replicas: ReplicaInfo[] }>("/v1/replicas");
  replicaKeys = Object.fromEntries(replicas.map((r) => [r.name, r.publicKey]));
});
afterAll(() => stopAll());

/**
 * The certified outcome of `op` at `replica`, waited for with `?wait=certified` until `deadline`
 * (404 `unknown_op_id` meanwhile: the op has not reached that replica yet).
 */
async function certifiedAt(replica: string, op: SignedOp, deadline: number): Promise<OpStatusReply> {
  for (;;) {
    const left = Math.max(0, Math.min(30_000, deadline - Date.now()));
    const path = `/v1/ops/${opIdOf(op)}?replica=${replica}&wait=certified&timeoutMs=${left}`;
    const res = await fetch(url(path), { signal: AbortSignal.timeout(35_000) });
    const body = (await res.json()) as OpStatusReply & { error?: { code: string } };
    if (res.status === 404 && body.error?.code === "unknown_op_id" && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    expect(res.status, `${path}: ${JSON.stringify(body)}`).toBe(200);
    if (!body.pending || Date.now() >= deadline) return body;
  }
}

/**
 * One counter op per replica (`<tag>/k<i>` += i + 1, written at replica i); each op's certified
 * result at every replica, and each key's certified read at every replica, checked with the
 * shared verifiers. Returns the certificates of the ops' batches.
 */
async function writeAndVerify(tag: string): Promise<Certificate[]> {
  const client = await generateKeyPair();
  const ops = await Promise.all(
    REPLICAS.map((_, i) =>
      signOp(client.secret, {
        client: client.publicKey,
        seq: i + 1,
        key: `${tag}/k${i}`,
        type: "counter",
        op: "add",
        args: { n: i + 1 },
        ts: Date.now(),
      }),
    ),
  );
  for (const [i, op] of ops.entries()) {
    const res = await fetch(url(`/v1/ops?replica=${REPLICAS[i]}`), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(op),
    });
    expect(res.status).toBe(200);
    await res.body?.cancel();
  }
  const deadline = Date.now() + ROUND_MS;
  const certificates: Certificate[] = [];
  await Promise.all(
    REPLICAS.flatMap((replica) =>
      ops.map(async (op, i) => {
        const st = await certifiedAt(replica, op, deadline);
        await signedByItsReplica(st);
        expect(st.pending, `${op.key} certified at ${replica}`).toBe(false);
        const { result, proof, certificate } = st.certified!;
        expect(result).toMatchObject({ opId: opIdOf(op), status: "ok", value: i + 1 });
        expect(await verifyCertificate(certificate, config)).toEqual({ ok: true });
        expect(verifyResultProof(certificate.body.resultsRoot, result, proof)).toBe(true);
        certificates.push(certificate);
      }),
    ),
  );
  // each key's certified read, proven against the stateRoot of a certificate that verifies
  for (const replica of REPLICAS)
    for (const [i, op] of ops.entries()) {
      const read = await getJson<ReadReply>(`/v1/kv/${encodeURIComponent(op.key)}?replica=${replica}`);
      await signedByItsReplica(read);
      expect(read.certification).toBe("ok");
      expect(read.certified!.value).toMatchObject({ type: "counter", value: i + 1 });
      expect(await verifyCertificate(read.certificate!, config)).toEqual({ ok: true });
      expect(read.certified!.seq).toBe(read.certificate!.body.seq);
      expect(
        verifyStateProof(
          read.certificate!.body.stateRoot,
          op.key,
          read.certified!.value,
          read.certified!.proof,
        ),
      ).toBe(true);
    }
  return certificates;
}

const clusterStatus = () => getJson<ClusterStatusReply>("/v1/cluster/status");

describe("certification end to end, with each Byzantine PBFT node mode in turn", () => {
  it("no fault: ops at all three replicas are certified, every proof verifies", async () => {
    await writeAndVerify("byz-none");
  });

  for (const mode of ["silent", "equivocate", "wrongRoots"] as const)
    it(`the primary ${mode === "silent" ? "silent" : mode === "equivocate" ? "equivocating" : "signing wrong roots"}: still certified, every proof verifies`, async () => {
      const before = await clusterStatus();
      const target = before.primary!;
      expect(PBFT_NODES.map((n) => n.id)).toContain(target);
      await setFaults(target, { [mode]: true });
      try {
        const certificates = await writeAndVerify(`byz-${mode}`);
        const index = PBFT_NODES.findIndex((n) => n.id === target);
        // a silent node signs nothing; a node's shares over wrong roots match no one's
        if (mode !== "equivocate")
          for (const c of certificates) expect(c.sigs.map((s) => s.node)).not.toContain(index);
        // a primary that proposes nothing, or two proposals per seq that commit neither: certified
        // only after a view change replaced it
        if (mode !== "wrongRoots") expect((await clusterStatus()).view!).toBeGreaterThan(before.view!);
      } finally {
        await setFaults(target, {});
      }
    });

  it("every fault off again: certified as before", async () => {
    await writeAndVerify("byz-after");
  });
});
