/** Walking and changing JSON data by path, for tests that tamper with every field of a message. */

export type JsonPath = (string | number)[];

/** Every path to a member or element of a JSON value (the root excluded). */
export function pathsOf(v: unknown, at: JsonPath = []): JsonPath[] {
  if (typeof v !== "object" || v === null) return [];
  const keys: (string | number)[] = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
  return keys.flatMap((k) => [
    [...at, k],
    ...pathsOf((v as Record<string | number, unknown>)[k], [...at, k]),
  ]);
}

/** The value at `path`. */
export const valueAt = (v: unknown, path: JsonPath): unknown =>
  path.reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], v);

/**
 * A deep copy of `v` with the value at `path` replaced by `value`, or (`extra`) with `value` added as
 * a member `zz_extra` of the object at `path` (of its parent object, when that value is no object;
 * replaced, when the parent is an array).
 */
export function mutate(v: unknown, path: JsonPath, value: unknown, extra: boolean): unknown {
  const copy = structuredClone(v) as Record<string | number, unknown>;
  let parent: Record<string | number, unknown> = copy;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  const target = parent[last];
  if (extra && typeof target === "object" && target !== null && !Array.isArray(target))
    (target as Record<string, unknown>).zz_extra = value;
  else if (extra && !Array.isArray(parent)) parent.zz_extra = value;
  else parent[last] = value;
  return copy;
}
