/**
 * Canonical byte encoding for everything that is signed or hashed.
 *
 * The encoding is a domain tag, a newline, then the JSON Canonicalization Scheme (RFC 8785) of the
 * value: object keys sorted by UTF-16 code units, no whitespace, numbers in ECMAScript shortest form.
 * The domain tag keeps a signature over one kind of message from being replayed as another.
 * Values that JSON cannot carry exactly (undefined, NaN, ±Infinity, -0, functions, bigints, class
 * instances) are refused rather than silently changed.
 */
import { utf8 } from "./bytes.js";

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export function canonicalJson(v: unknown): string {
  switch (typeof v) {
    case "string":
      return JSON.stringify(v);
    case "boolean":
      return v ? "true" : "false";
    case "number":
      if (!Number.isFinite(v)) throw new TypeError("canonical: non-finite number");
      if (Object.is(v, -0)) return "0";
      return JSON.stringify(v);
    case "object": {
      if (v === null) return "null";
      if (Array.isArray(v)) return "[" + v.map(canonicalJson).join(",") + "]";
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) throw new TypeError("canonical: not a plain object");
      const keys = Object.keys(v).sort();
      const parts: string[] = [];
      for (const k of keys) {
        const x = (v as Record<string, unknown>)[k];
        if (x === undefined) continue; // absent and undefined are the same field
        parts.push(JSON.stringify(k) + ":" + canonicalJson(x));
      }
      return "{" + parts.join(",") + "}";
    }
    default:
      throw new TypeError(`canonical: cannot encode ${typeof v}`);
  }
}

/** Domain-separated canonical bytes: what signatures and hashes cover. */
export function canonicalBytes(domain: string, v: unknown): Uint8Array {
  return utf8(domain + "\n" + canonicalJson(v));
}

/** Byte length of the canonical JSON of a value (for size limits). */
export const canonicalSize = (v: unknown): number => utf8(canonicalJson(v)).length;

/** The domains in use. Changing one is a wire-format break. */
export const DOMAIN = {
  op: "aspec/op/v1",
  replicaReply: "aspec/replica-reply/v1",
  replicaError: "aspec/replica-error/v1",
  replicaBatch: "aspec/replica-batch/v1",
  certificate: "aspec/certificate/v1",
  pbft: "aspec/pbft/v1",
} as const;
