/**
 * The one way anything crosses from a peer (another Durable Object or Worker: a node, a replica, a
 * queue message) into this one: as JSON **text**, parsed here. Queues and Durable Object RPC carry
 * structured clones, which keep what JSON cannot (`undefined`, `NaN`, `Date`, `Map`, typed arrays,
 * extra members, sparse arrays); canonical JSON would then drop or mangle them, so a hash or a
 * signature could cover another value than the one acted on. So a sender encodes with
 * `peerText` (canonical JSON) and a receiver takes only a string, parses it with the HTTP edge's
 * strict parser (duplicate members, `__proto__`, depth) and refuses lone surrogates and anything
 * else `jsonProblem` refuses; then each message kind's schema (strict objects: unknown members
 * refused) decides. What a receiver stores, hashes, signs over or echoes is what it parsed here.
 * docs/architecture.md, "Boundaries", lists every place this runs.
 */
import { canonicalJson } from "../canonical.js";
import { jsonProblem } from "../json-value.js";
import { StrictJsonError, parseStrictJson } from "../strict-json.js";
import type * as z from "../zod.js";

export interface PeerTextLimits {
  /** UTF-16 code units of text at most (≤ bytes of its UTF-8 for the ASCII this carries). */
  chars: number;
  /** Containers nested at most. */
  depth: number;
}

export type PeerParse<T> = { ok: true; value: T } | { ok: false; reason: string };

/** What a sender puts on the wire: the canonical JSON text of `value` (throws on what JSON can't carry). */
export const peerText = (value: unknown): string => canonicalJson(value);

/** Parse peer text as JSON data, strictly; no schema yet. Never throws. */
export function parsePeerJson(text: unknown, limits: PeerTextLimits): PeerParse<unknown> {
  if (typeof text !== "string") return { ok: false, reason: "not_text" };
  if (text.length > limits.chars) return { ok: false, reason: "too_large" };
  let value: unknown;
  try {
    value = parseStrictJson(text, limits.depth);
  } catch (e) {
    if (e instanceof StrictJsonError) return { ok: false, reason: `json_${e.kind}` };
    return { ok: false, reason: "json_syntax" };
  }
  // lone surrogates (escaped or not) and numbers past JSON's range; the parser did depth and names
  const problem = jsonProblem(value, limits.depth);
  if (problem) return { ok: false, reason: "not_json_data" };
  return { ok: true, value };
}

/** Parse peer text and check it against one message kind's schema. Never throws. */
export function parsePeer<S extends z.ZodMiniType>(
  text: unknown,
  schema: S,
  limits: PeerTextLimits,
): PeerParse<z.infer<S>> {
  const json = parsePeerJson(text, limits);
  if (!json.ok) return json;
  const r = schema.safeParse(json.value);
  return r.success ? { ok: true, value: r.data as z.infer<S> } : { ok: false, reason: "schema" };
}

/**
 * A peer's RPC answer as plain JSON data (its canonical JSON, parsed again), or null when it holds
 * anything JSON can't carry: for answers that are only shown, never acted on.
 */
export function jsonDataOf(x: unknown): unknown {
  try {
    return JSON.parse(peerText(x)) as unknown;
  } catch {
    return null;
  }
}
