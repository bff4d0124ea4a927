/**
 * Start and stop `wrangler dev` as a child process for the benchmark.
 *
 * Runs `node_modules/.bin/wrangler` directly (never via npx: killing an npx parent orphans wrangler
 * and workerd), on free 127.0.0.1 ports, with a fresh --persist-to dir, and no outbound network.
 * Every started process is tracked; `stopAll()` runs on normal exit, errors and Ctrl-C, and makes
 * sure no workerd it spawned is left running.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const REPO_ROOT = resolve(import.meta.dirname, "../..");
const WRANGLER_BIN = join(REPO_ROOT, "node_modules/.bin/wrangler");

/** A free TCP port on 127.0.0.1 (bind port 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      if (addr === null || typeof addr === "string") return fail(new Error("no port"));
      srv.close(() => ok(addr.port));
    });
  });
}

export interface WranglerOptions {
  /** A label for logs ("system", "baseline"). */
  name: string;
  /** Path to the wrangler.toml. */
  config: string;
  /** `--var NAME:value` pairs. */
  vars?: Record<string, string>;
  /** wrangler's --log-level (request log lines are "info"). */
  logLevel?: "debug" | "info" | "log" | "warn" | "error" | "none";
  /** Path polled until it answers 200. */
  readyPath: string;
  /** Where stdout/stderr go. */
  logFile: string;
}

export interface WranglerProc {
  name: string;
  pid: number;
  url: string;
  port: number;
  logFile: string;
  persistDir: string;
  stop(): Promise<void>;
}

const running = new Set<WranglerProc>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** PPid of a process from /proc, or undefined when it is gone. */
function parentOf(pid: number): number | undefined {
  try {
    const m = /^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
}

/** Every live descendant of `root` (children, grandchildren, ...). */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    const pid = Number(d);
    const pp = parentOf(pid);
    if (pp === undefined) continue;
    const list = children.get(pp) ?? [];
    list.push(pid);
    children.set(pp, list);
  }
  const out: number[] = [];
  const stack = [...(children.get(root) ?? [])];
  while (stack.length) {
    const p = stack.pop()!;
    out.push(p);
    stack.push(...(children.get(p) ?? []));
  }
  return out;
}

/** PIDs of the workerd processes under a wrangler PID. */
export const workerdPids = (wranglerPid: number): number[] =>
  descendants(wranglerPid).filter((p) => commOf(p) === "workerd");

/** VmRSS in KiB of a process (0 if gone). */
export const rssKiB = (pid: number): number => memKiB(pid).rss;

/** VmRSS and its split (RssAnon: heap etc.; RssFile: mapped files; RssShmem) in KiB; zeros if gone. */
export function memKiB(pid: number): { rss: number; anon: number; file: number; shmem: number } {
  let status = "";
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    /* gone */
  }
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, "m").exec(status)?.[1] ?? 0);
  return { rss: field("VmRSS"), anon: field("RssAnon"), file: field("RssFile"), shmem: field("RssShmem") };
}

/** CPU time (user + system) of a process in ms, from /proc/<pid>/stat (0 if gone). */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields 14 and 15 (utime, stime) in clock ticks; after ")" they are at index 11 and 12
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}
const CLOCK_TICKS = 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitReady(url: string, child: ChildProcess, timeoutMs: number, logFile: string) {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`wrangler exited (${child.exitCode ?? child.signalCode}) before ready; see ${logFile}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (e) {
      last = String(e);
    }
    await sleep(150);
  }
  throw new Error(`wrangler not ready at ${url} after ${timeoutMs} ms (${last}); see ${logFile}`);
}

/** Start `wrangler dev` and wait until `readyPath` answers 200. */
export async function startWrangler(o: WranglerOptions): Promise<WranglerProc> {
  const port = await freePort();
  const inspectorPort = await freePort();
  const persistDir = mkdtempSync(join(tmpdir(), `aspec-bench-${o.name}-`));
  const args = [
    "dev",
    "--config",
    o.config,
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(inspectorPort),
    "--persist-to",
    persistDir,
    "--log-level",
    o.logLevel ?? "warn",
    "--show-interactive-dev-session=false",
  ];
  for (const [k, v] of Object.entries(o.vars ?? {})) args.push("--var", `${k}:${v}`);
  const log = createWriteStream(o.logFile);
  const child = spawn(WRANGLER_BIN, args, {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: "false",
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      NO_COLOR: "1",
      FORCE_COLOR: "0",
      CI: "1",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  if (child.pid === undefined) throw new Error(`could not spawn ${WRANGLER_BIN}`);
  const pid = child.pid;
  const url = `http://127.0.0.1:${port}`;

  let stopped: Promise<void> | undefined;
  const proc: WranglerProc = {
    name: o.name,
    pid,
    url,
    port,
    logFile: o.logFile,
    persistDir,
    stop() {
      stopped ??= (async () => {
        // Remember workerd PIDs now: once wrangler dies they are reparented and can't be found by tree.
        const workers = workerdPids(pid);
        if (isAlive(pid)) {
          try {
            process.kill(pid, "SIGTERM");
          } catch {
            /* already gone */
          }
          const deadline = Date.now() + 5000;
          while (isAlive(pid) && child.exitCode === null && Date.now() < deadline) await sleep(50);
          if (isAlive(pid) && child.exitCode === null) {
            try {
              process.kill(pid, "SIGKILL");
            } catch {
              /* gone */
            }
          }
        }
        await sleep(200);
        for (const w of workers) {
          if (isAlive(w) && commOf(w) === "workerd") {
            try {
              process.kill(w, "SIGKILL");
            } catch {
              /* gone */
            }
          }
        }
        running.delete(proc);
        log.end();
        rmSync(persistDir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
  running.add(proc);
  try {
    await waitReady(url + o.readyPath, child, 60_000, o.logFile);
  } catch (e) {
    await proc.stop();
    throw e;
  }
  return proc;
}

/** Stop every wrangler this process started. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop()));
}

/** Synchronous last resort on process exit: SIGKILL wrangler and its workerd children. */
function killAllSync(): void {
  for (const p of running) {
    const workers = workerdPids(p.pid);
    for (const pid of [p.pid, ...workers]) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }
    try {
      rmSync(p.persistDir, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
  }
  running.clear();
}

let installed = false;
let interrupted = false;
/** True once Ctrl-C / SIGTERM started the shutdown (errors from the cut-off load are expected then). */
export const isInterrupted = (): boolean => interrupted;
/** Stop all children on Ctrl-C, SIGTERM, uncaught errors and exit. */
export function installCleanup(): void {
  if (installed) return;
  installed = true;
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\n${sig}: stopping wrangler...`);
    void stopAll().finally(() => process.exit(130));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("exit", killAllSync);
}
