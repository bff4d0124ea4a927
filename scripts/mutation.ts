/**
 * `npm run test:mutation -- <folder|file>…`: StrykerJS over the unit tests, mutating only the given
 * folders or files (default: shared/ and client/). Slow: run it on one folder at a time, or on a
 * sample of its mutants (`--sample 0.1`).
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, statSync } from "node:fs";

// A path is a target; `--sample P` (0 < P ≤ 1, and `--sample-seed S`) tests a uniform random
// sample of the mutants only (scripts/stryker-sample-checker.mjs); anything else is passed to
// Stryker (a flag, or the value after one: `--concurrency 1`, `--ignoreStatic false`).
const argv = process.argv.slice(2);
const targets: string[] = [];
const passthrough: string[] = [];
const own: Record<string, string> = {};
argv.forEach((a, i) => {
  const prev = i > 0 ? argv[i - 1]! : "";
  if (a === "--sample" || a === "--sample-seed") return;
  if (prev === "--sample" || prev === "--sample-seed") own[prev] = a;
  else if (a.startsWith("-") || (prev.startsWith("-") && !prev.includes("=") && !existsSync(a)))
    passthrough.push(a);
  else targets.push(a);
});
const sample = own["--sample"];
if (sample !== undefined && !(Number(sample) > 0 && Number(sample) <= 1))
  throw new Error(`--sample takes a rate in (0, 1], not ${sample}`);
const seed = own["--sample-seed"] ?? "1";
const globs = (targets.length > 0 ? targets : ["shared", "client"]).map((t) => {
  const path = t.replace(/\/+$/, "");
  if (!existsSync(path)) throw new Error(`no such file or folder: ${path}`);
  return statSync(path).isDirectory() ? `${path}/**/*.ts` : path;
});
// One incremental file per target set, so runs on different folders don't discard each other's results.
// (A long list of files is named by a hash, so the name stays within a file system's limit.)
const fullSlug = globs.join("+").replace(/[^A-Za-z0-9]+/g, "-");
const slug =
  (fullSlug.length <= 80
    ? fullSlug
    : `${fullSlug.slice(0, 40)}-${createHash("sha256").update(fullSlug).digest("hex").slice(0, 12)}`) +
  (sample !== undefined ? `-sample-${sample}-${seed}` : "");
const args = [
  "stryker",
  "run",
  "--mutate",
  globs.join(","),
  "--incrementalFile",
  `reports/stryker-incremental-${slug}.json`,
  ...(sample !== undefined ? ["--checkers", "sample"] : []),
  ...passthrough,
];
// The simulator checks the PBFT core: its tests join the run when the core is a target.
const withSim = globs.some((g) => g.startsWith("shared/pbft") || g === "shared/**/*.ts");
// Tests that load modules afresh (vi.resetModules, then import()) join only when what they test is
// a target: Stryker runs a module-level mutant of every module such a test loads against that test
// alone (it is the only test reaching the code while a test runs), so the mutant "survives" there
// whatever the rest of the suite would catch. Left out, those mutants are static, hence ignored.
const RELOADING: Record<string, string[]> = {
  "test/unit/crypto/engine-selection.test.ts": ["shared/crypto/", "shared/**"],
  "test/unit/client/cli/entry-points.test.ts": ["client/cli.ts", "client/cli/", "client/bin/", "client/**"],
};
const excluded = Object.entries(RELOADING)
  .filter(([, subjects]) => !globs.some((g) => subjects.some((s) => g.startsWith(s))))
  .map(([test]) => test);
const run = spawnSync("npx", args, {
  stdio: "inherit",
  env: {
    ...process.env,
    MUTATION_WITH_SIM: withSim ? "1" : "0",
    MUTATION_EXCLUDE: excluded.join(","),
    ...(sample !== undefined ? { MUTATION_SAMPLE: sample, MUTATION_SAMPLE_SEED: seed } : {}),
  },
});
// The JSON report is written to one path by every run: keep a copy per target set.
const report = "reports/mutation/mutation.json";
if (run.status === 0 && existsSync(report)) copyFileSync(report, `reports/mutation/${slug}.json`);
process.exit(run.status ?? 1);
