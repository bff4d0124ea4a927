/**
 * The simulator's CPU model: one CPU per host. Every input a node handles costs CPU time (the
 * constants below, stated once); a node handles its inputs one at a time in arrival order, and
 * only as its CPU frees up, so a busy host delays what it handles next and what it sends (a
 * message leaves when the step that sent it is done). Sim time is ticks of `TICK_MS`; CPU time is
 * ms of sim time. Off unless a world is created with `cpu` (the seed sweeps run without it).
 */
import type { SignedOp } from "../../shared/ops.js";
import type { Envelope } from "../../shared/pbft/messages.js";

/** CPU ms of sim time per unit of work. */
export interface CpuCosts {
  /** Each peer message a node's shell receives (parse, signature check, the core's handler). */
  message: number;
  /** Each client op verified: a submitted op, each op of a proposal or relayed ops a peer sent. */
  opVerified: number;
  /** Each batch executed (state tree, share signed, checkpoint bookkeeping). */
  batchExecuted: number;
  /** Each op executed. */
  opExecuted: number;
  /** Each tick (timers, STATUS). */
  tick: number;
}

/**
 * The one set of costs the scenarios use: per op (verified twice at a backup, executed once) about
 * 0.8 ms, per batch about 4 ms; a node's own looped-back messages are free (no signature to check).
 */
export const CPU_COSTS: CpuCosts = {
  message: 0.2,
  opVerified: 0.2,
  batchExecuted: 2,
  opExecuted: 0.2,
  tick: 0.02,
};

/**
 * What the model can certify (ops per second of sim time) with full batches of `batchSize` ops and
 * no faults, bounded by the busiest node: a backup (the primary does not verify its own proposals).
 * Per op it verifies the submitted op and the op in the PRE-PREPARE, and executes it; per batch it
 * handles the PRE-PREPARE, n − 1 PREPAREs, COMMITs and shares, and n − 1 CHECKPOINTs every
 * `checkpointIntervalSeqs` batches, and executes the batch. STATUS and ticks are left out: they
 * are the overhead a run pays on top (a few %).
 */
export function certifiedCapacityOpsPerSec(
  c: CpuCosts,
  n: number,
  batchSize: number,
  checkpointIntervalSeqs: number,
): number {
  const perOp = c.message + 2 * c.opVerified + c.opExecuted;
  const messagesPerBatch = 1 + 3 * (n - 1) + (n - 1) / checkpointIntervalSeqs;
  const perBatch = messagesPerBatch * c.message + c.batchExecuted;
  return 1000 / (perOp + perBatch / batchSize);
}

/** What waits for a node's CPU. */
export type CpuInput =
  | { kind: "packet"; from: number; data: string; tampered: boolean }
  | { kind: "submit"; op: SignedOp }
  | { kind: "tick" };

/** One node's CPU: busy until `clockMs`, its inputs in arrival order, what its current step sends. */
export class NodeCpu {
  clockMs = 0;
  /** CPU ms spent in all. */
  usedMs = 0;
  private queue: CpuInput[] = [];
  private head = 0;
  /** Charged to the step in progress by the hooks (execution). */
  stepMs = 0;
  /** Sends of the step in progress (null: not in a step the model runs: send at once). */
  out: { to: number; env: Envelope }[] | null = null;
  tickQueued = false;

  get waiting(): number {
    return this.queue.length - this.head;
  }

  push(input: CpuInput): void {
    this.queue.push(input);
  }

  next(): CpuInput | undefined {
    const input = this.queue[this.head++];
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return input;
  }

  /** After a crash: what waited is lost, the CPU is free. */
  reset(): void {
    this.queue = [];
    this.head = 0;
    this.tickQueued = false;
    this.out = null;
    this.stepMs = 0;
  }
}
