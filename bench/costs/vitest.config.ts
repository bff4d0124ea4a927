/**
 * What a million ops cost (`npm run bench:costs`), apart from `npm test`: the whole deployment in
 * workerd (three replicas, four live PBFT nodes, local queues, real alarms) takes a load of signed
 * writes through the HTTP edge until every op is certified, while every Durable Object's billed
 * events are counted. Results: bench/results/costs-latest.json (see docs/costs.md).
 */
import { inOneWorker } from "../../test/support/one-worker-pool.js";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    inOneWorker({
      ENVIRONMENT: "dev",
      FAULT_TOKEN: "test-fault-token",
      // vitest's `define` does not reach workerd: the load's size comes as bindings
      COSTS_OPS: process.env.COSTS_OPS ?? "3000",
      COSTS_KEYS: process.env.COSTS_KEYS ?? "300",
    }),
  ],
  test: {
    name: "costs",
    root: import.meta.dirname,
    include: ["*.measure.ts"],
    testTimeout: 900_000,
  },
});
