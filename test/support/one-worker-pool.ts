import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..");

/**
 * The system in one workerd for the tests in it: the edge's config (wrangler.jsonc) with the nodes'
 * Worker (workers/pbft/) folded in — the PbftNode class and its namespace, and both service bindings
 * (`PBFT` → `Nodes`, `EDGE` → `CertifiedInbox`) pointed at this same Worker, so every call between
 * the two Workers still crosses an RPC entrypoint as deployed. `npm run dev`, the e2e tests and the
 * benchmarks run the two Workers as two processes.
 */
export const inOneWorker = (bindings: Record<string, string>) =>
  cloudflareTest({
    main: join(ROOT, "test/support/one-worker.ts"),
    wrangler: { configPath: join(ROOT, "wrangler.jsonc") },
    miniflare: {
      bindings,
      durableObjects: { PBFT_NODE: { className: "PbftNode", useSQLite: true } },
      serviceBindings: {
        PBFT: { name: "aspec-edge", entrypoint: "Nodes" },
        EDGE: { name: "aspec-edge", entrypoint: "CertifiedInbox" },
      },
    },
  });
