/**
 * Listing keys by prefix (`GET /v1/kv?prefix=&cursor=&limit=`): the query's grammar and bounds, the
 * opaque cursor, and the pure assembly of one page from a replica's tentative records in byte order.
 *
 * A cursor is base64url (no padding) of the UTF-8 of the last key a page listed; the next page
 * starts strictly after it. So a page is stable under concurrent writes: a key present through the
 * whole listing is listed exactly once, in order; a key written meanwhile is listed if it sorts after
 * the cursor it was written behind, and not otherwise.
 */
import type { Json } from "./canonical.js";
import { fromB64u, fromUtf8, toB64u, utf8, utf8Length } from "./bytes.js";
import type { TypeName } from "./datatypes/index.js";
import { AspecError } from "./errors.js";
import { isWellFormedText } from "./json-value.js";
import { keyProblem } from "./kv-key.js";
import { isPresent, valueOf, type KeyRecord } from "./materialize.js";
import { KEY_BYTES_MAX } from "./op-limits.js";

/** Keys per page, by default and at most. */
export const LIST_LIMIT_DEFAULT = 100;
export const LIST_LIMIT_MAX = 1000;
/**
 * Bytes of a page's entries (as JSON): half the SDK's reply bound (shared/reply-limits.ts), leaving
 * the certificate and the envelope far inside it. A page ends early rather than pass it.
 */
export const LIST_ENTRIES_BYTES_MAX = 512 * 1024;

const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/;

/** Why `prefix` is no prefix of a valid key (shared/kv-key.ts), or null. The empty prefix lists all. */
export function prefixProblem(prefix: string): string | null {
  if (CONTROL_RE.test(prefix)) return "prefix contains control characters";
  if (!isWellFormedText(prefix)) return "prefix is not Unicode text (lone surrogate)";
  if (utf8Length(prefix) > KEY_BYTES_MAX) return `prefix longer than ${KEY_BYTES_MAX} bytes (UTF-8)`;
  return null;
}

/** The cursor that resumes a listing after `key`. */
export const encodeCursor = (key: string): string => toB64u(utf8(key));

/** The key a cursor resumes after, or null if `cursor` is not one this API gave. */
export function decodeCursor(cursor: string): string | null {
  let key: string;
  try {
    const bytes = fromB64u(cursor);
    key = fromUtf8(bytes);
    // the decoder replaces bad UTF-8 with U+FFFD: a cursor must round-trip to be one of ours
    if (encodeCursor(key) !== cursor) return null;
  } catch {
    return null;
  }
  return keyProblem(key) === null ? key : null;
}

/** A listing's request, checked: the prefix, the key to start after (null: from the prefix), the limit. */
export interface ListQuery {
  prefix: string;
  after: string | null;
  limit: number;
}

/**
 * `prefix`, `cursor` and `limit` as the query string gave them (undefined: absent), checked: a bad
 * one is `400 invalid_request` naming it. A cursor must lie inside the prefix it is used with.
 */
export function parseListQuery(q: { prefix?: string; cursor?: string; limit?: string }): ListQuery {
  const prefix = q.prefix ?? "";
  const problem = prefixProblem(prefix);
  if (problem) throw new AspecError("invalid_request", `bad prefix: ${problem}`);
  let limit = LIST_LIMIT_DEFAULT;
  if (q.limit !== undefined) {
    limit = /^[1-9][0-9]{0,3}$/.test(q.limit) ? Number(q.limit) : NaN;
    if (!(limit <= LIST_LIMIT_MAX))
      throw new AspecError("invalid_request", `limit is an integer from 1 to ${LIST_LIMIT_MAX}`);
  }
  let after: string | null = null;
  if (q.cursor !== undefined) {
    after = decodeCursor(q.cursor);
    if (after === null || !after.startsWith(prefix))
      throw new AspecError(
        "invalid_request",
        "bad cursor: pass back the `cursor` of the previous page, with the same prefix",
      );
  }
  return { prefix, after, limit };
}

/** One listed key: its type, tentative value, and certified value (null: none certified here). */
export interface ListEntry {
  key: string;
  type: TypeName;
  /** The tentative value (null when `elided`). */
  value: Json;
  /** As of the certified seq; prove it with `GET /v1/kv/:key?view=certified`. */
  certified: { seq: number; value: Json } | null;
  /**
   * The entry alone passes the page's byte bound: its values are left out (null); read the key
   * with `GET /v1/kv/:key`.
   */
  elided?: true;
}

/** A page's entries and the cursor of the next page (null: the listing is complete). */
export interface ListPage {
  entries: ListEntry[];
  cursor: string | null;
}

/** Rows a page reads at most, per entry it may list (deleted keys are read and skipped). */
export const LIST_SCAN_FACTOR = 4;

/**
 * One page from `rows`: the replica's tentative records in byte order of key, starting at the
 * query's lower bound, read lazily (at most `limit` + 1 are taken). Stops at the first key outside
 * the prefix (every key with it sorts together), at `limit` keys, or before passing the byte bound.
 * `certified` gives a key's certified record and seq, or null.
 */
export function listPage(
  rows: Iterable<{ key: string; record: KeyRecord }>,
  query: ListQuery,
  certified: (key: string) => { seq: number; record: KeyRecord | undefined } | null,
  bytesMax = LIST_ENTRIES_BYTES_MAX,
  scanMax = Infinity,
): ListPage {
  const entries: ListEntry[] = [];
  let bytes = 0;
  let scanned = 0;
  let lastScanned = "";
  for (const { key, record } of rows) {
    if (!key.startsWith(query.prefix)) return { entries, cursor: null };
    if (entries.length === query.limit) return { entries, cursor: encodeCursor(entries.at(-1)!.key) };
    // bounded work per page: past `scanMax` rows (deleted keys skipped), a short page and a cursor
    if (scanned === scanMax) return { entries, cursor: encodeCursor(lastScanned) };
    scanned++;
    lastScanned = key;
    // a deleted key keeps its tombstone in the tentative table until certified: not listed
    if (!isPresent(record)) continue;
    const c = certified(key);
    let entry: ListEntry = {
      key,
      type: record.type,
      value: valueOf(record),
      certified: c && c.record ? { seq: c.seq, value: valueOf(c.record) } : null,
    };
    let size = utf8Length(JSON.stringify(entry)) + 1;
    if (size > bytesMax) {
      entry = { key, type: record.type, value: null, certified: null, elided: true };
      size = utf8Length(JSON.stringify(entry)) + 1;
    }
    if (entries.length > 0 && bytes + size > bytesMax)
      return { entries, cursor: encodeCursor(entries.at(-1)!.key) };
    entries.push(entry);
    bytes += size;
  }
  return { entries, cursor: null };
}

/**
 * Keys in the order a listing gives them: by their UTF-8 bytes (code point order), which is not
 * JavaScript's `<` on strings (UTF-16 units: `"\u{1F600}" < "\uFF01"`, whose bytes sort the other way).
 */
export function compareKeys(a: string, b: string): number {
  const x = utf8(a);
  const y = utf8(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}
