/**
 * Certificates made the way the PBFT nodes make them, for in-runtime tests of the replica side:
 * each batch runs through a `MerkleStateMachine` of the test's own (the roots), the log chain is
 * extended as the core extends it (`nextLogRoot(prev, batchDigest(executed ops))`), and the body
 * is signed with the nodes' dev keys exactly as the ed25519 signature scheme signs a share
 * (`scheme.sign(certificateBytes(body))`), then combined with the shared certificate code.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { certifiedBatchText, type CertifiedBatchMessage } from "../../shared/wire/certified-batch.js";
import { certificateBytes, combineShares } from "../../shared/certified/certificate.js";
import { MerkleStateMachine } from "../../shared/certified/state-machine.js";
import type {
  Certificate,
  CertificateBody,
  CertificateShare,
  ClusterConfig,
} from "../../shared/certified/types.js";
import { clusterId, PBFT_NODES, resolveCluster } from "../../shared/cluster-config.js";
import { devKeyPair, type KeyPair } from "../../shared/crypto/keys.js";
import type { SignedOp } from "../../shared/ops.js";
import { batchDigest, GENESIS_LOG_ROOT, nextLogRoot } from "../../shared/pbft/chain.js";
import { ed25519Scheme } from "../../shared/pbft/signature-scheme.js";
import { deliverTo } from "./delivery-helpers.js";

export interface Made {
  body: CertificateBody;
  /** The ops executed at this seq (after the state machine's dedupe), as a node publishes them. */
  ops: SignedOp[];
  /** Every node's signature over the body, by node index. */
  sigs: { node: number; sig: string }[];
  /** 2f+1 of them, combined by the shared code. */
  certificate: Certificate;
  message: CertifiedBatchMessage;
}

export class TestCluster {
  readonly sm = new MerkleStateMachine();
  seq = 0;
  logRoot = GENESIS_LOG_ROOT;
  opCount = 0;
  time = Date.now();

  private constructor(
    readonly config: ClusterConfig,
    readonly keys: KeyPair[],
  ) {}

  static async create(): Promise<TestCluster> {
    const keys = await Promise.all(PBFT_NODES.map((n) => devKeyPair(env.DEV_SEED, n.id)));
    const { config } = await resolveCluster(env);
    return new TestCluster(config, keys);
  }

  /** Sign `body` as the given nodes, exactly as a node's ed25519 scheme signs its share. */
  async sign(body: CertificateBody, nodes: number[] = [0, 1, 2, 3]): Promise<CertificateShare[]> {
    return Promise.all(
      nodes.map(async (node) => ({
        node,
        body,
        sig: await ed25519Scheme(this.config, this.keys[node]!.secret).sign(certificateBytes(body)),
      })),
    );
  }

  /** Execute the next batch and certify it; `over` changes the body before it is signed. */
  async certify(proposed: SignedOp[], over: Partial<CertificateBody> = {}, view = 0): Promise<Made> {
    const seq = this.seq + 1;
    const exec = this.sm.execute(proposed, seq);
    this.seq = seq;
    this.logRoot = nextLogRoot(this.logRoot, batchDigest(exec.ops));
    this.opCount += exec.ops.length;
    this.time += 1;
    const body: CertificateBody = {
      cluster: clusterId(this.config),
      view,
      seq,
      logRoot: this.logRoot,
      stateRoot: exec.stateRoot,
      resultsRoot: exec.resultsRoot,
      opCount: this.opCount,
      time: this.time,
      ...over,
    };
    const shares = await this.sign(body);
    const certificate = combineShares(shares, this.config)!;
    return {
      body,
      ops: exec.ops,
      sigs: shares.map((s) => ({ node: s.node, sig: s.sig })),
      certificate,
      message: { certificate, ops: exec.ops },
    };
  }
}

/** Certified batches through the real queue handler (`aspec-certificates`). */
export const deliverCertified = (messages: CertifiedBatchMessage[], attempts = 1) =>
  deliverTo("aspec-certificates", messages.map(certifiedBatchText), attempts);

const doStub = (name: string) => env.EDGE_REPLICA.get(env.EDGE_REPLICA.idFromName(name));

/** The op log's `certified` mark of each op id at a replica (undefined: no row). */
export function certifiedMarks(name: string, opIds: string[]): Promise<(number | undefined)[]> {
  return runInDurableObject(doStub(name), (_i, state) =>
    opIds.map(
      (id) =>
        state.storage.sql
          .exec<{ certified: number }>("SELECT certified FROM ops WHERE op_id = ?", id)
          .toArray()[0]?.certified,
    ),
  );
}
