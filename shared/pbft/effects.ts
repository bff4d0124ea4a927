/**
 * What one `step` asks the shell to do, in this order: write `persist` (atomically), then send
 * `send`, then publish `certificates`; finally set the alarm to `wakeAtMs`.
 */
import type { Json } from "../canonical.js";
import type { Certificate, CertificateBody, OpResult } from "../certified/types.js";
import type { SignedOp } from "../ops.js";
import type { Envelope, Message, Proposal } from "./messages.js";

/** A row of the node's durable state (one SQLite row per key in the DO shell). */
export type PersistOp = { op: "put"; key: string; value: Json } | { op: "delete"; key: string };

/**
 * A message to sign (as this node) and deliver to `to`, which may include this node itself: a node
 * learns its own signed votes by receiving them. `proposal` rides beside a PRE-PREPARE/COMMITTED.
 * `forward` is an envelope someone already signed, delivered unchanged.
 */
export type Outgoing =
  | { to: number[]; msg: Message; proposal?: Proposal; forward?: undefined }
  | { to: number[]; forward: Envelope; msg?: undefined };

/** A batch this node executed, with what it will sign. */
export interface ExecutedBatch {
  body: CertificateBody;
  ops: SignedOp[];
  results: OpResult[];
}

/** A certificate completed from 2f+1 matching shares, with the batch it certifies. */
export interface CertifiedBatch extends ExecutedBatch {
  certificate: Certificate;
}

export interface Effects {
  persist: PersistOp[];
  send: Outgoing[];
  certificates: CertifiedBatch[];
  executed: ExecutedBatch[];
  /** When the shell should deliver the next tick (ms since epoch), or null for "no need". */
  wakeAtMs: number | null;
  /** Ops this step dropped because the pool was full (absent: none); the shell answers them `busy`. */
  poolFull?: number;
}

export const emptyEffects = (): Effects => ({
  persist: [],
  send: [],
  certificates: [],
  executed: [],
  wakeAtMs: null,
});
