/**
 * Start and stop `wrangler dev` as a child process: for the end-to-end tests (test/e2e) and the
 * benchmarks (bench/ec).
 *
 * `node_modules/.bin/wrangler` is spawned directly (never through npx, whose death would orphan
 * wrangler and workerd), detached into its own process group so that stopping it reaches workerd
 * too. wrangler binds port 0 itself (HTTP and inspector) and the harness reads the port from its
 * "Ready on" line, so no port is picked and released for another process to take in between; state
 * goes to a fresh `--persist-to` temp dir; wrangler makes no outbound connection (no metrics, no cf fetch). Every started server is
 * tracked until stopped: `stopAll()` stops them, `installCleanup()` does so on Ctrl-C, SIGTERM and
 * exit, so that no workerd is left behind.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { devFaultsConfig } from "../../scripts/dev-faults-alias.js";
import { descendants } from "./proc-tree.js";

/** Absolute path of the repository root. */
export const REPO_ROOT = join(import.meta.dirname, "..", "..");
const WRANGLER = join(REPO_ROOT, "node_modules", ".bin", "wrangler");
const OUTPUT_CHARS_MAX = 20_000;
const STOP_WAIT_MS = 5_000;

export interface DevServerOptions {
  /** A label for logs and the temp dir name ("e2e", "system", "baseline"). */
  name: string;
  /** Path polled with GET until it answers 2xx, e.g. "/v1/replicas". */
  readyPath: string;
  /** Path to the wrangler.jsonc; wrangler's own lookup from the repo root (./wrangler.jsonc) if unset. */
  config?: string;
  /** `--var NAME:value` pairs. */
  vars?: Record<string, string>;
  /**
   * What to keep of wrangler's output; default "warn". wrangler itself always runs at "log" (or
   * "debug"): its "Ready on" line is at "info", and the Worker's own `console.log` lines reach
   * wrangler as workerd structured logs that it prints with `logger.log`, one level below "info"
   * (at "info" they were dropped, whatever `[observability]` says). Below "info" the request lines
   * wrangler prints are dropped here; everything else is kept.
   */
  logLevel?: "debug" | "info" | "log" | "warn" | "error" | "none";
  /** A file that receives wrangler's stdout and stderr (a tail is always kept for `output()`). */
  logFile?: string;
  /** How long to wait for `readyPath`; default 60 s. */
  readyTimeoutMs?: number;
  /** Reuse this `--persist-to` dir (a restart after `crash()`); a fresh temp dir if unset. */
  persistDir?: string;
  /**
   * Only for the system (no `config`): also start the nodes' Worker (workers/pbft/wrangler.jsonc)
   * as its own `wrangler dev` process, as `npm run dev` does; default true.
   */
  nodes?: boolean;
}

export interface DevServer {
  name: string;
  /** PID of wrangler, also the process group id of wrangler and its workerd. */
  pid: number;
  /** e.g. http://127.0.0.1:53124 */
  url: string;
  port: number;
  /** The fresh `--persist-to` dir (removed by `stop()`). */
  persistDir: string;
  logFile: string | undefined;
  /** What wrangler printed so far (tail), for failure messages (the nodes' process's too). */
  output(): string;
  /** The nodes' Worker's own `wrangler dev` (started with the system): its pid, output, state. */
  nodes?: DevServer;
  /**
   * How often wrangler reloaded the Worker since it started ("Reloading local server..."): each
   * reload answers the POSTs in flight `503 Your worker restarted mid-request` (see RELOAD_LINE).
   */
  reloads(): number;
  /** SIGTERM the process group, SIGKILL it after 5 s if still alive, remove the state dir. Idempotent. */
  stop(): Promise<void>;
  /**
   * SIGKILL wrangler and every process under it (workerd too, so its ports free) at once, as a
   * machine crash would; the state dir is kept for a restart with `persistDir`.
   */
  crash(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether any process of the group led by `pid` is still alive. */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function waitGroupExit(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!groupAlive(pid)) return true;
    await sleep(100);
  }
  return !groupAlive(pid);
}

/** wrangler's line once it listens, e.g. `[wrangler:info] Ready on http://127.0.0.1:46567`. */
const READY_LINE = /Ready on (http:\/\/127\.0\.0\.1:(\d+))/;

/** Wait for wrangler to say which port it bound, then until `readyPath` answers 2xx; returns the base URL. */
async function waitReady(
  child: ChildProcess,
  output: () => string,
  readyPath: string | null,
  timeoutMs: number,
  describe: () => string,
): Promise<{ url: string; port: number }> {
  const deadline = Date.now() + timeoutMs;
  let last = "no 'Ready on' line yet";
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(
        `wrangler dev exited (${child.exitCode ?? child.signalCode}) before it was ready${describe()}`,
      );
    const m = READY_LINE.exec(output());
    if (m) {
      if (readyPath === null) return { url: m[1]!, port: Number(m[2]) };
      try {
        const res = await fetch(m[1] + readyPath, { signal: AbortSignal.timeout(2_000) });
        await res.body?.cancel();
        if (res.ok) return { url: m[1]!, port: Number(m[2]) };
        last = `HTTP ${res.status}`;
      } catch (e) {
        last = String(e); // not serving yet
      }
    }
    await sleep(150);
  }
  throw new Error(`wrangler dev not ready after ${timeoutMs} ms (${last})${describe()}`);
}

/**
 * wrangler's line (at "log") when it reloads the Worker. Why it does: `wrangler dev` always bundles
 * in esbuild's watch mode, so a change to any file of the Worker's import graph (workers/, shared/,
 * durable-objects/, the node_modules it imports) or to the wrangler.jsonc rebuilds the bundle; the
 * dev proxy (wrangler's ProxyWorker) is paused, miniflare restarts the Worker at a new address, and
 * a request whose fetch to the old one fails is retried if GET or HEAD, else answered `503 Your
 * worker restarted mid-request`. The persist dir (a temp dir here) and `.wrangler/` are not
 * watched. So editing, checking out or merging the checkout a run uses restarts it mid-run; a
 * benchmark counts these lines and says so.
 */
export const RELOAD_LINE = /Reloading local server/g;

/** How many reloads wrangler's `text` reports. */
export const reloadsIn = (text: string): number => text.match(RELOAD_LINE)?.length ?? 0;

/** The line wrangler prints per request at "info", e.g. `[wrangler:info] GET /v1/kv/x 200 OK (5ms)`. */
const REQUEST_LINES = /^\[wrangler:info\] [A-Z]+ \/.*\n?/gm;

const running = new Set<DevServer>();

/**
 * The FAULT_TOKEN every started server has (the one in .dev.vars, passed as a `--var` too so that a
 * server under another config has it), unless `vars` sets another: POST /v1/dev/faults takes it,
 * and only when ENVIRONMENT is dev.
 */
export const DEV_FAULT_TOKEN = "dev-fault-token";

/**
 * wrangler's arguments: ports it binds itself, state in `persistDir`, and the log level that lets
 * the Worker's own `console.log` lines through ("log"; "debug" when asked).
 */
export function wranglerArgs(
  o: Omit<DevServerOptions, "readyPath"> & { readyPath?: string | null },
  persistDir: string,
): string[] {
  const args = [
    "dev",
    // the config's dev copy: dev fault injection in the bundle (the config itself aliases it away);
    // a copy per server (per state dir: a restart reuses it), so that no server's start rewrites the
    // config another running server watches (that reloaded its Workers mid-test)
    "--config",
    devFaultsConfig(o.config ?? join(REPO_ROOT, "wrangler.jsonc"), serverTag(persistDir)),
    "--ip",
    "127.0.0.1",
    "--port",
    "0",
    "--inspector-port",
    "0",
    "--persist-to",
    persistDir,
    "--log-level",
    o.logLevel === "debug" ? "debug" : "log",
    "--show-interactive-dev-session=false",
  ];
  for (const [k, v] of Object.entries({ FAULT_TOKEN: DEV_FAULT_TOKEN, ...o.vars }))
    args.push("--var", `${k}:${v}`);
  return args;
}

/** Names a server's own config copy: its state dir, hashed. */
const serverTag = (persistDir: string): string =>
  `e2e-${createHash("sha256").update(persistDir).digest("hex").slice(0, 12)}`;

/** The config copies of the servers started here (removed on stop, and on exit). */
const configCopies = new Set<string>();

/** The config copy of the server with these arguments (null: it runs a config without one). */
const configCopyOf = (args: readonly string[]): string | null => {
  const c = args[args.indexOf("--config") + 1]!;
  return /\.dev-faults\.e2e-[0-9a-f]{12}\./.test(c) ? c : null;
};

/** The nodes' Worker's config (`aspec-pbft`), started beside the system's. */
export const NODES_CONFIG = join(REPO_ROOT, "workers", "pbft", "wrangler.jsonc");

/**
 * Start `wrangler dev` on ports it binds itself, with fresh state; wait until `readyPath` answers
 * 2xx. The system (no `config`) is two processes, as `npm run dev` runs it: the nodes' Worker first,
 * then the edge, both finding each other in a dev registry of their own (under the state dir, so
 * two systems started side by side never bind each other's Workers); stopping or crashing the
 * returned server stops or crashes both.
 */
export async function startWranglerDev(o: DevServerOptions): Promise<DevServer> {
  if (o.config !== undefined || o.nodes === false) return startOne(o, {});
  const persistDir = o.persistDir ?? mkdtempSync(join(tmpdir(), `aspec-${o.name}-`));
  const registry = join(persistDir, "registry");
  // a crashed system leaves its Workers' entries behind (dead workerd addresses); a Worker started
  // while they are there binds the dead peer and stays unbound after it restarts (found by
  // test/e2e/crash-restart.test.ts: after a restart the edge reached no node). Both are ours: clear.
  rmSync(registry, { recursive: true, force: true });
  const env = { WRANGLER_REGISTRY_PATH: registry };
  const nodes = await startOne(
    {
      ...o,
      name: `${o.name}-nodes`,
      config: NODES_CONFIG,
      readyPath: null,
      persistDir: join(persistDir, "nodes"),
      ...(o.logFile === undefined ? {} : { logFile: o.logFile.replace(/(\.log)?$/, ".nodes$1") }),
    },
    env,
  );
  let edge: DevServer;
  try {
    edge = await startOne({ ...o, persistDir }, env);
  } catch (e) {
    await nodes.stop();
    throw e;
  }
  const both = async (f: (s: DevServer) => Promise<void>) => {
    await f(nodes);
    await f(edge);
  };
  return {
    ...edge,
    nodes,
    output: () => `${edge.output()}\n--- nodes (${NODES_CONFIG}) ---\n${nodes.output()}`,
    reloads: () => edge.reloads() + nodes.reloads(),
    stop: () => both((s) => s.stop()),
    crash: () => both((s) => s.crash()),
  };
}

/** One `wrangler dev` process; `readyPath` null: ready once it listens (a Worker serving RPC only). */
async function startOne(
  o: Omit<DevServerOptions, "readyPath"> & { readyPath: string | null },
  extraEnv: Record<string, string>,
): Promise<DevServer> {
  const persistDir = o.persistDir ?? mkdtempSync(join(tmpdir(), `aspec-${o.name}-`));
  const args = wranglerArgs(o, persistDir);
  const configCopy = configCopyOf(args);
  if (configCopy) configCopies.add(configCopy);
  const child = spawn(WRANGLER, args, {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      ...extraEnv,
      WRANGLER_SEND_METRICS: "false",
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      // wrangler's local observability streams every trace event (each SQL query, each RPC) to a
      // collector in the same workerd: ~30% of a busy process's CPU, and nothing deployed pays it
      X_LOCAL_OBSERVABILITY: "false",
      NO_COLOR: "1",
      FORCE_COLOR: "0",
      CI: "1",
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const pid = child.pid;
  if (pid === undefined) {
    rmSync(persistDir, { recursive: true, force: true });
    throw new Error(`could not spawn ${WRANGLER}`);
  }
  const keepRequests = o.logLevel === "debug" || o.logLevel === "info";
  const log = o.logFile === undefined ? undefined : createWriteStream(o.logFile);
  let out = "";
  let reloads = 0;
  const collect = (b: Buffer) => {
    const text = keepRequests ? b.toString() : b.toString().replace(REQUEST_LINES, "");
    if (text === "") return;
    reloads += reloadsIn(text);
    out = (out + text).slice(-OUTPUT_CHARS_MAX);
    log?.write(text);
  };
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);
  let stopped: Promise<void> | undefined;
  const server: DevServer = {
    name: o.name,
    pid,
    url: "", // set once wrangler says where it listens
    port: 0,
    persistDir,
    logFile: o.logFile,
    output: () => out,
    reloads: () => reloads,
    stop: () =>
      (stopped ??= (async () => {
        if (groupAlive(pid)) {
          killGroup(pid, "SIGTERM");
          if (!(await waitGroupExit(pid, STOP_WAIT_MS))) {
            killGroup(pid, "SIGKILL");
            await waitGroupExit(pid, STOP_WAIT_MS);
          }
        }
        running.delete(server);
        log?.end();
        rmSync(persistDir, { recursive: true, force: true });
        if (configCopy) rmSync(configCopy, { force: true });
      })()),
    crash: async () => {
      if (stopped) return stopped;
      stopped = (async () => {
        // the whole group, and each descendant by pid in case one left the group
        const tree = descendants(pid);
        killGroup(pid, "SIGKILL");
        for (const p of tree) {
          try {
            process.kill(p, "SIGKILL");
          } catch {
            /* gone */
          }
        }
        await waitGroupExit(pid, STOP_WAIT_MS);
        const deadline = Date.now() + STOP_WAIT_MS;
        while (tree.some(alive) && Date.now() < deadline) await sleep(50);
        running.delete(server);
        log?.end();
      })();
      return stopped;
    },
  };
  running.add(server);
  const describe = () => (o.logFile === undefined ? "" : `; see ${o.logFile}`) + `:\n${out}`;
  try {
    Object.assign(
      server,
      await waitReady(child, () => out, o.readyPath, o.readyTimeoutMs ?? 60_000, describe),
    );
  } catch (e) {
    await server.stop();
    throw e;
  }
  return server;
}

/** Stop every wrangler dev this process started and has not stopped yet. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop()));
}

/** Synchronous last resort on process exit: SIGKILL each process group, remove its state dir. */
function killAllSync(): void {
  for (const c of configCopies) rmSync(c, { force: true });
  for (const s of running) {
    killGroup(s.pid, "SIGKILL");
    try {
      rmSync(s.persistDir, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
  }
  running.clear();
}

let installed = false;
let interrupted = false;

/** True once Ctrl-C / SIGTERM started the shutdown (errors from the cut-off work are expected then). */
export const isInterrupted = (): boolean => interrupted;

/**
 * For scripts (not test runners, which handle signals themselves): stop all servers on Ctrl-C or
 * SIGTERM (then exit 130), and SIGKILL whatever is left on process exit. Idempotent.
 */
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

/**
 * Run a script's `main` (benchmarks): an error prints its stack and sets exit code 1, unless
 * Ctrl-C / SIGTERM cut the work off; every wrangler dev it started is stopped in the end.
 */
export function runScript(main: () => Promise<void>): void {
  main()
    .catch((e: unknown) => {
      if (isInterrupted()) return;
      console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
      process.exitCode = 1;
    })
    .finally(() => stopAll());
}
