/**
 * The one reader of a JSON request body for every route: Content-Type checked, size bounded before
 * and after reading, strict UTF-8, strict JSON (no duplicate fields, no `__proto__`, bounded depth;
 * shared/strict-json.ts). Refusals are `AspecError`s with stable codes (415, 413, 400).
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

export async function readJsonBody(c: Context, limits: BodyLimits): Promise<unknown> {
  if (!isJsonUtf8(c.req.header("content-type")))
    throw new AspecError("unsupported_media_type", "the body must be Content-Type: application/json (UTF-8)");
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > limits.bytes)
    throw new AspecError("payload_too_large", `body larger than ${limits.bytes} bytes`);
  const buf = await c.req.arrayBuffer();
  if (buf.byteLength > limits.bytes)
    throw new AspecError("payload_too_large", `body larger than ${limits.bytes} bytes`);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(buf);
  } catch {
    throw new AspecError("malformed_json", "the body is not valid UTF-8");
  }
  try {
    return parseStrictJson(text, limits.depth);
  } catch (e) {
    if (!(e instanceof StrictJsonError)) throw e;
    const code = e.kind === "too_deep" ? (limits.tooDeep ?? "invalid_request") : BODY_ERROR[e.kind];
    throw new AspecError(code, `the body is not accepted JSON: ${e.message} (at ${e.at})`);
  }
}
