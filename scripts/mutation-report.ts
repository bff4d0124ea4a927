/**
 * `npx tsx scripts/mutation-report.ts REPORT.json… [--survivors]`: the mutation score per folder
 * (and per file with `--files`) from Stryker JSON reports, merged (a later report's file replaces an
 * earlier one's), and with `--survivors` every mutant not detected, with its source line.
 * Score = (killed + timeout) / (all − ignored − compile errors), as Stryker counts it. A
 * `live-all.txt` (the "live" reporter's log, e.g. of a run stopped early) is read as a report too.
 * The last column counts the undetected mutants that are module-level (`static`): with `ignoreStatic`
 * Stryker still runs one when a test loads the module afresh (`vi.resetModules()` and `import()`),
 * and then only against that test, so it survives whatever the rest of the suite would catch.
 * A sampled run's report (`--sample`): the mutants left out are CompileErrors "not in the sample",
 * uncounted; the score is then the sample's, printed with its 95 % (Wilson) interval.
 */
import { readFileSync } from "node:fs";

interface Mutant {
  status: string;
  mutatorName: string;
  replacement?: string;
  location: { start: { line: number; column: number }; end?: { line: number; column: number } };
  /** Stryker: reached only while a module loads (module-level code), not while a test runs. */
  static?: boolean;
  statusReason?: string;
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
const NOT_SAMPLED = "not in the sample"; // scripts/stryker-sample-checker.mjs
type Tally = { detected: number; total: number; staticUndetected: number; notSampled: number };
const tally = new Map<string, Tally>();
function countInto(into: Map<string, Tally>, k: string, m: Mutant): void {
  const t = into.get(k) ?? { detected: 0, total: 0, staticUndetected: 0, notSampled: 0 };
  into.set(k, t);
  if (m.status === "CompileError" && m.statusReason === NOT_SAMPLED) t.notSampled++;
  if (UNCOUNTED.has(m.status)) return;
  t.total++;
  if (DETECTED.has(m.status)) t.detected++;
  else if (m.static === true) t.staticUndetected++;
}
const add = (k: string, m: Mutant) => countInto(tally, k, m);
/** The 95 % Wilson score interval of `k` successes in `n` (percent, one decimal). */
function wilson(k: number, n: number): string {
  const z = 1.96;
  const p = k / n;
  const mid = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const half = (z / (1 + (z * z) / n)) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return `${(100 * (mid - half)).toFixed(1)}–${(100 * (mid + half)).toFixed(1)} %`;
}
/** Per stratum (a sub-folder, or a top folder's own files): for the estimate over a sampled top folder. */
const strata = new Map<string, Tally>();
for (const [f, v] of files) {
  const parts = f.split("/");
  const stratum = parts.length > 2 ? parts.slice(0, 2).join("/") : `${parts[0]}/*.ts`;
  for (const m of v.mutants) {
    add(parts[0]!, m);
    countInto(strata, stratum, m);
    if (parts.length > 2) add(parts.slice(0, 2).join("/"), m);
    if (args.includes("--files")) add(f, m);
  }
}
/**
 * A top folder whose strata were sampled at different rates (or some not at all): the stratified
 * estimate Σ N·p / Σ N over its strata (N = the stratum's mutants, sampled or not), with a 95 %
 * normal interval (finite-population corrected). Null when nothing in it was sampled.
 */
function stratified(top: string): string | null {
  const hs = [...strata].filter(([k]) => k.startsWith(`${top}/`)).map(([, t]) => t);
  if (!hs.some((t) => t.notSampled > 0)) return null;
  if (hs.some((t) => t.total === 0 && t.notSampled > 0))
    return "stratified estimate: a stratum has no sampled mutant";
  const N = hs.reduce((a, t) => a + t.total + t.notSampled, 0);
  let est = 0;
  let variance = 0;
  for (const t of hs) {
    if (t.total === 0) continue;
    const Nh = t.total + t.notSampled;
    const p = t.detected / t.total;
    est += (Nh / N) * p;
    variance += (Nh / N) ** 2 * ((p * (1 - p)) / t.total) * (1 - t.total / Nh);
  }
  const half = 1.96 * Math.sqrt(variance);
  return `stratified estimate ${(100 * est).toFixed(1)} % ± ${(100 * half).toFixed(1)} (over ${hs.length} folders, ${N} mutants)`;
}
for (const [k, t] of [...tally].sort(([a], [b]) => a.localeCompare(b))) {
  if (t.total === 0) continue;
  const sampled =
    t.notSampled > 0 ? `  sample (${t.notSampled} not sampled), 95 % CI ${wilson(t.detected, t.total)}` : "";
  console.log(
    `${k.padEnd(40)} ${((100 * t.detected) / t.total).toFixed(1).padStart(5)} %  ${t.detected} / ${t.total}` +
      `  (${t.staticUndetected} undetected module-level)${sampled}`,
  );
  const est = k.includes("/") ? null : stratified(k);
  if (est) console.log(`${"".padEnd(40)} ${est}`);
}

if (args.includes("--survivors"))
  for (const [f, v] of files) {
    const lines = v.source.split("\n");
    for (const m of v.mutants) {
      if (DETECTED.has(m.status) || UNCOUNTED.has(m.status)) continue;
      const at = `${f}:${m.location.start.line}:${m.location.start.column}`;
      const repl = JSON.stringify(m.replacement ?? "").slice(0, 70);
      // What the mutant replaces (columns are 1-based), not only its line: a mutant of one operand
      // reads like one of the whole condition otherwise.
      const { start, end } = m.location;
      const line = lines[start.line - 1] ?? "";
      const what =
        end === undefined
          ? ""
          : end.line === start.line
            ? line.slice(start.column - 1, end.column - 1)
            : `${line.slice(start.column - 1)} …`;
      console.log(
        `${m.status} ${at} ${m.mutatorName} ${JSON.stringify(what.trim()).slice(0, 80)} → ${repl} | ${line.trim().slice(0, 100)}`,
      );
    }
  }
