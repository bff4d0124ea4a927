/**
 * A synchronous in-memory cluster for unit tests of the core's handlers, each node run by the
 * shell driver (shared/pbft/driver.ts, `stepSync`): envelopes are delivered unsigned (the core
 * trusts its boundary), in FIFO order, optionally filtered; a node's own envelopes are looped back
 * by the driver right after the step that sent them.
 */
import { clusterId } from "../../../shared/certified/cluster-id.js";
import { MerkleStateMachine } from "../../../shared/certified/state-machine.js";
import type { CertificateBody, ClusterConfig } from "../../../shared/certified/types.js";
import type { OpBody, SignedOp } from "../../../shared/ops.js";
import type { PbftConfig } from "../../../shared/pbft/config.js";
import type { Json } from "../../../shared/canonical.js";
import { applyRows, PbftDriver, type DriverHost, type Signer } from "../../../shared/pbft/driver.js";
import type { CertifiedBatch, Effects } from "../../../shared/pbft/effects.js";
import type { Envelope } from "../../../shared/pbft/messages.js";
import { PbftReplica, type Input } from "../../../shared/pbft/replica.js";
import { standInSignOp } from "../../../shared/pbft/signature-scheme.js";

export const CLUSTER: ClusterConfig = {
  cluster: "unit",
  f: 1,
  nodes: [0, 1, 2, 3].map((i) => ({ id: `pbft-${i}`, publicKey: `p${i}` })),
};

/** A certificate body of cluster CLUSTER at seq 1, every root a dummy digest (override what matters). */
export const certificateBody = (over: Partial<CertificateBody> = {}): CertificateBody => ({
  cluster: clusterId(CLUSTER),
  seq: 1,
  view: 0,
  logRoot: "a".repeat(64),
  stateRoot: "a".repeat(64),
  resultsRoot: "a".repeat(64),
  opCount: 1,
  time: 0,
  ...over,
});

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

/** A trivial signer for node `me`: envelopes go unsigned (the core trusts its boundary); every one opens. */
export function unsignedSigner(me: number): Signer {
  return {
    seal: (out) =>
      out.forward ?? {
        from: me,
        msg: out.msg!,
        sig: "",
        ...(out.proposal ? { proposal: out.proposal } : {}),
      },
    open: (raw) => Promise.resolve({ ok: true, envelope: raw as Envelope }),
  };
}

export class Harness {
  readonly nodes: PbftReplica[];
  readonly drivers: PbftDriver[];
  readonly queue: { to: number; env: Envelope }[] = [];
  readonly certified: CertifiedBatch[][] = [[], [], [], []];
  readonly storage: Map<string, Json>[] = [new Map(), new Map(), new Map(), new Map()];
  drop: (to: number, env: Envelope) => boolean = () => false;

  constructor(config: Partial<PbftConfig> = UNIT_CONFIG) {
    this.drivers = [0, 1, 2, 3].map(
      (me) =>
        new PbftDriver(
          new PbftReplica({ cluster: CLUSTER, me, config, sm: new MerkleStateMachine() }),
          this.host(me),
        ),
    );
    this.nodes = this.drivers.map((d) => d.replica);
  }

  /** A shell's duties through the driver: persist, then "sign" and enqueue (FIFO), then record certificates. */
  private host(i: number): DriverHost {
    const rows = this.storage[i]!;
    return {
      storage: {
        transaction: (body) => body(),
        write: (ops) => applyRows(rows, ops),
        readRows: () => [...rows],
      },
      signer: unsignedSigner(i),
      transport: {
        send: (to, envs) => {
          for (const env of envs) this.queue.push({ to, env: JSON.parse(JSON.stringify(env)) as Envelope });
        },
      },
      publish: (c) => void this.certified[i]!.push(c),
      hooks: { persisted: () => this.nodes[i]!.checkInvariants() },
    };
  }

  /** Step node `i` (and what it sends itself); the effects of this input's step. */
  step(i: number, input: Input): Effects {
    return this.drivers[i]!.stepSync(input).effects;
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

  /** Node `me` hears a VIEW-CHANGE for `view` from each of `from` (genesis checkpoint, nothing prepared). */
  hearViewChanges(me: number, view: number, from: number[]): void {
    const checkpoint = { ...this.nodes[me]!.state.stable, proof: [] };
    for (const f of from)
      this.step(me, {
        kind: "message",
        envelope: { from: f, msg: { type: "view-change", view, checkpoint, prepared: [] }, sig: "" },
      });
  }

  /** Order ops `from`..`to` one batch each: each submitted to `nodes`, then delivered until quiet. */
  order(from: number, to: number, nodes = [0, 1, 2, 3]): this {
    for (let seq = from; seq <= to; seq++) {
      for (const i of nodes) this.step(i, { kind: "submit", op: makeOp(seq) });
      this.run();
    }
    return this;
  }
}
