/**
 * The fault library's hidden-adversary classes of the boundaries issue (boundary-tricks.ts plays
 * them): values only a structured clone (or an in-process object) can carry, and text that pads,
 * nests or repeats what honest text says once.
 */

export const CLONE_TRICKS = [
  "map",
  "set",
  "date",
  "typed-array",
  "getter",
  "prototype",
  "sparse-array",
  "proto-member",
  "huge-number",
  "bigint",
] as const;
export const PADDING_TRICKS = [
  "whitespace",
  "proto-text",
  "duplicate-member",
  "deep-nesting",
  "oversized",
  "signed-oversized",
] as const;
export type Trick = (typeof CLONE_TRICKS)[number] | (typeof PADDING_TRICKS)[number];

/** A value of the trick's class standing where `v` stood (the clone tricks). */
export function cloneOnly(trick: Trick, v: unknown): unknown {
  switch (trick) {
    case "map":
      return new Map(Object.entries(v as object));
    case "set":
      return new Set(Array.isArray(v) ? v : [v]);
    case "date":
      return new Date(0);
    case "typed-array":
      return new Uint8Array([1, 2, 3]);
    case "getter":
      return Object.defineProperty({}, "entries", { get: () => v, enumerable: true });
    case "prototype":
      return Object.assign(Object.create({ inherited: v }) as object, v as object);
    case "sparse-array": {
      const a = Array.isArray(v) ? [...(v as unknown[])] : [v];
      a.length += 3;
      return a;
    }
    case "proto-member":
      return JSON.parse(`{"__proto__":{"polluted":true},"x":1}`) as unknown;
    case "huge-number":
      return 1e400;
    case "bigint":
      return 10n ** 30n;
    default:
      return v;
  }
}

/** Text with a space around every structural character (outside strings): the same JSON value. */
export function spaced(text: string): string {
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === "\\") out += text[++i] ?? "";
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else out += "{}[],:".includes(c) ? ` ${c}\n` : c;
  }
  return out;
}
