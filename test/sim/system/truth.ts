/**
 * What is true, independent of every replica and of the SDK: the certified log as the correct nodes
 * made it (the PBFT checker's `certified`), replayed in order on a reference state machine of its
 * own. After each seq it keeps the certified value of every key the clients use and each op's
 * certified result, so a value a client accepted can be compared with what the certificate of its
 * seq really certifies.
 */
import { canonicalJson } from "../../../shared/canonical.js";
import { committedResult } from "../../../shared/certified/results.js";
import { MerkleStateMachine } from "../../../shared/certified/state-machine.js";
import type { CertificateBody, OpResult } from "../../../shared/certified/types.js";
import type { SafetyChecker } from "../checker.js";

export class Truth {
  private readonly sm = new MerkleStateMachine();
  private seq = 0;
  /** seq → key → canonical JSON of its certified value (or "null"). */
  private readonly values = new Map<number, Map<string, string>>();
  /** op id → canonical JSON of its committed certified result. */
  private readonly results = new Map<string, string>();

  constructor(
    private readonly pbft: SafetyChecker,
    private readonly keys: readonly string[],
  ) {}

  /** The body the correct nodes certified for `seq` (undefined: none yet). */
  body(seq: number): CertificateBody | undefined {
    return this.pbft.certified.get(seq)?.certificate.body;
  }

  /** The certified value of `key` after `seq` (canonical JSON), or undefined if not known yet. */
  value(seq: number, key: string): string | undefined {
    this.advance();
    return this.values.get(seq)?.get(key);
  }

  /** The op's certified result (canonical JSON of its committed fields), or undefined. */
  result(opId: string): string | undefined {
    this.advance();
    return this.results.get(opId);
  }

  private advance(): void {
    for (;;) {
      const b = this.pbft.certified.get(this.seq + 1);
      if (!b) return;
      this.seq++;
      const exec = this.sm.execute(b.ops, this.seq);
      for (const r of exec.results) this.results.set(r.opId, resultText(r));
      const at = new Map<string, string>();
      for (const k of this.keys) at.set(k, canonicalJson(this.sm.proveKey(k).value as never));
      this.values.set(this.seq, at);
    }
  }
}

export const resultText = (r: OpResult): string => canonicalJson(committedResult(r) as never);
