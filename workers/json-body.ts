/**
 * The one reader of a JSON request body for every route: Content-Type checked, size bounded while
 * reading, strict UTF-8 without a byte-order mark, strict JSON (no duplicate fields, no `__proto__`,
 * bounded depth; shared/strict-json.ts). Refusals are `AspecError`s with stable codes (415, 413, 400).
 */
import type { Context } from "hono";
import { AspecError, type ErrorCode } from "../shared/errors.js";
import { StrictJsonError, parseStrictJson, type StrictJsonErrorKind } from "../shared/strict-json.js";
import { isJsonUtf8 } from "./media-type.js";

export interface BodyLimits {
  bytes: number;
  depth: number;
  /** The code for a body nested deeper than `depth` (an op's: `invalid_args`, its args are what nest). */
  tooDeep?: ErrorCode;
}

const BODY_ERROR: Record<Exclude<StrictJsonErrorKind, "too_deep">, ErrorCode> = {
  syntax: "malformed_json",
  duplicate: "duplicate_field",
  reserved_name: "reserved_name",
};

const tooLarge = (limit: number) => new AspecError("payload_too_large", `body larger than ${limit} bytes`);

/**
 * The body's bytes, read as a stream and given up (the stream cancelled) as soon as more than
 * `limit` bytes arrived, whatever `Content-Length` says or whether it is there at all: a body is
 * never buffered past the limit. A body that cannot be read to its end is `truncated_body`: workerd
 * raises `Error("Network connection lost.")` with `retryable: true` when the sender closes the
 * connection before its `Content-Length` arrived — that is the client's doing, not a transient
 * fault of ours, so it is a 400 rather than the `503 unavailable` a `retryable` error would map to.
 */
async function readBounded(body: ReadableStream<Uint8Array> | null, limit: number): Promise<Uint8Array> {
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        reader.cancel().catch(() => {}); // stop the sender; nothing more of it is read
        throw tooLarge(limit);
      }
      chunks.push(value);
    }
  } catch (e) {
    if (e instanceof AspecError) throw e;
    console.log({ event: "body_truncated", error: String(e) });
    throw new AspecError(
      "truncated_body",
      "the body ended before it was complete (less than its Content-Length)",
    );
  }
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return bytes;
}

export async function readJsonBody(c: Context, limits: BodyLimits): Promise<unknown> {
  if (!isJsonUtf8(c.req.header("content-type")))
    throw new AspecError("unsupported_media_type", "the body must be Content-Type: application/json (UTF-8)");
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > limits.bytes) throw tooLarge(limits.bytes);
  const buf = await readBounded(c.req.raw.body, limits.bytes);
  let text: string;
  try {
    // ignoreBOM: keep a leading U+FEFF in the text, so it is seen (and refused) below, not silently dropped
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(buf);
  } catch {
    throw new AspecError("malformed_json", "the body is not valid UTF-8");
  }
  // RFC 8259 §8.1: a sender MUST NOT add a byte-order mark; JSON text starts with its value
  if (text.charCodeAt(0) === 0xfeff)
    throw new AspecError("malformed_json", "the body starts with a byte-order mark (not JSON text)");
  try {
    return parseStrictJson(text, limits.depth);
  } catch (e) {
    if (!(e instanceof StrictJsonError)) throw e;
    const code = e.kind === "too_deep" ? (limits.tooDeep ?? "invalid_request") : BODY_ERROR[e.kind];
    throw new AspecError(code, `the body is not accepted JSON: ${e.message} (at ${e.at})`);
  }
}
