/**
 * `npm run test:mutation -- <folder|file>…`: StrykerJS over the unit tests, mutating only the given
 * folders or files (default: shared/ and client/). Slow: run it on one folder at a time.
 */
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";

const targets = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const passthrough = process.argv.slice(2).filter((a) => a.startsWith("-"));
const globs = (targets.length > 0 ? targets : ["shared", "client"]).map((t) => {
  const path = t.replace(/\/+$/, "");
  if (!existsSync(path)) throw new Error(`no such file or folder: ${path}`);
  return statSync(path).isDirectory() ? `${path}/**/*.ts` : path;
});
// One incremental file per target set, so runs on different folders don't discard each other's results.
const slug = globs.join("+").replace(/[^A-Za-z0-9]+/g, "-");
const args = [
  "stryker",
  "run",
  "--mutate",
  globs.join(","),
  "--incrementalFile",
  `reports/stryker-incremental-${slug}.json`,
  ...passthrough,
];
const run = spawnSync("npx", args, { stdio: "inherit" });
process.exit(run.status ?? 1);
