/**
 * The JSON values the API accepts inside an operation (its `args`, a register's value): exactly
 * those that every step keeps unchanged — JSON text → parse → canonical encoding (what a signature
 * covers) → storage → parse again. Refused, rather than silently changed:
 * - nesting deeper than `JSON_DEPTH_MAX` (recursive code further on — schemas, encoders — must
 *   never see a value that could exhaust the stack; this check itself is iterative);
 * - a member named `__proto__` (parsers and schemas drop it or turn it into a prototype, so the
 *   stored value and the signed value would differ);
 * - strings or member names with a lone surrogate (not Unicode text; RFC 8785 refuses them, and
 *   UTF-8 storage would replace them);
 * - anything JSON cannot carry: non-finite numbers, undefined, functions, symbols, bigints,
 *   class instances, sparse arrays, accessors.
 */
import * as z from "./zod.js";
import type { Json } from "./canonical.js";

/** Containers nested in one value at most: `[]` is 1 level, `[[]]` 2, a scalar 0. */
export const JSON_DEPTH_MAX = 32;

export interface JsonProblem {
  /** `reserved_name` for a `__proto__` member, `invalid` for everything else. */
  kind: "reserved_name" | "invalid";
  message: string;
}

const LONE_SURROGATE_RE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Is `s` well-formed UTF-16, i.e. Unicode text (no lone surrogate)? */
export const isWellFormedText = (s: string): boolean => !LONE_SURROGATE_RE.test(s);

const invalid = (message: string): JsonProblem => ({ kind: "invalid", message });

/**
 * Why `v` is not a storable JSON value of at most `depthMax` nested containers, or null if it is.
 * Iterative: any depth is safe to check.
 */
export function jsonProblem(v: unknown, depthMax: number = JSON_DEPTH_MAX): JsonProblem | null {
  const stack: [unknown, number][] = [[v, 0]];
  while (stack.length > 0) {
    const [x, depth] = stack.pop()!;
    switch (typeof x) {
      case "boolean":
        continue;
      case "string":
        if (!isWellFormedText(x)) return invalid("a string is not Unicode text (lone surrogate)");
        continue;
      case "number":
        if (!Number.isFinite(x)) return invalid("a number JSON cannot carry (too large or not finite)");
        continue;
      case "object": {
        if (x === null) continue;
        if (depth >= depthMax) return invalid(`nested deeper than ${depthMax} levels`);
        if (Array.isArray(x)) {
          if (Object.getPrototypeOf(x) !== Array.prototype) return invalid("not a plain array");
          for (let i = 0; i < x.length; i++) {
            if (!Object.hasOwn(x, i)) return invalid("an array with a hole");
            stack.push([x[i], depth + 1]);
          }
          continue;
        }
        const proto = Object.getPrototypeOf(x);
        if (proto !== Object.prototype && proto !== null) return invalid("not a plain object");
        if (Object.getOwnPropertySymbols(x).length > 0) return invalid("an object with symbol keys");
        for (const name of Object.getOwnPropertyNames(x)) {
          if (name === "__proto__") return { kind: "reserved_name", message: "a member named '__proto__'" };
          if (!isWellFormedText(name)) return invalid("a member name is not Unicode text (lone surrogate)");
          const d = Object.getOwnPropertyDescriptor(x, name)!;
          if (!Object.hasOwn(d, "value") || !d.enumerable)
            return invalid(`member '${name}' is not plain data`);
          stack.push([d.value, depth + 1]);
        }
        continue;
      }
      default:
        return invalid(`a ${typeof x} is not JSON`);
    }
  }
  return null;
}

/**
 * Schema of one storable JSON value (`jsonProblem` is null): no recursion inside zod, so a deep
 * value is refused instead of overflowing the stack. Passes the value through unchanged.
 */
export const jsonValue = z.unknown().check(
  z.superRefine((v, ctx) => {
    const p = jsonProblem(v);
    // continue: false — later refinements (e.g. a size check that encodes recursively) must not run
    if (p) ctx.addIssue({ code: "custom", message: p.message, continue: false });
  }),
) as unknown as z.ZodMiniType<Json>;
