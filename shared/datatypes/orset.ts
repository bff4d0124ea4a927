/**
 * `set`: an observed-remove set of strings. `add(x)` tags x with its op id; `remove(x)` removes the
 * tags of x that the deciding state had observed, so a concurrent add survives a remove.
 * State keeps every tag ever added and every tag removed, in sorted arrays, so the state is the
 * same whatever order effects arrive in (and so is its hash). Tags are not garbage-collected.
 *
 * `delete` is observed-remove over the whole set: it removes every tag its deciding state observed
 * (`clear`), so an element added concurrently survives it, and marks the state deleted: a set a
 * delete reached reads as absent while it holds no element (an emptied set that no delete reached
 * reads as `[]`). In the certified order the deciding state is the whole certified record, so a
 * certified delete empties the set and the key is removed from the certified state.
 */
import * as z from "../zod.js";
import { DELETE_OP, type DataType } from "./datatype.js";

export const SET_ELEMENT_BYTES_MAX = 256;

export interface OrSetState {
  adds: Record<string, string[]>;
  removed: string[];
  /** A delete reached it (absent until then: the state of a set never deleted is unchanged). */
  deleted?: true;
}
export type OrSetEffect =
  { add: string; tag: string } | { remove: string; tags: string[] } | { clear: string[] };

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

/** Every tag the state holds that no remove took out: what a delete observed, sorted. */
function allLiveTags(s: OrSetState): string[] {
  const removed = new Set(s.removed);
  return Object.values(s.adds)
    .flat()
    .filter((t) => !removed.has(t))
    .sort();
}

/** The tags an effect removes (a remove's or a delete's), none for an add. */
const removedBy = (e: OrSetEffect): string[] => ("tags" in e ? e.tags : "clear" in e ? e.clear : []);

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
    [DELETE_OP]: z.strictObject({}),
  },
  effect: z.union([
    z.strictObject({ add: element, tag: z.string() }),
    z.strictObject({ remove: element, tags: z.array(z.string()) }),
    z.strictObject({ clear: z.array(z.string()) }),
  ]),
  initial: () => ({ adds: {}, removed: [] }),
  decide(s, op, args, ctx) {
    if (op === DELETE_OP) return { status: "ok", effect: { clear: allLiveTags(s) } };
    const x = (args as { x: string }).x;
    if (op === "add") return { status: "ok", effect: { add: x, tag: ctx.opId } };
    return { status: "ok", effect: { remove: x, tags: liveTags(s, x) } };
  },
  apply(s, e) {
    if ("add" in e) {
      const prev = tagsOf(s, e.add) ?? [];
      const next = insertSorted(prev, [e.tag]);
      return next === prev ? s : { ...s, adds: { ...s.adds, [e.add]: next } };
    }
    const removed = insertSorted(s.removed, removedBy(e));
    if ("clear" in e) return removed === s.removed && s.deleted ? s : { ...s, removed, deleted: true };
    return removed === s.removed ? s : { ...s, removed };
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
      return { ...s, adds };
    }
    // A tag stays removed if another remove or delete still in the log removed it too; the deleted
    // mark stays if another delete is still in the log.
    const rest = others();
    const still = new Set(rest.flatMap(removedBy));
    const drop = new Set(removedBy(e).filter((t) => !still.has(t)));
    const next: OrSetState = { adds: s.adds, removed: s.removed.filter((t) => !drop.has(t)) };
    if (s.deleted && !("clear" in e && !rest.some((o) => "clear" in o))) next.deleted = true;
    return next;
  },
  value: (s) => elementsOf(s),
  present: (s) => !s.deleted || elementsOf(s).length > 0,
};

function elementsOf(s: OrSetState): string[] {
  const removed = new Set(s.removed);
  return Object.keys(s.adds)
    .filter((x) => s.adds[x]!.some((t) => !removed.has(t)))
    .sort();
}
