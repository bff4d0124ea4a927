/**
 * What crosses the simulated replicate channel between replicas, as JSON text (parsed again on
 * receipt, as a queue message or an RPC answer is): a batch of an origin's own log entries — the
 * product's wire text, a replicate message (`replicateText`: the queue's fast path, a re-send) or
 * an anti-entropy page (`logPageText`), which the receiver parses with the product's parsers —, a
 * receiver's confirmation of its cursor for an origin, and an anti-entropy pull. `text` is `unknown`
 * because an adversary may hand over anything in its place (boundary-tricks.ts).
 */
import { logPageText, replicateText, type ReplicatedOp } from "../../../shared/replication.js";

export type EntriesVia = "queue" | "page";

export type ReplicaMessage =
  | { kind: "entries"; origin: number; via: EntriesVia; text: unknown }
  | { kind: "ack"; from: number; cursor: number }
  | { kind: "pull"; from: number; after: number; limit: number };

export const messageText = (m: ReplicaMessage): string => JSON.stringify(m);
export const parseMessage = (text: string): ReplicaMessage => JSON.parse(text) as ReplicaMessage;

/** An origin's entries as the product puts them on the wire (a queue message, or a page with its head). */
export function entriesText(
  origin: number,
  via: EntriesVia,
  entries: readonly ReplicatedOp[],
  head: number,
): string {
  const texts = entries.map((e) => JSON.stringify(e));
  return via === "queue"
    ? replicateText({ origin: `r${origin}`, entries: `[${texts.join(",")}]` })
    : logPageText(texts, head);
}
