/**
 * Find the V8 inspector of the user Worker under a `wrangler dev`, without asking for a port.
 *
 * wrangler starts the runtime workerd with `--inspector-addr=localhost:0` and prints the port only
 * at debug level, so the tool reads the listening TCP sockets of each workerd under the wrangler PID
 * from /proc (Linux) and asks each `GET /json/version`: workerd's own inspector answers
 * `"Browser": "workerd"` (wrangler's inspector proxy answers `wrangler/…`, the Worker's own port
 * whatever the Worker answers). Its `/json/list` names the Worker `core:user:<name>` and
 * miniflare's own services (queue brokers, cache, entry), each an isolate of its own.
 *
 * workerd takes one inspector session per isolate, and wrangler's inspector proxy holds the user
 * Worker's: a second direct connection to `core:user:<name>` is closed at once. So the Worker is
 * reached through wrangler's proxy (the other listener answering `wrangler/…`, path `/ws`, one
 * DevTools client at a time), and miniflare's isolates directly.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { workerdPids } from "./proc-stats.js";

/** TCP ports `pid` listens on (IPv4 and IPv6), from /proc/<pid>/fd and /proc/net/tcp{,6}. */
export function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      /* closed meanwhile */
    }
  }
  const ports = new Set<number>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const c = line.trim().split(/\s+/);
      // local_address is c[1] ("0100007F:1F90"), st is c[3] ("0A" = LISTEN), inode is c[9]
      if (c.length > 9 && c[3] === "0A" && inodes.has(c[9]!)) ports.add(parseInt(c[1]!.split(":")[1]!, 16));
    }
  }
  return [...ports].sort((a, b) => a - b);
}

export interface WorkerInspector {
  /** PID of the workerd that runs the Worker (and its Durable Objects). */
  runtimePid: number;
  port: number;
  /** The Worker's inspector through wrangler's proxy, e.g. ws://127.0.0.1:40211/ws */
  webSocketUrl: string;
  /** Every target workerd's inspector lists (ids), e.g. "queues:queue:aspec-replicate". */
  targets: string[];
  /** ws:// URL of a target on workerd's own inspector (for the isolates wrangler holds no session to). */
  directUrl(target: string): string;
}

interface Target {
  id: string;
  webSocketDebuggerUrl: string;
}

async function getJson(port: number, path: string): Promise<unknown> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2_000) });
  const text = await res.text();
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return JSON.parse(text) as unknown;
}

/** The inspector of Worker `workerName` under the wrangler `wranglerPid`; throws if none answers. */
export async function findWorkerInspector(wranglerPid: number, workerName: string): Promise<WorkerInspector> {
  const tried: string[] = [];
  let runtime: { pid: number; port: number; targets: string[] } | undefined;
  let proxyUrl: string | undefined;
  for (const pid of workerdPids(wranglerPid)) {
    for (const port of listeningPorts(pid)) {
      try {
        const v = (await getJson(port, "/json/version")) as { Browser?: unknown };
        const browser = typeof v.Browser === "string" ? v.Browser : "";
        if (browser === "workerd") {
          const list = (await getJson(port, "/json/list")) as Target[];
          const ids = list.map((x) => x.id);
          if (ids.includes(`core:user:${workerName}`)) runtime = { pid, port, targets: ids };
          else tried.push(`${pid}:${port} (lists ${ids.join(", ")})`);
        } else if (browser.startsWith("wrangler/")) {
          const list = (await getJson(port, "/json/list")) as Target[];
          // wrangler's proxy may name itself "localhost"; stay on IPv4 loopback
          proxyUrl = list[0]?.webSocketDebuggerUrl.replace("//localhost:", "//127.0.0.1:");
        } else tried.push(`${pid}:${port} (${JSON.stringify(v).slice(0, 60)})`);
      } catch (e) {
        tried.push(`${pid}:${port} (${e instanceof Error ? e.message : String(e)})`);
      }
    }
  }
  if (!runtime || !proxyUrl)
    throw new Error(
      `no ${runtime ? "wrangler inspector proxy" : `workerd inspector listing core:user:${workerName}`}; ` +
        `tried ${tried.join("; ") || "nothing"}`,
    );
  const rt = runtime;
  return {
    runtimePid: rt.pid,
    port: rt.port,
    webSocketUrl: proxyUrl,
    targets: rt.targets,
    directUrl: (target) => `ws://127.0.0.1:${rt.port}/${target}`,
  };
}
