/**
 * `set`: an observed-remove set of strings. `add(x)` tags x with its op id; `remove(x)` removes the
 * tags of x that the deciding state had observed, so a concurrent add survives a remove.
 * State keeps every tag ever added and every tag removed, in sorted arrays, so the state is the
 * same whatever order effects arrive in (and so is its hash). Tags are not garbage-collected.
 */
import * as z from "../zod.js";
import type { DataType } from "./datatype.js";

export const SET_ELEMENT_BYTES_MAX = 256;

export interface OrSetState {
  adds: Record<string, string[]>;
  removed: string[];
}
export type OrSetEffect = { add: string; tag: string } | { remove: string; tags: string[] };

function insertSorted(arr: string[], items: string[]): string[] {
  const set = new Set(arr);
  let changed = false;
  for (const x of items) if (!set.has(x)) (set.add(x), (changed = true));
  return changed ? [...set].sort() : arr;
}

/** Own entries only: an element may be named `__proto__` or `toString`. */
const tagsOf = (s: OrSetState, x: string): string[] | undefined =>
  Object.hasOwn(s.adds, x) ? s.adds[x] : undefined;

function liveTags(s: OrSetState, x: string): string[] {
  const tags = tagsOf(s, x);
  if (!tags) return [];
  const removed = new Set(s.removed);
  return tags.filter((t) => !removed.has(t));
}

const element = z.string().check(
  z.minLength(1),
  z.refine((x) => new TextEncoder().encode(x).length <= SET_ELEMENT_BYTES_MAX, {
    message: `element longer than ${SET_ELEMENT_BYTES_MAX} bytes`,
  }),
);

export const orset: DataType<OrSetState, OrSetEffect> = {
  name: "set",
  args: {
    add: z.strictObject({ x: element }),
    remove: z.strictObject({ x: element }),
  },
  effect: z.union([
    z.strictObject({ add: element, tag: z.string() }),
    z.strictObject({ remove: element, tags: z.array(z.string()) }),
  ]),
  initial: () => ({ adds: {}, removed: [] }),
  decide(s, op, args, ctx) {
    const x = (args as { x: string }).x;
    if (op === "add") return { status: "ok", effect: { add: x, tag: ctx.opId } };
    return { status: "ok", effect: { remove: x, tags: liveTags(s, x) } };
  },
  apply(s, e) {
    if ("add" in e) {
      const prev = tagsOf(s, e.add) ?? [];
      const next = insertSorted(prev, [e.tag]);
      return next === prev ? s : { adds: { ...s.adds, [e.add]: next }, removed: s.removed };
    }
    const removed = insertSorted(s.removed, e.tags);
    return removed === s.removed ? s : { adds: s.adds, removed };
  },
  unapply(s, e, others) {
    if ("add" in e) {
      // Built with fromEntries: an element may be any string, "__proto__" included.
      const adds = Object.fromEntries(
        Object.entries(s.adds).flatMap(([x, tags]): [string, string[]][] => {
          if (x !== e.add) return [[x, tags]];
          const left = tags.filter((t) => t !== e.tag);
          return left.length > 0 ? [[x, left]] : [];
        }),
      );
      return { adds, removed: s.removed };
    }
    // A tag stays removed if another remove still in the log removed it too.
    const still = new Set(others().flatMap((o) => ("remove" in o ? o.tags : [])));
    const drop = new Set(e.tags.filter((t) => !still.has(t)));
    return { adds: s.adds, removed: s.removed.filter((t) => !drop.has(t)) };
  },
  value(s) {
    const removed = new Set(s.removed);
    return Object.keys(s.adds)
      .filter((x) => s.adds[x]!.some((t) => !removed.has(t)))
      .sort();
  },
};
