/**
 * The one shell loop around a `PbftReplica` (after etcd-raft's RawNode/Ready): every host — the
 * simulator, the unit harness, the core benchmark, the PbftNode Durable Object — runs a step the
 * same way, in this order:
 *
 * 1. step + persist, one transaction: the replica's `step` runs inside it (the certified state
 *    machine writes its stores synchronously during the step) and the step's `Effects.persist`
 *    rows are written in it too; a step that throws leaves nothing behind;
 * 2. seal: every outgoing message is signed as this node (a forwarded envelope goes unchanged);
 * 3. sends: one `Transport.send` per destination per step, with that step's envelopes in order,
 *    never awaited (a lost send is the protocol's to repair); envelopes to this node itself are
 *    queued and stepped right after, in order, through this same path (loopback);
 * 4. certificates: published (`DriverHost.publish`), only after their rows are durable;
 * 5. wake-up: the step's `wakeAtMs` is returned (the latest step's: the DO sets one alarm).
 *
 * Pure TypeScript, no platform imports. Hosts keep their special powers through `DriverHooks`
 * (crash injection, Byzantine rewrites, checks and logging), not through copies of this loop.
 *
 * The loop is written once as a generator that yields only what must be awaited (a signature, an
 * asynchronous hook): `step` awaits those; `stepSync` runs the same loop for a host whose signer
 * and hooks are synchronous (the unit harness) and throws if one is not.
 *
 * @example
 *   const driver = new PbftDriver(new PbftReplica(opts), host);
 *   const { wakeAtMs } = await driver.step({ kind: "tick", nowMs: Date.now() });
 */
import type { Json } from "../canonical.js";
import { runStep, type StepHooks, type StepStorage, type Transport as HostTransport } from "../host/step.js";
import type { OpenVerdict } from "./boundary.js";
import type { CertifiedBatch, Effects, Outgoing, PersistOp } from "./effects.js";
import type { Envelope } from "./messages.js";
import { PbftReplica, type Input, type ReplicaOptions } from "./replica.js";

export type { MaybePromise } from "../host/step.js";
import type { MaybePromise } from "../host/step.js";

/**
 * The node's durable rows (and, in the same transactions, the state machine's stores): the hosts'
 * one `StepStorage` (shared/host/step.ts), its rows this core's `PersistOp`s.
 */
export interface DriverStorage extends StepStorage<PersistOp> {
  /** Write a step's rows; called only inside `transaction`. */
  write(rows: readonly PersistOp[]): void;
  /** Every row, for `PbftReplica.restore`. */
  readRows(): [string, Json][];
}

/**
 * The network (the hosts' one `Transport`): fire and forget, one call per destination per step
 * (never this node itself). A call that throws is counted (`PbftDriver.sendFailures`) and the step goes on.
 */
export type Transport = HostTransport<number, Envelope>;

/** The boundary (`PbftBoundary` is one): signs outgoing messages and verifies incoming ones. */
export interface Signer {
  seal(out: Outgoing): MaybePromise<Envelope>;
  open(raw: unknown, sizeBytes?: number, redundant?: (env: Envelope) => boolean): Promise<OpenVerdict>;
}

/**
 * A host's special powers, each at one point of the loop; all optional: the hosts' `StepHooks`
 * (`beforeStep`; `persisted` — return false and nothing of this step is sent or published, the
 * loopback queue is dropped, and the driver takes no more steps; `rewrite` between step and seal,
 * the simulator's Byzantine rewrites), and one of this driver's own.
 */
export interface DriverHooks extends StepHooks<Input, Effects, Outgoing> {
  /** Each envelope sealed, with what it was sealed from (before it is sent or looped back). */
  sealed?(env: Envelope, out: Outgoing): void;
}

export interface DriverHost {
  storage: DriverStorage;
  transport: Transport;
  signer: Signer;
  /** A certificate, published after the rows of the step that completed it are durable. */
  publish(c: CertifiedBatch): MaybePromise<void>;
  hooks?: DriverHooks;
}

/** What one `step` (the input's step and the loopback steps after it) came to. */
export interface StepReport {
  /** The effects of the input's own step (empty if the driver stopped in it). */
  effects: Effects;
  /** Steps run: the input's and each looped-back envelope's. */
  steps: number;
  /** The latest step's `wakeAtMs`: when to deliver the next tick, or null for no need. */
  wakeAtMs: number | null;
  /** The `persisted` hook stopped the driver (a crash): it takes no more steps. */
  stopped: boolean;
}

type Gen<T> = Generator<PromiseLike<unknown>, T, unknown>;

const isThenable = (x: unknown): x is PromiseLike<unknown> =>
  typeof (x as PromiseLike<unknown> | null)?.then === "function";

export class PbftDriver {
  /** Envelopes this node sent itself, stepped after the step that sent them, in order. */
  private readonly loopback: Envelope[] = [];
  private draining = false;
  private halted = false;
  /** Transport calls that threw (counted and dropped: a lost send is the protocol's to repair). */
  sendFailures = 0;

  constructor(
    readonly replica: PbftReplica,
    private readonly host: DriverHost,
  ) {}

  /**
   * A node back from its rows: the replica, and the driver to run it. The restore's effects (votes
   * and shares to send again) must go through `resume` / `resumeSync` before the next step.
   */
  static restore(opts: ReplicaOptions, host: DriverHost): { driver: PbftDriver; effects: Effects } {
    const { replica, effects } = PbftReplica.restore(opts, host.storage.readRows());
    return { driver: new PbftDriver(replica, host), effects };
  }

  get stopped(): boolean {
    return this.halted;
  }

  /**
   * Step `input`, then every envelope it looped back. Steps run one at a time, in call order: one
   * called while another awaits its signatures starts when that one (and its loopback) is done.
   */
  step(input: Input): Promise<StepReport> {
    return this.serialized(() => runAsync(this.run(input, null)));
  }

  /** `step` for a host whose signer, hooks and `publish` never return a promise. */
  stepSync(input: Input): StepReport {
    this.idle();
    return runSync(this.run(input, null));
  }

  /** Handle effects made outside a step (`PbftReplica.restore`'s) exactly as a step's. */
  resume(effects: Effects): Promise<StepReport> {
    return this.serialized(() => runAsync(this.run(null, effects)));
  }

  resumeSync(effects: Effects): StepReport {
    this.idle();
    return runSync(this.run(null, effects));
  }

  /** Steps started and not finished, and the promise the last of them settles. */
  private pending = 0;
  private tail: Promise<void> = Promise.resolve();

  private serialized<T>(body: () => Promise<T>): Promise<T> {
    const result = this.pending === 0 ? body() : this.tail.then(body);
    this.pending++;
    const done = () => void this.pending--;
    this.tail = result.then(done, done);
    return result;
  }

  private idle(): void {
    if (this.pending > 0) throw new Error("pbft driver: a synchronous step while an asynchronous one runs");
  }

  /**
   * Parse and verify one envelope from the network (the signer's `open`; votes and shares the core
   * no longer needs are dropped unverified): the envelope to `step`, or why it was dropped.
   */
  open(raw: unknown, sizeBytes?: number): Promise<OpenVerdict> {
    return this.host.signer.open(raw, sizeBytes, (e) => this.replica.isRedundant(e));
  }

  /**
   * Deliver envelopes from the network: all verified at once (in parallel), then each valid one
   * stepped, in order. Returns the verdicts, and the latest step's wake-up (null if none ran).
   */
  async deliver(
    raws: readonly { raw: unknown; sizeBytes?: number }[],
  ): Promise<{ verdicts: OpenVerdict[]; wakeAtMs: number | null }> {
    const verdicts = await Promise.all(raws.map((r) => this.open(r.raw, r.sizeBytes)));
    let wakeAtMs: number | null = null;
    for (const v of verdicts) {
      if (!v.ok || this.halted) continue;
      wakeAtMs = (await this.step({ kind: "message", envelope: v.envelope })).wakeAtMs;
    }
    return { verdicts, wakeAtMs };
  }

  private *run(input: Input | null, given: Effects | null): Gen<StepReport> {
    if (this.halted) throw new Error("pbft driver: stopped (restore a new one from the rows)");
    // A hook that steps from inside a step: this one step only; the outer loop drains.
    const outer = !this.draining;
    this.draining = true;
    try {
      const first = yield* this.once(input, given);
      const report: StepReport = {
        effects: first ?? { persist: [], send: [], certificates: [], executed: [], wakeAtMs: null },
        steps: 1,
        wakeAtMs: first?.wakeAtMs ?? null,
        stopped: this.halted,
      };
      if (!outer) return report;
      while (!this.halted && this.loopback.length) {
        const fx = yield* this.once({ kind: "message", envelope: this.loopback.shift()! }, null);
        report.steps++;
        if (fx) report.wakeAtMs = fx.wakeAtMs;
      }
      report.stopped = this.halted;
      return report;
    } catch (e) {
      if (outer) this.loopback.length = 0; // a step threw: what it would have looped back is not owed
      throw e;
    } finally {
      if (outer) this.draining = false;
    }
  }

  /** One step: transaction, seal, sends and loopback, certificates. Null if the driver stopped in it. */
  private *once(input: Input | null, given: Effects | null): Gen<Effects | null> {
    const { storage, transport, signer, hooks } = this.host;
    const { effects: fx, stopped } = runStep(storage, () => (input ? this.replica.step(input) : given!), {
      input,
      rowsOf: (fx) => fx.persist,
      hooks,
    });
    if (stopped) {
      this.halted = true;
      this.loopback.length = 0;
      return null;
    }
    const me = this.replica.state.me;
    let byDest: Map<number, Envelope[]> | null = null;
    for (const out of fx.send) {
      let outs: readonly Outgoing[] = [out];
      if (hooks?.rewrite) {
        const r = hooks.rewrite(out);
        outs = isThenable(r) ? ((yield r) as readonly Outgoing[]) : r;
      }
      for (const o of outs) {
        const sealed = signer.seal(o);
        const env = isThenable(sealed) ? ((yield sealed) as Envelope) : sealed;
        hooks?.sealed?.(env, o);
        for (const to of o.to) {
          if (to === me) this.loopback.push(env);
          else {
            byDest ??= new Map();
            const list = byDest.get(to);
            if (list) list.push(env);
            else byDest.set(to, [env]);
          }
        }
      }
    }
    if (byDest)
      for (const [to, envs] of byDest) {
        // Fire and forget: a failed send is the protocol's to repair (its rows are durable).
        try {
          transport.send(to, envs);
        } catch {
          this.sendFailures++;
        }
      }
    for (const c of fx.certificates) {
      const r = this.host.publish(c);
      if (isThenable(r)) yield r;
    }
    return fx;
  }
}

async function runAsync<T>(g: Gen<T>): Promise<T> {
  let r = g.next();
  while (!r.done) {
    let value: unknown;
    try {
      value = await r.value;
    } catch (e) {
      r = g.throw(e);
      continue;
    }
    r = g.next(value);
  }
  return r.value;
}

function runSync<T>(g: Gen<T>): T {
  const r = g.next();
  if (!r.done) {
    g.return(undefined as T);
    throw new Error("pbft driver: stepSync met a signer, hook or publish that returned a promise");
  }
  return r.value;
}

/** Apply rows to an in-memory map (values copied, as a database would): for in-memory hosts. */
export function applyRows(rows: Map<string, Json>, ops: readonly PersistOp[]): void {
  for (const p of ops) {
    if (p.op === "put") rows.set(p.key, JSON.parse(JSON.stringify(p.value)) as Json);
    else rows.delete(p.key);
  }
}
