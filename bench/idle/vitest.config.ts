/**
 * The idle-cost measurement (`npm run bench:idle`), apart from `npm test`: the whole deployment in
 * workerd (three replicas, four live PBFT nodes, local queues, real alarms) left idle for a minute,
 * counting every Durable Object's alarm runs. Results: bench/results/idle-latest.json.
 */
import { inOneWorker } from "../../test/support/one-worker-pool.js";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    inOneWorker({
      ENVIRONMENT: "dev",
      FAULT_TOKEN: "test-fault-token",
      // vitest's `define` does not reach workerd: the idle time comes as a binding
      IDLE_MEASURE_S: process.env.IDLE_MEASURE_S ?? "60",
      IDLE_MEASURE_LABEL: process.env.IDLE_MEASURE_LABEL ?? "now",
      ...(process.env.HEARTBEAT_ACTIVITY_MS
        ? { HEARTBEAT_ACTIVITY_MS: process.env.HEARTBEAT_ACTIVITY_MS }
        : {}),
    }),
  ],
  test: {
    name: "idle",
    root: import.meta.dirname,
    include: ["*.measure.ts"],
    testTimeout: 900_000,
  },
});
