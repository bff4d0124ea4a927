/**
 * Evidence built from real signed data, for the unit tests (Node) of shared/evidence.ts: a cluster
 * of four dev keys certifies a real batch executed by a `MerkleStateMachine` (real roots, real
 * proofs), and replicas sign replies with their dev keys exactly as `signReply` does. A lying reply
 * is just a reply with a changed field, signed by the replica's own key.
 */
import { combineShares, signShare } from "../../shared/certified/certificate.js";
import { clusterId } from "../../shared/certified/cluster-id.js";
import { proveResults } from "../../shared/certified/results.js";
import { MerkleStateMachine } from "../../shared/certified/state-machine.js";
import type { Certificate, CertificateBody, ClusterConfig } from "../../shared/certified/types.js";
import { GENESIS_LOG_ROOT, batchDigest, nextLogRoot } from "../../shared/certified/log-chain.js";
import { devKeyPair, type KeyPair } from "../../shared/crypto/keys.js";
import type { Evidence, EvidencePins } from "../../shared/evidence.js";
import { opIdOf, type SignedOp } from "../../shared/ops.js";
import {
  signReply,
  type CertifiedResult,
  type CertifiedReadReply,
  type OpReply,
  type OpStatusReply,
  type ReadReply,
  type Unsigned,
} from "../../shared/replies.js";
import { op } from "./trusted-ops.js";

export const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

export interface EvidenceWorld {
  pins: EvidencePins;
  cluster: ClusterConfig;
  nodeKeys: KeyPair[];
  replicaKeys: Record<string, KeyPair>;
  /** Seq 1: `k` counter +5, `acct` deposit 3. */
  cert: Certificate;
  body: CertificateBody;
  ops: SignedOp[];
  /** The honest certified result of ops[0] (`k` add 5 → 5). */
  truth: CertifiedResult;
  honestRead: ReadReply;
  honestCertifiedRead: CertifiedReadReply;
  honestStatus: OpStatusReply;
  honestOp: OpReply;
  /** Sign any reply body as `replica` (default weur) with its dev key. */
  sign<T extends ReadReply | CertifiedReadReply | OpStatusReply | OpReply>(
    body: T | Unsigned<T>,
    replica?: string,
  ): Promise<T>;
  /** Another valid certificate for seq 1 (another stateRoot), signed by nodes 1, 2, 3. */
  equivocating(): Promise<Certificate>;
  /** One valid evidence of every kind, each a lie told by weur. */
  lies(): Promise<Record<Evidence["kind"], Evidence>>;
}

export async function evidenceWorld(seed = "evidence-unit"): Promise<EvidenceWorld> {
  const nodeKeys = await Promise.all([0, 1, 2, 3].map((i) => devKeyPair(seed, `node-${i}`)));
  const cluster: ClusterConfig = {
    cluster: "aspec-edge-pbft-v1",
    f: 1,
    nodes: nodeKeys.map((k, i) => ({ id: `pbft-${i}`, publicKey: k.publicKey })),
  };
  const replicaKeys: Record<string, KeyPair> = {
    weur: await devKeyPair(seed, "weur"),
    enam: await devKeyPair(seed, "enam"),
  };
  const pins: EvidencePins = {
    cluster,
    replicaKeys: new Map(Object.entries(replicaKeys).map(([n, k]) => [n, k.publicKey])),
  };
  const certify = async (body: CertificateBody, nodes: number[]) =>
    combineShares(await Promise.all(nodes.map((i) => signShare(nodeKeys[i]!.secret, i, body))), cluster)!;

  const sm = new MerkleStateMachine();
  const ops = [op("k", "counter", "add", { n: 5 }), op("acct", "account", "deposit", { n: 3 })];
  const exec = sm.execute(ops, 1);
  const body: CertificateBody = {
    cluster: clusterId(cluster),
    view: 0,
    seq: 1,
    logRoot: nextLogRoot(GENESIS_LOG_ROOT, batchDigest(exec.ops)),
    stateRoot: exec.stateRoot,
    resultsRoot: exec.resultsRoot,
    opCount: exec.ops.length,
    time: 1_700_000_000_000,
  };
  const cert = await certify(body, [0, 1, 2]);
  const proofs = proveResults(exec.results);
  const truth: CertifiedResult = { seq: 1, result: exec.results[0]!, proof: proofs[0]!, certificate: cert };
  const opId = opIdOf(ops[0]!);
  const kp = sm.proveKey("k");
  const certified = { seq: 1, stateRoot: body.stateRoot, value: kp.value, proof: kp.proof };

  const sign = <T extends ReadReply | CertifiedReadReply | OpStatusReply | OpReply>(
    b: T | Unsigned<T>,
    replica = "weur",
  ): Promise<T> => {
    const { sig: _sig, ...unsigned } = b as T;
    return signReply<T>(replicaKeys[replica]!.secret, { ...unsigned, replica } as unknown as Unsigned<T>);
  };
  const honestRead = await sign<ReadReply>({
    kind: "read",
    key: "k",
    type: "counter",
    value: 5,
    replica: "weur",
    certificate: cert,
    certification: "ok",
    certified,
    time: 1_700_000_000_100,
  });
  const honestCertifiedRead = await sign<CertifiedReadReply>({
    kind: "certified-read",
    key: "k",
    replica: "weur",
    certificate: cert,
    certified,
    time: 1_700_000_000_100,
  });
  const honestStatus = await sign<OpStatusReply>({
    kind: "op-status",
    opId,
    tentative: { status: "ok", value: 5 },
    certified: truth,
    pending: false,
    replica: "weur",
    certificate: cert,
    certification: "ok",
    time: 1_700_000_000_100,
  });
  const honestOp = await sign<OpReply>({
    kind: "op",
    opId,
    key: "k",
    type: "counter",
    tentative: { status: "ok", value: 5 },
    replica: "weur",
    certificate: cert,
    certification: "ok",
    uncertified: 1,
    duplicate: false,
    time: 1_700_000_000_100,
  });
  const equivocating = () => certify({ ...body, stateRoot: "ab".repeat(32) }, [1, 2, 3]);

  async function lies(): Promise<Record<Evidence["kind"], Evidence>> {
    // a certificate of a seq that never existed: the seq is forged, the signatures are seq 1's
    const forged = clone(cert);
    forged.body.seq = 7;
    const badCert = await sign<OpReply>({ ...clone(honestOp), certificate: forged });
    const wrongValue = clone(honestRead);
    wrongValue.certified!.value!.value = 50;
    const wrongResult = clone(honestStatus);
    wrongResult.certified!.result.value = 50;
    const lyingStatus = await sign<OpStatusReply>(wrongResult);
    return {
      bad_certificate: { kind: "bad_certificate", reply: badCert },
      bad_certified_read: { kind: "bad_certified_read", reply: await sign<ReadReply>(wrongValue) },
      bad_certified_result: { kind: "bad_certified_result", reply: lyingStatus },
      contradicted_result: { kind: "contradicted_result", reply: lyingStatus, truth: clone(truth) },
      cluster_equivocation: { kind: "cluster_equivocation", certificates: [cert, await equivocating()] },
    };
  }

  return {
    pins,
    cluster,
    nodeKeys,
    replicaKeys,
    cert,
    body,
    ops,
    truth,
    honestRead,
    honestCertifiedRead,
    honestStatus,
    honestOp,
    sign,
    equivocating,
    lies,
  };
}
