/**
 * DEV ONLY: the fault wrapper around a PBFT node's boundary (platform/node-boundary.ts). Each mode of
 * ./node-faults.ts acts on what the node lets out or how it answers, never inside its core: the
 * driver's `rewrite` hook, each send's delay, its posts and served batches, its certificates. The
 * modes are kept in the node's SQLite (`pbft_faults`), so they survive an eviction.
 */
import { certifiedBatchText } from "../../shared/wire/certified-batch.js";
import { faultInjectionAllowed } from "../../shared/config.js";
import type { FaultHost, Installed } from "../dev-faults-hook.js";
import type { NodeBoundary } from "../node-boundary.js";
import {
  certificateLeaving,
  forgeBatch,
  HANG_MS,
  mangle,
  parseNodeFaults,
  postsCertificates,
  rewriteFaulty,
  sendDelayMs,
  servesBatches,
  type NodeFaults,
} from "./node-faults.js";

/** While `on()` holds, wait (checked every 500 ms), for HANG_MS at most. */
async function whileOn(on: () => boolean): Promise<void> {
  const until = Date.now() + HANG_MS;
  while (on() && Date.now() < until) await new Promise((r) => setTimeout(r, 500));
}

/** `plain` wrapped with the modes kept in `host.sql`, and their switch. */
export function nodeWithFaults(
  plain: NodeBoundary,
  host: FaultHost & { me: number },
): Installed<NodeBoundary> {
  const { sql, me } = host;
  // mode → JSON, set through FAULT_TOKEN
  sql.exec("CREATE TABLE IF NOT EXISTS pbft_faults (name TEXT PRIMARY KEY, v TEXT NOT NULL)");
  let stored: NodeFaults | undefined;
  // the modes in force: none while the gate is shut (outside dev), whatever is stored
  const faults = (): NodeFaults => {
    if (!faultInjectionAllowed(host.env, host.env.FAULT_TOKEN)) return {};
    if (stored === undefined) {
      const raw: Record<string, unknown> = {};
      for (const r of sql.exec<{ name: string; v: string }>("SELECT name, v FROM pbft_faults"))
        raw[r.name] = JSON.parse(r.v);
      stored = parseNodeFaults(raw);
    }
    return stored;
  };
  const set = (raw: unknown): NodeFaults => {
    const f = parseNodeFaults(raw);
    sql.exec("DELETE FROM pbft_faults");
    for (const [k, v] of Object.entries(f))
      sql.exec("INSERT INTO pbft_faults (name, v) VALUES (?, ?)", k, JSON.stringify(v));
    stored = f;
    return f;
  };
  const boundary: NodeBoundary = {
    // `hang`: accept the call and answer nothing for HANG_MS (callers' deadlines cut it off)
    hold: () => whileOn(() => faults().hang === true).then(() => plain.hold()),
    serves: () => servesBatches(faults()) && plain.serves(),
    rewrite: (out) => plain.rewrite(out).flatMap((o) => rewriteFaulty(faults(), o, me)),
    sendDelayMs: () => sendDelayMs(faults(), Math.random()) + plain.sendDelayMs(),
    certificate: (c) => certificateLeaving(faults(), plain.certificate(c), me),
    posts: () => postsCertificates(faults()) && plain.posts(),
    // `hangPosts`: a post waits until the fault is off (a queue that takes the call and never answers)
    beforePost: () => whileOn(() => faults().hangPosts === true).then(() => plain.beforePost()),
    postPayload: (msg, text) => (faults().mangledPosts ? mangle(msg, text) : plain.postPayload(msg, text)),
    servedText(msg, text) {
      const f = faults();
      const t = f.forgeBatches ? certifiedBatchText(forgeBatch(msg)) : text;
      if (!f.mangledPosts) return plain.servedText(msg, t);
      // a text with a member no schema knows (objects can't go inside a text)
      const m = mangle(msg, t);
      return typeof m === "string" ? m : t.replace("{", '{"extra":1,');
    },
  };
  return { boundary, faults: { set: (raw) => ({ ...set(raw) }), current: () => ({ ...faults() }) } };
}
