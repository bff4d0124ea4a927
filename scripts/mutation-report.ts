/**
 * `npx tsx scripts/mutation-report.ts REPORT.json… [--survivors]`: the mutation score per folder
 * (and per file with `--files`) from Stryker JSON reports, merged (a later report's file replaces an
 * earlier one's), and with `--survivors` every mutant not detected, with its source line.
 * Score = (killed + timeout) / (all − ignored − compile errors), as Stryker counts it. A
 * `live-all.txt` (the "live" reporter's log, e.g. of a run stopped early) is read as a report too.
 * The last column counts the undetected mutants that are module-level (`static`): with `ignoreStatic`
 * Stryker still runs one when a test loads the module afresh (`vi.resetModules()` and `import()`),
 * and then only against that test, so it survives whatever the rest of the suite would catch.
 */
import { readFileSync } from "node:fs";

interface Mutant {
  status: string;
  mutatorName: string;
  replacement?: string;
  location: { start: { line: number; column: number } };
  /** Stryker: reached only while a module loads (module-level code), not while a test runs. */
  static?: boolean;
}
interface Report {
  files: Record<string, { source: string; mutants: Mutant[] }>;
}

/** Lines `Status file:line:col` (no source: survivors are listed without their line). */
function fromLiveLog(text: string): Report {
  const files: Report["files"] = {};
  for (const l of text.split("\n").filter(Boolean)) {
    const [status, at] = l.split(" ") as [string, string];
    const [file, line, column] = at.split(":") as [string, string, string];
    (files[file] ??= { source: "", mutants: [] }).mutants.push({
      status,
      mutatorName: "?",
      location: { start: { line: Number(line), column: Number(column) } },
    });
  }
  return { files };
}

const args = process.argv.slice(2);
const files = new Map<string, { source: string; mutants: Mutant[] }>();
for (const path of args.filter((a) => !a.startsWith("--"))) {
  const text = readFileSync(path, "utf8");
  const r: Report = path.endsWith(".txt") ? fromLiveLog(text) : (JSON.parse(text) as Report);
  for (const [f, v] of Object.entries(r.files)) files.set(f.replace(/^.*?(shared|client)\//, "$1/"), v);
}

const DETECTED = new Set(["Killed", "Timeout"]);
const UNCOUNTED = new Set(["Ignored", "CompileError", "RuntimeError"]);
const tally = new Map<string, { detected: number; total: number; staticUndetected: number }>();
const add = (k: string, m: Mutant) => {
  if (UNCOUNTED.has(m.status)) return;
  const t = tally.get(k) ?? { detected: 0, total: 0, staticUndetected: 0 };
  t.total++;
  if (DETECTED.has(m.status)) t.detected++;
  else if (m.static === true) t.staticUndetected++;
  tally.set(k, t);
};
for (const [f, v] of files) {
  const parts = f.split("/");
  for (const m of v.mutants) {
    add(parts[0]!, m);
    if (parts.length > 2) add(parts.slice(0, 2).join("/"), m);
    if (args.includes("--files")) add(f, m);
  }
}
for (const [k, t] of [...tally].sort(([a], [b]) => a.localeCompare(b)))
  console.log(
    `${k.padEnd(40)} ${((100 * t.detected) / t.total).toFixed(1).padStart(5)} %  ${t.detected} / ${t.total}` +
      `  (${t.staticUndetected} undetected module-level)`,
  );

if (args.includes("--survivors"))
  for (const [f, v] of files) {
    const lines = v.source.split("\n");
    for (const m of v.mutants) {
      if (DETECTED.has(m.status) || UNCOUNTED.has(m.status)) continue;
      const at = `${f}:${m.location.start.line}:${m.location.start.column}`;
      const repl = JSON.stringify(m.replacement ?? "").slice(0, 70);
      console.log(
        `${m.status} ${at} ${m.mutatorName} ${repl} | ${(lines[m.location.start.line - 1] ?? "").trim().slice(0, 100)}`,
      );
    }
  }
