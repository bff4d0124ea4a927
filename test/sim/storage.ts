/**
 * A simulated node's durable rows and certified-state stores, and the ways a crash can meet them.
 *
 * - A correct node writes each step's rows and state-machine writes in one transaction before it
 *   sends anything (the shell's order; `transactionSync` in a Durable Object). A crash can be armed
 *   to strike inside a step: after the transaction committed and before any send ("after-persist"),
 *   or before it committed ("before-persist"; "mid-persist" is the same: a transaction is never
 *   half there). In every case nothing of that step was sent, so the node never told anyone about
 *   what it lost: it stays a correct node, and the checker and the liveness phase hold it to that.
 * - A node with `syncEverySteps` loses writes: its steps reach storage only every few steps, but it
 *   sends at once, so a crash loses an unsynced tail that peers may already have acted on (it may
 *   have voted, then forget it did). That breaks persist-before-send, so such a node counts as
 *   faulty: it takes one of the f faults, its outputs are not checked, and ops it alone accepted
 *   are not owed a certificate.
 */
import type { Json } from "../../shared/canonical.js";
import { memoryStores } from "../../shared/certified/state-machine.js";
import type { PersistOp } from "../../shared/pbft/effects.js";
import type { Prng } from "./prng.js";

export type CrashPoint = "after-persist" | "mid-persist" | "before-persist";

export type SimStores = ReturnType<typeof memoryStores>;
const cloneStores = (s: SimStores): SimStores => ({ records: s.records.clone(), nodes: s.nodes.clone() });

export class SimStorage {
  private readonly rows = new Map<string, string>();
  /** Lose-writes nodes: steps' writes not yet synced, oldest first, with the stores after each. */
  private unsynced: { ops: PersistOp[]; stores: SimStores }[] = [];
  /** A crash armed to strike in the next step that writes rows. */
  armed: { point: CrashPoint; restartAt: number } | null = null;
  /** The stores the running node writes; for a node that keeps its writes, also the durable ones. */
  live: SimStores = memoryStores();
  /** The stores as on disk (the same object as `live` unless writes are lost). */
  private disk: SimStores;
  /** The stores before the step in progress, while a crash is armed (to roll the step back). */
  private beforeStep: SimStores | null = null;

  constructor(readonly syncEverySteps: number | null = null) {
    this.disk = syncEverySteps === null ? this.live : cloneStores(this.live);
  }

  get losesWrites(): boolean {
    return this.syncEverySteps !== null;
  }

  /** Call before each step: keeps what a rolled-back transaction would leave, while a crash is armed. */
  stepStarts(): void {
    this.beforeStep = this.armed && this.armed.point !== "after-persist" ? cloneStores(this.live) : null;
  }

  /**
   * Commit one step's rows (the state-machine writes are in `live` already). Returns the armed
   * crash if it strikes here, else null: the step's sends may go out.
   */
  write(ops: readonly PersistOp[], _rng: Prng): { point: CrashPoint; restartAt: number } | null {
    const crash = ops.length > 0 ? this.armed : null;
    if (crash) {
      this.armed = null;
      if (crash.point === "after-persist") this.commit(ops);
      else if (!this.losesWrites && this.beforeStep) this.disk = this.live = this.beforeStep;
      this.beforeStep = null;
      return crash;
    }
    this.beforeStep = null;
    this.commit(ops);
    return null;
  }

  private commit(ops: readonly PersistOp[]): void {
    if (this.syncEverySteps === null) {
      this.apply(ops);
      return;
    }
    if (ops.length) this.unsynced.push({ ops: [...ops], stores: cloneStores(this.live) });
    if (this.unsynced.length >= this.syncEverySteps) this.sync();
  }

  sync(): void {
    for (const u of this.unsynced) this.apply(u.ops);
    const last = this.unsynced[this.unsynced.length - 1];
    if (last) this.disk = last.stores;
    this.unsynced = [];
  }

  /** A crash of a lose-writes node: a random prefix of the unsynced steps survives, the rest is lost. */
  crash(rng: Prng): number {
    const keep = this.unsynced.length ? rng.int(0, this.unsynced.length - 1) : 0;
    const lost = this.unsynced.length - keep;
    this.unsynced = this.unsynced.slice(0, keep);
    this.sync();
    return lost;
  }

  /** The stores a restarted node runs on: what is on disk. */
  restartStores(): SimStores {
    this.live = this.losesWrites ? cloneStores(this.disk) : this.disk;
    return this.live;
  }

  /** The rows as a restore reads them. */
  read(): [string, Json][] {
    return [...this.rows].map(([k, v]) => [k, JSON.parse(v) as Json]);
  }

  private apply(ops: readonly PersistOp[]): void {
    for (const p of ops) {
      if (p.op === "put") this.rows.set(p.key, JSON.stringify(p.value));
      else this.rows.delete(p.key);
    }
  }
}
