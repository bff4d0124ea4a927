/**
 * The one key grammar, for writes (`POST /v1/ops`) and reads (`GET /v1/kv/:key`) alike, with one
 * error (`invalid_key`, 400): every key that can be written can be read back, and a key refused on
 * one path is refused on the other the same way.
 *
 * A key is 1 to `KEY_BYTES_MAX` bytes of UTF-8, Unicode text (no lone surrogate: it could not be
 * stored or percent-encoded faithfully), with no control character (U+0000–U+001F, U+007F–U+009F),
 * and is not `.` or `..` (URL parsers resolve those path segments, `%2E` included, so no URL can
 * name them). In a URL the key is one path segment, percent-encoded (`encodeURIComponent`), and
 * the server percent-decodes it exactly once.
 */
import { utf8Length } from "./bytes.js";
import { AspecError } from "./errors.js";
import { isWellFormedText } from "./json-value.js";
import { KEY_BYTES_MAX } from "./op-limits.js";

export { KEY_BYTES_MAX };

const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/;

/** Why `key` is not a valid key, or null if it is. */
export function keyProblem(key: string): string | null {
  if (key.length === 0) return "key is empty";
  if (key === "." || key === "..") return `key '${key}' cannot be named in a URL path`;
  if (CONTROL_RE.test(key)) return "key contains control characters";
  if (!isWellFormedText(key)) return "key is not Unicode text (lone surrogate)";
  if (utf8Length(key) > KEY_BYTES_MAX) return `key longer than ${KEY_BYTES_MAX} bytes (UTF-8)`;
  return null;
}

/** `key` itself, or `AspecError("invalid_key")`. */
export function checkKey(key: string): string {
  const problem = keyProblem(key);
  if (problem) throw new AspecError("invalid_key", problem);
  return key;
}

/** The path that reads `key`, e.g. `kvPath("a/b?")` = `/v1/kv/a%2Fb%3F`. Throws for an invalid key. */
export const kvPath = (key: string): string => `/v1/kv/${encodeURIComponent(checkKey(key))}`;

/** The key named by the raw (still percent-encoded) rest of a `/v1/kv/` path: decoded once, checked. */
export function keyFromPath(raw: string): string {
  let key: string;
  try {
    key = decodeURIComponent(raw);
  } catch {
    throw new AspecError("invalid_key", "the key in the path is not percent-encoded UTF-8");
  }
  return checkKey(key);
}
