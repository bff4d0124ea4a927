/**
 * A simulated node's durable rows, and the ways a crash can meet them.
 *
 * - A correct node writes each step's rows before it sends anything (the shell's order). A crash
 *   can be armed to strike inside a step: after the rows are written and before any send
 *   ("after-persist"), after only a prefix of them ("mid-persist"), or before any ("before-persist").
 *   In every case nothing of that step was sent, so the node never told anyone about what it
 *   lost: it stays a correct node, and the checker and the liveness phase hold it to that.
 * - A node with `syncEverySteps` loses writes: its rows reach storage only every few steps, but it
 *   sends at once, so a crash loses an unsynced tail that peers may already have acted on (it may
 *   have voted, then forget it did). That breaks persist-before-send, so such a node counts as
 *   faulty: it takes one of the f faults, its outputs are not checked, and ops it alone accepted
 *   are not owed a certificate.
 */
import type { Json } from "../../shared/canonical.js";
import type { PersistOp } from "../../shared/pbft/effects.js";
import type { Prng } from "./prng.js";

export type CrashPoint = "after-persist" | "mid-persist" | "before-persist";

export class SimStorage {
  private readonly rows = new Map<string, string>();
  /** Lose-writes nodes: steps' writes not yet synced, oldest first. */
  private unsynced: PersistOp[][] = [];
  /** A crash armed to strike in the next step that writes rows. */
  armed: { point: CrashPoint; restartAt: number } | null = null;

  constructor(readonly syncEverySteps: number | null = null) {}

  get losesWrites(): boolean {
    return this.syncEverySteps !== null;
  }

  /**
   * Write one step's rows. Returns the armed crash if it strikes here (after writing what it lets
   * through), else null: the step's sends may go out.
   */
  write(ops: readonly PersistOp[], rng: Prng): { point: CrashPoint; restartAt: number } | null {
    const crash = ops.length > 0 ? this.armed : null;
    if (crash) {
      this.armed = null;
      const n =
        crash.point === "after-persist"
          ? ops.length
          : crash.point === "before-persist"
            ? 0
            : rng.int(ops.length > 1 ? 1 : 0, ops.length - 1);
      this.apply(ops.slice(0, n));
      return crash;
    }
    if (this.syncEverySteps === null) {
      this.apply(ops);
      return null;
    }
    if (ops.length) this.unsynced.push([...ops]);
    if (this.unsynced.length >= this.syncEverySteps) this.sync();
    return null;
  }

  sync(): void {
    for (const ops of this.unsynced) this.apply(ops);
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
