/**
 * Durable Objects are thin shells (docs/architecture.md, "Parts"): every file under
 * `durable-objects/` stays under 200 lines; what decides lives in `shared/`. A file that grows past
 * the bound is a sign that a decision moved into a shell.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const SHELL_LINES_MAX = 200;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** Files over the bound, with their line counts. */
export function oversized(files: { file: string; text: string }[], max = SHELL_LINES_MAX): string[] {
  return files
    .map(({ file, text }) => ({ file, lines: text.split("\n").length - (text.endsWith("\n") ? 1 : 0) }))
    .filter((f) => f.lines >= max)
    .map((f) => `${f.file}: ${f.lines} lines`);
}

describe("Durable Object shells stay small", () => {
  it("every file under durable-objects/ is under 200 lines", () => {
    const files = sources(join(ROOT, "durable-objects")).map((f) => ({
      file: relative(ROOT, f),
      text: readFileSync(f, "utf8"),
    }));
    expect(files.length).toBeGreaterThan(20);
    expect(oversized(files)).toEqual([]);
  });

  it("the check counts lines as wc -l does and flags a file at the bound", () => {
    const text = (n: number) => "x\n".repeat(n);
    expect(oversized([{ file: "a.ts", text: text(199) }])).toEqual([]);
    expect(oversized([{ file: "b.ts", text: text(200) }])).toEqual(["b.ts: 200 lines"]);
  });
});
