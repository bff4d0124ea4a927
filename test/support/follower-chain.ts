/**
 * Certified batches as the PBFT nodes make them, for the follower's tests in any host: each batch
 * runs through a reference `MerkleStateMachine` (its roots), the log chain is extended as the core
 * extends it, and the certificate carries placeholder signatures — the follower core takes the
 * host's verdict on them (`VERIFIED`), so these tests need no keys. test/runtime/cert-helpers.ts
 * signs for real where the verifier is under test.
 */
import { MerkleStateMachine } from "../../shared/certified/state-machine.js";
import type { Certificate, CertificateBody, ChunkRecord } from "../../shared/certified/types.js";
import type { CertificateVerdict } from "../../shared/certified/certificate.js";
import { NAMESPACE_POLICY, type NamespacePolicy } from "../../shared/namespaces/policy.js";
import type { SignedOp } from "../../shared/ops.js";
import { batchDigest, GENESIS_LOG_ROOT, nextLogRoot } from "../../shared/pbft/chain.js";
import { certifiedBatchText, type CertifiedBatchMessage } from "../../shared/wire/certified-batch.js";

export const VERIFIED: CertificateVerdict = { ok: true };

export interface Batch {
  body: CertificateBody;
  message: CertifiedBatchMessage;
  text: string;
}

export class Chain {
  readonly sm: MerkleStateMachine;
  seq = 0;
  logRoot = GENESIS_LOG_ROOT;
  opCount = 0;

  /** `policy`: the open-namespace list the nodes certify under (default `*`). */
  constructor(
    public time = 1_000_000,
    policy: NamespacePolicy = NAMESPACE_POLICY,
  ) {
    this.sm = new MerkleStateMachine(undefined, policy);
  }

  /** Execute and certify the next batch; `over` changes the body as a lying cluster would. */
  next(ops: SignedOp[], over: Partial<CertificateBody> = {}, timeStepMs = 1): Batch {
    const seq = ++this.seq;
    const exec = this.sm.execute(ops, seq);
    this.logRoot = nextLogRoot(this.logRoot, batchDigest(exec.ops));
    this.opCount += exec.ops.length;
    this.time += timeStepMs;
    const body: CertificateBody = {
      cluster: "test-cluster",
      view: 0,
      seq,
      logRoot: this.logRoot,
      stateRoot: exec.stateRoot,
      resultsRoot: exec.resultsRoot,
      opCount: this.opCount,
      time: this.time,
      ...over,
    };
    const certificate: Certificate = { body, sigs: [0, 1, 2].map((node) => ({ node, sig: "s" })) };
    return withOps(certificate, exec.ops, body);
  }

  /** The whole reference state as one staged subtree (what a transfer stages for path ""). */
  staged(): [string, ChunkRecord[]][] {
    const chunk = this.sm.serveChunk(this.sm.handle(), this.seq, "", { records: 1e9, bytes: 1e12 });
    if (!("records" in chunk)) throw new Error("test chain: expected one chunk");
    return [["", chunk.records]];
  }
}

/** A batch under `certificate` with these ops (a carrier's swap when they are not its ops). */
export function withOps(certificate: Certificate, ops: SignedOp[], body = certificate.body): Batch {
  const message = { certificate, ops };
  return { body, message, text: certifiedBatchText(message) };
}
