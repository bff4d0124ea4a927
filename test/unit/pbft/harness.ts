/**
 * A synchronous in-memory cluster for unit tests of the core's handlers: envelopes are delivered
 * unsigned (the core trusts its boundary), in FIFO order, optionally filtered.
 */
import { MerkleStateMachine } from "../../../shared/certified/state-machine.js";
import type { ClusterConfig } from "../../../shared/certified/types.js";
import type { OpBody, SignedOp } from "../../../shared/ops.js";
import type { PbftConfig } from "../../../shared/pbft/config.js";
import type { CertifiedBatch, Effects } from "../../../shared/pbft/effects.js";
import type { Envelope } from "../../../shared/pbft/messages.js";
import { PbftReplica } from "../../../shared/pbft/replica.js";
import { standInSignOp } from "../../../shared/pbft/signature-scheme.js";

export const CLUSTER: ClusterConfig = {
  cluster: "unit",
  f: 1,
  nodes: [0, 1, 2, 3].map((i) => ({ id: `pbft-${i}`, publicKey: `p${i}` })),
};

export const UNIT_CONFIG: Partial<PbftConfig> = {
  batchSizeMax: 1,
  checkpointIntervalSeqs: 2,
  logWindowSeqs: 4,
  tickMs: 10,
};

export function makeOp(seq: number, client = "C".repeat(43), key = "k"): SignedOp {
  const body: OpBody = { client, seq, key, type: "counter", op: "add", args: { n: seq }, ts: 1 };
  return standInSignOp(body);
}

export class Harness {
  readonly nodes: PbftReplica[];
  readonly queue: { to: number; env: Envelope }[] = [];
  readonly certified: CertifiedBatch[][] = [[], [], [], []];
  readonly storage: Map<string, unknown>[] = [new Map(), new Map(), new Map(), new Map()];
  drop: (to: number, env: Envelope) => boolean = () => false;

  constructor(config: Partial<PbftConfig> = UNIT_CONFIG) {
    this.nodes = [0, 1, 2, 3].map(
      (me) => new PbftReplica({ cluster: CLUSTER, me, config, sm: new MerkleStateMachine() }),
    );
  }

  /** Handle effects like a shell: persist, then "sign" and enqueue, then record certificates. */
  apply(i: number, fx: Effects): Effects {
    for (const p of fx.persist) {
      if (p.op === "put") this.storage[i]!.set(p.key, JSON.parse(JSON.stringify(p.value)));
      else this.storage[i]!.delete(p.key);
    }
    for (const out of fx.send) {
      const env: Envelope = out.forward ?? {
        from: i,
        msg: out.msg!,
        sig: "",
        ...(out.proposal ? { proposal: out.proposal } : {}),
      };
      for (const to of out.to) this.queue.push({ to, env: JSON.parse(JSON.stringify(env)) });
    }
    this.certified[i]!.push(...fx.certificates);
    return fx;
  }

  step(i: number, input: Parameters<PbftReplica["step"]>[0]): Effects {
    const fx = this.apply(i, this.nodes[i]!.step(input));
    this.nodes[i]!.checkInvariants();
    return fx;
  }

  /** Deliver until quiet (or `max` deliveries). */
  run(max = 10_000): void {
    for (let k = 0; k < max && this.queue.length; k++) {
      const { to, env } = this.queue.shift()!;
      if (this.drop(to, env)) continue;
      this.step(to, { kind: "message", envelope: env });
    }
  }

  tickAll(nowMs: number): void {
    for (let i = 0; i < 4; i++) this.step(i, { kind: "tick", nowMs });
  }
}
