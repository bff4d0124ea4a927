/**
 * What crosses the simulated replicate channel between replicas, as JSON text (parsed again on
 * receipt, as a queue message or an RPC answer is): a batch of an origin's own log entries (the
 * queue's fast path, a re-send, or an anti-entropy page), a receiver's confirmation of its cursor
 * for an origin, and an anti-entropy pull.
 */
import type { ReplicatedOp } from "../../../shared/replication.js";

export type ReplicaMessage =
  | { kind: "entries"; origin: number; entries: ReplicatedOp[] }
  | { kind: "ack"; from: number; cursor: number }
  | { kind: "pull"; from: number; after: number };

export const messageText = (m: ReplicaMessage): string => JSON.stringify(m);
export const parseMessage = (text: string): ReplicaMessage => JSON.parse(text) as ReplicaMessage;
