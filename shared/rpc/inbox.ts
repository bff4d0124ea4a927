/**
 * The edge's `CertifiedInbox` entrypoint (workers/certified-inbox.ts) as a PBFT node calls it
 * through its `EDGE` service binding: what a node learns of the certified batch it handed over.
 */

/** How the edge published a batch: one `certificates` queue message, or RPCs to every replica. */
export type PublishPath = { via: "queue" } | { via: "rpc"; failed: { target: string; error: string }[] };

/** A publish, or why the edge refused the post (the node tells it apart from a failed send). */
export type InboxAnswer = PublishPath | { via: "refused"; reason: "not_text" | "too_large" | "bad_seq" };
