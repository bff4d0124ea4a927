/** Process trees from /proc (Linux; empty elsewhere): what a harness or reporter must stop before it exits. */
import { readdirSync, readFileSync } from "node:fs";

/** Every live descendant of `root` (children, grandchildren, …), from /proc (Linux; empty elsewhere). */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return [];
  }
  for (const d of entries) {
    try {
      const m = /^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${d}/status`, "utf8"));
      if (m) children.set(Number(m[1]), [...(children.get(Number(m[1])) ?? []), Number(d)]);
    } catch {
      /* gone */
    }
  }
  const out: number[] = [];
  const stack = [...(children.get(root) ?? [])];
  while (stack.length) {
    const p = stack.pop()!;
    out.push(p);
    stack.push(...(children.get(p) ?? []));
  }
  return out;
}
