/**
 * Prints one plain closing line, `tests: N passed, N failed[, N skipped]`, after vitest's own
 * summary, so any CI that reads closing lines can count the run.
 *
 * "failed" counts every way a run can go wrong, not only failing test bodies: a test that could not
 * run because a hook of its file or suite threw (vitest reports those tests as skipped), a file that
 * failed to load, an error raised by a hook after its tests passed, and an unhandled error. So a run
 * that exits non-zero never closes on "0 failed".
 *
 * It also bounds a stalled run: when no test has finished for `STALL_MS` (a pool that lost its
 * workerd never reports again, and vitest would wait for ever), it prints the files still running,
 * closes on a line that counts them as failed, and exits 1.
 */
import { descendants } from "./support/proc-tree.js";
import type { Reporter, TestCase, TestModule, TestSuite } from "vitest/node";

/** The longest test file takes under a minute here; no test reporting for this long is a hang. */
const STALL_MS = Number(process.env.TEST_STALL_MS ?? 300_000);

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
  private readonly running = new Set<TestModule>();
  private passed = 0;
  private failed = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  private progress(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.stalled(), STALL_MS);
    this.timer.unref();
  }

  private stalled(): void {
    const files = [...this.running].map((m) => (m.project.name ? `${m.project.name}: ` : "") + m.moduleId);
    process.stdout.write(
      `\nno test finished for ${STALL_MS / 1000} s; still running:\n${files.map((f) => `  ${f}\n`).join("")}` +
        `tests: ${this.passed} passed, ${this.failed + Math.max(files.length, 1)} failed (run stalled)\n`,
    );
    // the pool's workers, the one running the stuck file included: process.exit alone leaves them
    // behind, orphaned, for good
    for (const pid of descendants(process.pid)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }
    process.exit(1);
  }

  onTestRunStart(): void {
    this.progress();
  }

  onTestModuleStart(m: TestModule): void {
    this.running.add(m);
    this.progress();
  }

  onTestModuleEnd(m: TestModule): void {
    this.running.delete(m);
    this.progress();
  }

  onTestCaseResult(c: TestCase): void {
    const s = c.result().state;
    if (s === "passed") this.passed++;
    else if (s === "failed") this.failed++;
    this.progress();
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>, errors: ReadonlyArray<unknown>): void {
    clearTimeout(this.timer);
    const t: Tally = { passed: 0, failed: errors.length, skipped: 0 };
    for (const m of modules) tally(m, false, t);
    process.stdout.write(
      `\ntests: ${t.passed} passed, ${t.failed} failed${t.skipped ? `, ${t.skipped} skipped` : ""}\n`,
    );
  }
}
