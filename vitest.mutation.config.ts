// The unit tests alone (plain Node), for StrykerJS: runtime and e2e tests need workerd or a
// wrangler process, which a mutation run cannot host. Used by `npm run test:mutation`.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    environment: "node",
    include: ["test/unit/**/*.test.ts"],
    // spawns a whole vitest run of its own: nothing it checks is in shared/ or client/
    exclude: ["test/unit/summary-reporter.test.ts"],
    testTimeout: 60_000,
  },
});
