/**
 * Prints one plain closing line, `tests: N passed, N failed[, N skipped]`, after vitest's own
 * summary, so any CI that reads closing lines can count the run.
 *
 * "failed" counts every way a run can go wrong, not only failing test bodies: a test that could not
 * run because a hook of its file or suite threw (vitest reports those tests as skipped), a file that
 * failed to load, an error raised by a hook after its tests passed, and an unhandled error. So a run
 * that exits non-zero never closes on "0 failed".
 */
import type { Reporter, TestModule, TestSuite } from "vitest/node";

interface Tally {
  passed: number;
  failed: number;
  skipped: number;
}

/** Count the tests under `node`; `broken` when an enclosing suite or file failed in a hook. */
function tally(node: TestModule | TestSuite, broken: boolean, t: Tally): void {
  // A suite or file that failed on its own (a hook threw, or it failed to load) reports errors.
  const ownErrors = node.errors().length;
  const failedHere = broken || ownErrors > 0;
  let countedBelow = 0;
  for (const child of node.children) {
    if (child.type === "suite") {
      const before = t.failed;
      tally(child, failedHere, t);
      countedBelow += t.failed - before;
      continue;
    }
    const s = child.result().state;
    if (s === "passed") t.passed++;
    else if (s === "failed" || failedHere) {
      t.failed++;
      countedBelow++;
    } else t.skipped++;
  }
  // An error with no failed test to show for it (e.g. an afterAll that threw, a file that didn't
  // load) still counts once.
  if (ownErrors > 0 && countedBelow === 0) t.failed++;
}

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, errors: ReadonlyArray<unknown>): void {
    const t: Tally = { passed: 0, failed: errors.length, skipped: 0 };
    for (const m of modules) tally(m, false, t);
    process.stdout.write(
      `\ntests: ${t.passed} passed, ${t.failed} failed${t.skipped ? `, ${t.skipped} skipped` : ""}\n`,
    );
  }
}
