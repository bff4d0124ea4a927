/**
 * Safety checks across the cluster, fed with what correct nodes execute and certify:
 * no two different results for one seq; every certificate valid; every certified state root equal
 * to the replay of the certified log from empty; no op certified twice; every certified result's
 * authorization what an independent model of the namespace rules says (authz-oracle.ts).
 */
import { canonicalJson } from "../../shared/canonical.js";
import { MerkleStateMachine } from "../../shared/certified/state-machine.js";
import type { Digest } from "../../shared/certified/types.js";
import { opIdOf } from "../../shared/ops.js";
import { AuthzOracle } from "./authz-oracle.js";
import { batchDigest, GENESIS_LOG_ROOT, nextLogRoot } from "../../shared/pbft/chain.js";
import type { CertifiedBatch, ExecutedBatch } from "../../shared/pbft/effects.js";

export class SafetyViolation extends Error {
  override name = "SafetyViolation";
}

export class SafetyChecker {
  /** seq → canonical body executed by correct nodes. */
  readonly executed = new Map<number, string>();
  /** seq → certified batch. */
  readonly certified = new Map<number, CertifiedBatch>();
  readonly certifiedOps = new Set<string>();
  private readonly ref = new MerkleStateMachine();
  private refSeq = 0;
  private refLogRoot: Digest = GENESIS_LOG_ROOT;
  private refOpCount = 0;
  /** Who may write, replayed from the certified order (every deployment the sims run opens all). */
  readonly authz = new AuthzOracle();

  get replayedSeq(): number {
    return this.refSeq;
  }

  onExecuted(node: number, b: ExecutedBatch): void {
    const k = canonicalJson(b.body);
    const prev = this.executed.get(b.body.seq);
    if (prev !== undefined && prev !== k)
      throw new SafetyViolation(`node ${node} executed seq ${b.body.seq} differently:\n  ${prev}\n  ${k}`);
    this.executed.set(b.body.seq, k);
  }

  onCertified(node: number, b: CertifiedBatch): void {
    const seq = b.body.seq;
    const prev = this.certified.get(seq);
    if (prev) {
      if (canonicalJson(prev.certificate.body) !== canonicalJson(b.certificate.body))
        throw new SafetyViolation(`node ${node}: two different certificates for seq ${seq}`);
      return;
    }
    if (canonicalJson(b.certificate.body) !== canonicalJson(b.body))
      throw new SafetyViolation(
        `node ${node}: certificate body differs from the executed body at seq ${seq}`,
      );
    this.certified.set(seq, b);
    this.replay();
  }

  /** Apply certified batches in order to a reference machine built from empty and compare every root. */
  private replay(): void {
    for (;;) {
      const b = this.certified.get(this.refSeq + 1);
      if (!b) return;
      const seq = this.refSeq + 1;
      for (const op of b.ops) {
        const id = opIdOf(op);
        if (this.certifiedOps.has(id)) throw new SafetyViolation(`op ${id} certified twice (seq ${seq})`);
        this.certifiedOps.add(id);
      }
      const exec = this.ref.execute(b.ops, seq);
      if (exec.ops.length !== b.ops.length)
        throw new SafetyViolation(`seq ${seq}: certified a batch with ops executed before`);
      for (const [i, op] of exec.ops.entries()) {
        const wrong = this.authz.step(op, exec.results[i]!);
        if (wrong !== null) throw new SafetyViolation(`seq ${seq}: ${wrong}`);
      }
      this.refLogRoot = nextLogRoot(this.refLogRoot, batchDigest(b.ops));
      this.refOpCount += b.ops.length;
      const body = b.certificate.body;
      if (exec.stateRoot !== body.stateRoot)
        throw new SafetyViolation(`seq ${seq}: certified stateRoot is not the replay's`);
      if (exec.resultsRoot !== body.resultsRoot)
        throw new SafetyViolation(`seq ${seq}: certified resultsRoot is not the replay's`);
      if (this.refLogRoot !== body.logRoot)
        throw new SafetyViolation(`seq ${seq}: certified logRoot is not the replay's`);
      if (this.refOpCount !== body.opCount)
        throw new SafetyViolation(`seq ${seq}: certified opCount is not the replay's`);
      this.refSeq = seq;
    }
  }
}
