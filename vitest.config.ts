import { inOneWorker } from "./test/support/one-worker-pool.js";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    reporters: ["default", "./test/summary-reporter.ts"],
    // The live projects' Durable Objects keep working after a file's last test (alarms, heartbeats,
    // replicas fetching from nodes through the nodes' entrypoint); when the pool tears the Worker down
    // with such a call resolving a module through it, vitest reports `EnvironmentTeardownError:
    // Closing rpc while "resolve" was pending` (clean-clone CI, retention project, after every test
    // passed). That one teardown error is not a test result; every other unhandled error still fails.
    onUnhandledError: (e) =>
      !(e.name === "EnvironmentTeardownError" && /Closing rpc while "resolve" was pending/.test(e.message)),
    // One project at a time (groupOrder), so the workerd pools never interleave. The closing-line
    // reporter also ends a run in which no test finishes for 5 min (see docs/testing.md).
    projects: [
      {
        test: {
          name: "unit",
          environment: "node",
          include: ["test/unit/**/*.test.ts", "test/sim/**/*.test.ts"],
          testTimeout: 60_000,
          // vitest runs `cores - 1` files at once by default: one, on a 2-core machine
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        plugins: [
          inOneWorker({
            ENVIRONMENT: "dev",
            FAULT_TOKEN: "test-fault-token",
            ADMIN_TOKEN: "test-admin-token",
            // anti-entropy, re-send and log collection run only when a test drives the alarm
            ANTI_ENTROPY_MS: "3600000",
            // log collection needs no wait: tests show the bound, not the horizon
            DEDUPE_HORIZON_MS: "0",
            // these tests hand-craft certificates: the live cluster stays out (test/cluster has it)
            CERTIFY: "off",
            // files share an isolate's evidence rate; the rate-limit test sets its own per request
            EVIDENCE_RATE_PER_MIN: "1000000",
            // and no heartbeat from a node a test starts (its certificates would be posted)
            HEARTBEAT_MS: "off",
          }),
        ],
        test: {
          name: "runtime",
          include: ["test/runtime/**/*.test.ts"],
          testTimeout: 30_000,
          // two files at a time, each in a workerd of its own: a file's start-up (the Worker's
          // modules loaded into a fresh isolate) overlaps the other's tests
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
      {
        plugins: [inOneWorker({ ENVIRONMENT: "dev", FAULT_TOKEN: "test-fault-token" })],
        // the four PBFT nodes live, in workerd: ops in through the queue, certificates out to replicas
        test: {
          name: "cluster",
          include: ["test/cluster/**/*.test.ts"],
          testTimeout: 60_000,
          // two files at a time: each mostly waits on its live nodes' timers and queues
          maxWorkers: 2,
          sequence: { groupOrder: 2 },
        },
      },
      {
        plugins: [
          inOneWorker({
            ENVIRONMENT: "dev",
            FAULT_TOKEN: "test-fault-token",
            // "far behind the nodes' retention" in seconds, not hours: few batches kept, fast heartbeats
            CERTIFIED_KEPT_SEQS: "16",
            HEARTBEAT_MS: "100",
          }),
        ],
        test: {
          name: "retention",
          include: ["test/retention/**/*.test.ts"],
          testTimeout: 150_000,
          sequence: { groupOrder: 3 },
        },
      },
      {
        plugins: [
          inOneWorker({
            ENVIRONMENT: "dev",
            FAULT_TOKEN: "test-fault-token",
            // pools of one batch: a burst of writes outgrows what the cluster takes at once
            POOL_SIZE_MAX: "100",
          }),
        ],
        test: {
          name: "backpressure",
          include: ["test/backpressure/**/*.test.ts"],
          testTimeout: 150_000,
          sequence: { groupOrder: 4 },
        },
      },
      {
        plugins: [
          inOneWorker({
            ENVIRONMENT: "dev",
            FAULT_TOKEN: "test-fault-token",
            // the heartbeat stops 3 s after the last activity (default 5 min): a long idle in seconds
            HEARTBEAT_ACTIVITY_MS: "3000",
          }),
        ],
        // idle costs: replicas back off, nodes sleep, a reader after a long idle gets a fresh certificate
        test: {
          name: "idle",
          include: ["test/idle/**/*.test.ts"],
          testTimeout: 90_000,
          sequence: { groupOrder: 5 },
        },
      },
      {
        plugins: [
          inOneWorker({
            ENVIRONMENT: "dev",
            FAULT_TOKEN: "test-fault-token",
            // a deployment that opens one namespace: everything else needs a claim or a grant
            OPEN_NAMESPACES: "open",
          }),
        ],
        // the open-namespace list decided by the live nodes and the replicas alike
        test: {
          name: "closed",
          include: ["test/closed/**/*.test.ts"],
          testTimeout: 60_000,
          sequence: { groupOrder: 6 },
        },
      },
      {
        test: {
          name: "e2e",
          environment: "node",
          include: ["test/e2e/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          // two files at a time: each mostly waits on its own wrangler dev pair (fresh ports,
          // state and dev registry per server), which halves the project's wall time
          fileParallelism: true,
          maxWorkers: 2,
          sequence: { groupOrder: 7 },
        },
      },
    ],
  },
});
