/**
 * What crosses into a PBFT node besides its peers' envelopes' own schema (shared/pbft/boundary.ts
 * checks those): the limits an envelope's text is parsed under, and client ops handed to the nodes
 * (the replicate consumer's `submit`), as the text of a JSON array of ops.
 */
import { ARGS_DEPTH_MAX } from "../op-limits.js";
import { DEFAULT_PBFT_CONFIG } from "../pbft/config.js";
import * as z from "../zod.js";
import { parsePeer, parsePeerJson, peerText } from "./peer-text.js";

/**
 * One envelope's text: at most the bulk message bound (the boundary then applies each kind's own
 * bound), nested at most an op's args' depth plus the envelope's own levels (envelope → message →
 * proposal or proof → ops → op → args).
 */
export const ENVELOPE_LIMITS = { chars: DEFAULT_PBFT_CONFIG.bulkMessageBytesMax, depth: ARGS_DEPTH_MAX + 16 };

/** Ops one `submit` carries at most (more is refused whole: the sender splits). */
export const SUBMIT_OPS_MAX = 5_000;
const SUBMIT_LIMITS = { chars: 16 * 1024 * 1024, depth: ARGS_DEPTH_MAX + 2 };
const opsSchema = z.array(z.unknown()).check(z.maxLength(SUBMIT_OPS_MAX));

/** The text of ops handed to a node. */
export const submitText = (ops: readonly unknown[]): string => peerText(ops);

/** The ops in a `submit` call's text (each still to be checked by `admitOp`), or none. Never throws. */
export function parseSubmittedOps(text: unknown): unknown[] {
  const r = parsePeer(text, opsSchema, SUBMIT_LIMITS);
  return r.ok ? r.value : [];
}

/** Envelopes one `deliver` call carries at most (the rest is dropped: a sender's one step sends fewer). */
export const DELIVER_ENVELOPES_MAX = 1024;

/**
 * A `deliver` call's envelopes, each parsed from its text strictly (the parser refuses what
 * JSON.parse would resolve silently: duplicate members, `__proto__`, depth), with the text's length,
 * which the boundary checks against each message kind's bound; junk (not text, not JSON) → `null`,
 * which the boundary drops. Never throws.
 */
export function parseEnvelopes(envelopes: unknown): { raw: unknown; sizeBytes?: number }[] {
  if (!Array.isArray(envelopes)) return [];
  return envelopes.slice(0, DELIVER_ENVELOPES_MAX).map((text: unknown) => {
    if (typeof text !== "string") return { raw: null };
    const parsed = parsePeerJson(text, ENVELOPE_LIMITS);
    return { raw: parsed.ok ? parsed.value : null, sizeBytes: text.length };
  });
}
