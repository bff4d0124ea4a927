// A Stryker reporter ("live"): appends each mutant not detected to reports/mutation/live.txt as soon
// as it is tested (file:line:col, status, mutator, replacement, source line), so work on survivors can
// start before a long run ends, and every tested mutant's status to live-all.txt, so a run stopped
// early still gives the score of what it tested. Plain JavaScript: Stryker loads plugins without a
// TypeScript loader.
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { PluginKind, declareClassPlugin } from "@stryker-mutator/api/plugin";

const OUT = "reports/mutation/live.txt";
const ALL = "reports/mutation/live-all.txt";
const sources = new Map();
const lineOf = (file, line) => {
  if (!sources.has(file)) sources.set(file, readFileSync(file, "utf8").split("\n"));
  return (sources.get(file)[line - 1] ?? "").trim().slice(0, 100);
};

class LiveReporter {
  onDryRunCompleted() {
    mkdirSync("reports/mutation", { recursive: true });
    writeFileSync(OUT, "");
    writeFileSync(ALL, "");
  }
  onMutantTested(m) {
    const file = m.fileName.replace(/^.*?\/((shared|client)\/)/, "$1");
    const { line, column } = m.location.start;
    appendFileSync(ALL, `${m.status} ${file}:${line}:${column}\n`);
    if (["Killed", "Timeout", "Ignored", "CompileError"].includes(m.status)) return;
    const repl = JSON.stringify(m.replacement ?? "").slice(0, 70);
    appendFileSync(
      OUT,
      `${m.status} ${file}:${line}:${column} ${m.mutatorName} ${repl} | ${lineOf(m.fileName, line)}\n`,
    );
  }
}
export const strykerPlugins = [declareClassPlugin(PluginKind.Reporter, "live", LiveReporter)];
