/** Bytes under a directory (files only, recursively): the persist dir's size on disk. */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

export function dirBytes(dir: string): number {
  let n = 0;
  let entries: import("node:fs").Dirent[] = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    try {
      if (e.isDirectory()) n += dirBytes(p);
      else if (e.isFile()) n += statSync(p).size;
    } catch {
      /* removed meanwhile */
    }
  }
  return n;
}
