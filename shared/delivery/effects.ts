/**
 * What the delivery core (core.ts) takes and what it asks of its host. Every input is one event a
 * replica's shell sees — a local write, a peer's message, an alarm, a task's turn, the answer to
 * I/O the core asked for — and every effect is I/O for the host to do after the step's writes are
 * durable: replicate messages to send, ops to submit to the nodes, pulls to make, op rows to
 * collect, the alarm to set, a page to serve, log events.
 */
import type { SignedOp } from "../ops.js";
import type { GcBound } from "./op-gc.js";
import type { Task } from "./timers.js";

export type DeliveryInput =
  /** A local write committed: back to the busy pace, a drain soon, timers set. */
  | { kind: "written"; nowMs: number }
  /** An op received from a peer: back to the busy pace. */
  | { kind: "received"; nowMs: number }
  /** Any call: make sure the periodic tasks have deadlines and the alarm is set (once per instance). */
  | { kind: "contact"; nowMs: number }
  /** The certified side buffered a batch behind a gap: run its catch-up soon. */
  | { kind: "gap"; nowMs: number }
  /** The alarm fired: which tasks are due (`DeliveryEffects.due`). */
  | { kind: "alarm"; nowMs: number }
  /** A due task's turn (`certifiedSync` is the certified side's: the core only times it). */
  | { kind: "task"; task: Task; nowMs: number }
  /** The replicate messages of a drain or re-send went out: take the mark the send carried. */
  | { kind: "sent"; send: Send }
  /** The nodes answered a resubmission (each node's answer; failed calls left out). */
  | { kind: "nodesAnswered"; nowMs: number; submitted: number; limit: number; answers: unknown[] }
  /** The op rows a `collect` effect named were deleted: how many. */
  | { kind: "collected"; count: number; budget: number }
  /** A pull's answer, parsed by the host, and what applying its entries came to. */
  | { kind: "pulled"; pull: Pull; answer: PullAnswer }
  /** The certified side found work (it fetched a batch, or runs a transfer): not idle. */
  | { kind: "work" }
  /** Confirmations: `{peer: its cursor for this origin}` (hostile input: checked here). */
  | { kind: "acks"; acks: Record<string, unknown> }
  /** A peer asks for own ops after its cursor (and so confirms everything up to it). */
  | { kind: "pageRequest"; requester: string; after: unknown; limit: unknown }
  /** Positions of `origin`'s log handled here (inside the apply transaction). */
  | { kind: "handled"; origin: string; positions: readonly number[] }
  /** Every due task ran: `more` stopped at a bound, `failed` threw; re-arm. */
  | { kind: "alarmDone"; nowMs: number; more: readonly Task[]; failed: readonly Task[] };

/** Replicate messages to send: own log entries, to `targets` (absent: every peer). */
export interface Send {
  task: "drain" | "resend";
  entries: string[];
  targets?: string[];
  /** The mark to take once sent (`sent` input): `sent_pos` for a drain, `resend_mark` for a re-send. */
  mark: number;
}

/** Ask `peer` for its own ops after `after` (at most `limit`); `page` counts this run's pages. */
export interface Pull {
  peer: string;
  after: number;
  limit: number;
  page: number;
  startedMs: number;
}

export type PullAnswer =
  | { ok: false; reason: string }
  /** `head`: the peer's own head; `served`: entries in the page; `applied`: of them applied here. */
  | { ok: true; head: number; served: number; applied: number };

/** A log line: `{ event, ...fields }` (the host adds who it is). */
export interface DeliveryEvent {
  event: string;
  fields: Record<string, unknown>;
}

export interface DeliveryEffects {
  /** Tasks due now, in order (an `alarm` step's answer). */
  due: Task[];
  send: Send[];
  /** Own ops to every PBFT node again, and the run's limit (answer with `nodesAnswered`). */
  submit: { ops: SignedOp[]; limit: number } | null;
  pulls: Pull[];
  /** Op rows to delete, at most `budget` in all (answer with `collected`). */
  collect: { bounds: GcBound[]; budget: number } | null;
  /** A page of own entries served to a peer, and the own head. */
  page: { entries: string[]; head: number } | null;
  /** The receiver's cursor after `handled`. */
  cursor: number | null;
  /** The alarm at this time at the latest (keep a sooner one). */
  alarmBy: number | null;
  /** The alarm set to exactly this time (the end of an alarm run). */
  alarmAt: number | null;
  /** The task stopped at a bound: due again at once. */
  more: boolean;
  /** The `certifiedSync` task is the host's to run now. */
  certifiedSync: boolean;
  events: DeliveryEvent[];
}

export const noEffects = (): DeliveryEffects => ({
  due: [],
  send: [],
  submit: null,
  pulls: [],
  collect: null,
  page: null,
  cursor: null,
  alarmBy: null,
  alarmAt: null,
  more: false,
  certifiedSync: false,
  events: [],
});
