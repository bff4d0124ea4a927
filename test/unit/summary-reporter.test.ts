/**
 * The closing line counts every failure: planted files (test/fixtures/reporter) fail in each way a
 * run can, and the line must say so. A run that exits non-zero must never close on "0 failed".
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");

it("counts failed hooks, files that don't load and failing tests in the closing line", () => {
  const run = spawnSync(
    process.execPath,
    [
      join(ROOT, "node_modules", "vitest", "vitest.mjs"),
      "run",
      "--config",
      "test/fixtures/reporter/vitest.config.ts",
    ],
    { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", CI: "1" } },
  );
  const lines = run.stdout.trim().split("\n");
  // before-all-throws: 2 tests that could not run + 1 pass; after-all-throws: 1 pass + its hook;
  // does-not-load: 1; plain: 1 failed, 1 passed, 1 skipped.
  expect(lines.at(-1)).toBe("tests: 3 passed, 5 failed, 1 skipped");
  expect(run.status).not.toBe(0);
});
