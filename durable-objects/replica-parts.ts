/**
 * What the parts of an EdgeReplica share (the shell: durable-objects/edge-replica.ts; the parts:
 * replica-writes.ts, replica-reads*.ts, replica-peers.ts, signed-refusal.ts, replica-stats.ts):
 * its SQLite store, delivery, the certified side, the boundary everything it signs and sends goes
 * through, heartbeats on demand, who it is (its name, bound by its first call; its key, resolved
 * once) and its hybrid logical clock. Built once per instance, wired here and nowhere else.
 */
import type { KeyPair } from "../shared/crypto/keys.js";
import { clusterOf } from "../shared/cluster-config.js";
import { parseHlc, type Hlc } from "../shared/hlc.js";
import { policyOf, type NamespacePolicy } from "../shared/namespaces/policy.js";
import type { SignedOp } from "../shared/ops.js";
import type { StepStorage } from "../shared/host/step.js";
import type { ReplicaEvent } from "../shared/replica/events.js";
import { devFaults } from "#dev-faults";
import type { FaultSwitch } from "../platform/dev-faults-hook.js";
import type { Env } from "../platform/env.js";
import { replicaKey } from "../platform/keys.js";
import { plainReplicaBoundary, type ReplicaBoundary } from "../platform/replica-boundary.js";
import { BeatDemand } from "./beat-demand.js";
import { CertifiedReplica } from "./certified-replica.js";
import { Delivery } from "./delivery.js";
import { receiveCertified } from "./replica-peers.js";
import { certifiedOpSink, transferSink } from "./replica-tentative.js";
import { ReplicaStore } from "./storage/replica-store.js";

/** The shell's name binding (durable-objects/named-object.ts). */
export interface NameBinding {
  bind(name: string): void;
  /** The bound name (null: no call bound it yet). */
  bound(): string | null;
}

export class ReplicaParts {
  readonly store: ReplicaStore;
  /** What it signs and sends goes through here; in dev, possibly a fault wrapper (`#dev-faults`). */
  readonly boundary: ReplicaBoundary;
  /** The fault wrapper's switch, where one is installed (dev, with a FAULT_TOKEN). */
  readonly faults: FaultSwitch | undefined;
  /** Heartbeat on demand: an old newest certificate makes a reader ask the nodes for a beat. */
  readonly beats: BeatDemand;
  readonly certified: CertifiedReplica;
  readonly delivery: Delivery;
  /** The one transaction every step of a core here runs in (shared/host/step.ts). */
  readonly tx: StepStorage = { transaction: (body) => this.ctx.storage.transactionSync(body) };
  /** What the replica core asks of the certified side: is this op in the certified order already? */
  readonly isCertified = (op: SignedOp): boolean => this.certified.isCertified(op);
  private key: Promise<KeyPair> | undefined;
  private clock: Hlc | undefined;

  constructor(
    readonly ctx: DurableObjectState,
    readonly env: Env,
    private readonly name: NameBinding,
  ) {
    this.store = new ReplicaStore(ctx.storage.sql);
    this.beats = new BeatDemand(env, ctx);
    const installed = devFaults.replica(plainReplicaBoundary(env), { sql: ctx.storage.sql, env });
    this.boundary = installed.boundary;
    this.faults = installed.faults;
    this.certified = new CertifiedReplica(
      ctx,
      certifiedOpSink(this.store, () => this.me()),
    );
    const certified = this.certified;
    this.delivery = new Delivery(
      ctx,
      env,
      this.store,
      this.boundary,
      {
        head: () => certified.latestCertificate()?.body.seq ?? 0,
        canApply: () => certified.certification() !== "diverged",
        receive: (name, msg) => receiveCertified(this, name, msg),
      },
      {
        head: () => certified.headSeq(),
        diverged: () => certified.certification() === "diverged",
        local: () => certified.transferLocal(),
        cluster: async () => (await clusterOf(env)).config,
        adopt: (certificate, staged, fresh) =>
          certified.adoptTransfer(this.me() ?? "", certificate, staged, fresh, transferSink(this.store)),
      },
    );
  }

  /** This replica's name (null: no call named it yet, e.g. an alarm of an object never called). */
  me(): string | null {
    return this.name.bound();
  }

  /**
   * The replica's name is fixed by its first call (a call naming another throws); its key comes
   * from a secret or, in dev, the dev seed, resolved once (again after a failure).
   */
  identity(name: string): Promise<KeyPair> {
    this.name.bind(name);
    this.key ??= replicaKey(this.env, name).catch((e) => {
      this.key = undefined;
      throw e;
    });
    return this.key;
  }

  /** The key, if a call resolved it already (undefined: none, or it failed). */
  async resolvedKey(): Promise<KeyPair | undefined> {
    return this.key?.catch(() => undefined);
  }

  /**
   * This replica's hybrid logical clock (meta `hlc`: survives restarts), cached in memory; the core
   * persists each advance inside its step's transaction and the cache takes it once that committed.
   */
  hlc(): Hlc {
    return (this.clock ??= parseHlc(this.store.getMeta("hlc")));
  }
  /** A step that advanced the clock committed. */
  advanced(hlc: Hlc): void {
    this.clock = hlc;
  }

  /** The certified order's own open-namespace list (the cluster configuration): both decide alike. */
  async policy(): Promise<NamespacePolicy> {
    return policyOf((await clusterOf(this.env)).config);
  }

  /** Before a read: a newest certificate past half the stale bound asks the nodes for a beat. */
  freshen(): Promise<void> {
    return this.beats.freshen(() => this.certified.latestCertificate()?.body.time ?? null);
  }

  /** The core's events, printed with who this replica is. */
  log(name: string, events: readonly ReplicaEvent[]): void {
    for (const e of events) console.log({ event: e.event, replica: name, ...e.fields });
  }
}
