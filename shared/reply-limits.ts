/**
 * The one bound on a reply the SDK acts on, and the evidence bound derived from it
 * (docs/architecture.md, "Evidence and quarantine"). Rule: anything the SDK would act on can be
 * submitted as evidence. So the SDK refuses (a verification failure: it fails over, it builds no
 * evidence) a reply past these bounds, and `POST /v1/evidence` takes a body up to the bound plus the
 * envelope's overhead: a lying replica cannot pad its own signed reply out of the evidence route's
 * reach while the SDK still believes it.
 */
import { utf8 } from "./bytes.js";
import { StrictJsonError, parseStrictJson } from "./strict-json.js";

/**
 * Bytes of a reply, both as received and as the SDK re-encodes it into evidence
 * (`JSON.stringify`: a number written `1e20` is re-encoded in 21 bytes, so the received size alone
 * does not bound the evidence). An honest reply's largest part is a key's value, twice (tentative and
 * certified): a register's is ≤ 4 KiB, a set's grows with its elements (≤ 256 B each), so 1 MiB
 * holds a set of about 1,900 maximal elements; a key past that cannot be read through the SDK.
 */
export const REPLY_BYTES_MAX = 1024 * 1024;
/**
 * Nesting of a reply. The deepest honest one: a client evidence reply (`evidence[i].kept.args.v`:
 * 4 levels, then a register value of up to 33), 37; the margin is for shapes still to come.
 */
export const REPLY_DEPTH_MAX = 48;
/**
 * Bytes of a batch's reply (`POST /v1/ops/batch`), read whole by the SDK: up to 100 op replies of
 * a few KiB each, with room for large values; each reply in it is held to `REPLY_BYTES_MAX` alone,
 * so each can still be evidence.
 */
export const BATCH_REPLY_BYTES_MAX = 8 * 1024 * 1024;

/**
 * What evidence adds around the replies it carries: `{"kind":"contradicted_result","reply":…,
 * "truth":…}` is under 60 bytes; the rest is headroom for whitespace a client may add.
 */
export const EVIDENCE_ENVELOPE_BYTES = 4096;
/**
 * The largest evidence: a reply and a truth (`contradicted_result`; a truth is part of another
 * reply, so no larger than one), or two certificates (each part of a reply), plus the envelope.
 */
export const EVIDENCE_BYTES_MAX = 2 * REPLY_BYTES_MAX + EVIDENCE_ENVELOPE_BYTES;
/** evidence → reply (one level) → the reply's own nesting; a truth sits inside a reply at ≥ 2 deep. */
export const EVIDENCE_DEPTH_MAX = REPLY_DEPTH_MAX + 1;

export type ReplyTextProblem =
  /** Past `REPLY_BYTES_MAX` as received or as re-encoded. */
  | "too_large"
  /** Nested deeper than `REPLY_DEPTH_MAX`. */
  | "too_deep"
  /** A member name twice in one object, or a member `__proto__`: the evidence route refuses both. */
  | "not_strict"
  /** Not JSON at all (e.g. a proxy's HTML page). */
  | "not_json";

/**
 * Parse a reply's text as the evidence route will parse the evidence made of it (the same strict
 * parser), within the reply bounds. Never throws.
 */
export function parseReplyText(
  text: string,
  bytesMax = REPLY_BYTES_MAX,
): { ok: true; value: unknown } | { ok: false; problem: ReplyTextProblem; detail: string } {
  if (utf8(text).length > bytesMax)
    return { ok: false, problem: "too_large", detail: `more than ${bytesMax} bytes` };
  let value: unknown;
  try {
    value = parseStrictJson(text, REPLY_DEPTH_MAX);
  } catch (e) {
    const kind = e instanceof StrictJsonError ? e.kind : "syntax";
    const problem = kind === "too_deep" ? "too_deep" : kind === "syntax" ? "not_json" : "not_strict";
    return { ok: false, problem, detail: e instanceof Error ? e.message : String(e) };
  }
  if (utf8(JSON.stringify(value)).length > bytesMax)
    return { ok: false, problem: "too_large", detail: `more than ${bytesMax} bytes re-encoded` };
  return { ok: true, value };
}
