// The unit tests (plain Node), for StrykerJS: runtime and e2e tests need workerd or a wrangler
// process, which a mutation run cannot host. Used by `npm run test:mutation`, which adds the
// simulator (MUTATION_WITH_SIM=1) when the PBFT core is among the targets: its named scenarios run
// whole, its seed sweep only its first 6 seeds (every surviving mutant re-runs it, and instrumented
// code runs it several times slower); the state-transfer scenarios (≈20 s) are left out.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    environment: "node",
    include: [
      "test/unit/**/*.test.ts",
      ...(process.env.MUTATION_WITH_SIM === "1"
        ? ["test/sim/scenarios.test.ts", "test/sim/scenarios-adversary.test.ts", "test/sim/seeds.test.ts"]
        : []),
    ],
    // spawns a whole vitest run of its own: nothing it checks is in shared/ or client/; and the
    // module-reloading tests scripts/mutation.ts leaves out when their subject is not a target
    exclude: [
      "test/unit/tooling/summary-reporter.test.ts",
      ...(process.env.MUTATION_EXCLUDE ?? "").split(",").filter(Boolean),
    ],
    env: { SIM_SWEEP_SEEDS: "6" },
    testTimeout: 60_000,
  },
});
