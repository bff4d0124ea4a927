/**
 * Memory beside RSS: the Worker isolate's JS heap (`Runtime.getHeapUsage` through wrangler's
 * inspector proxy, the session bench/cluster/profile.ts uses; a deployed isolate has 128 MB), and
 * the RSS of every workerd process under the wrangler. No GC is forced: the heap is read as it is
 * (used and allocated). Each read has a deadline; a missed one is null and counted, never waited on.
 * The proxy takes one DevTools client at a time: close this before profiling.
 */
import type { DevServer } from "../../test/support/wrangler-dev.js";
import { CdpSession } from "../ec/cdp.js";
import { findWorkerInspector } from "../ec/inspector.js";
import { memKiB, workerdPids } from "../ec/proc-stats.js";

const HEAP_TIMEOUT_MS = 5_000;

export interface MemorySample {
  /** RSS (MiB) per workerd process, largest first. */
  rssMiB: number[];
  /** The Worker isolate's JS heap (MiB): used and allocated; null when the read failed. */
  heapUsedMiB: number | null;
  heapTotalMiB: number | null;
}

const MiB = 2 ** 20;

export class MemoryProbe {
  /** Heap reads that failed or missed their deadline. */
  heapFailures = 0;
  private constructor(
    private readonly pids: number[],
    private readonly cdp: CdpSession | undefined,
  ) {}

  /** A probe of `server`'s workerd processes; without a heap if the inspector cannot be reached. */
  static async open(server: DevServer, log: (s: string) => void): Promise<MemoryProbe> {
    const pids = systemPids(server);
    try {
      const insp = await findWorkerInspector(server.pid, "aspec-edge");
      return new MemoryProbe(pids, await CdpSession.connect(insp.webSocketUrl, HEAP_TIMEOUT_MS));
    } catch (e) {
      log(`  (no JS heap: the Worker's inspector did not answer: ${String(e).slice(0, 200)})`);
      return new MemoryProbe(pids, undefined);
    }
  }

  /** RSS only (the inspector proxy left to a profiler). */
  static rssOnly(server: DevServer): MemoryProbe {
    return new MemoryProbe(systemPids(server), undefined);
  }

  rssMiB(): number[] {
    return this.pids.map((p) => memKiB(p).rss / 1024).sort((a, b) => b - a);
  }

  async sample(): Promise<MemorySample> {
    const rssMiB = this.rssMiB();
    if (!this.cdp) return { rssMiB, heapUsedMiB: null, heapTotalMiB: null };
    try {
      const h = await this.cdp.send<{ usedSize: number; totalSize: number }>(
        "Runtime.getHeapUsage",
        {},
        HEAP_TIMEOUT_MS,
      );
      return { rssMiB, heapUsedMiB: h.usedSize / MiB, heapTotalMiB: h.totalSize / MiB };
    } catch {
      this.heapFailures++;
      return { rssMiB, heapUsedMiB: null, heapTotalMiB: null };
    }
  }

  close(): void {
    this.cdp?.close();
  }
}

/** Every workerd process of the system: the edge's and, run as two processes, the nodes'. */
export const systemPids = (server: DevServer): number[] =>
  [server, ...(server.nodes ? [server.nodes] : [])].flatMap((s) => workerdPids(s.pid));
