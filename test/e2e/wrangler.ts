/**
 * Start the real Worker under `wrangler dev` for an end-to-end test, and stop it.
 *
 * `node_modules/.bin/wrangler` is spawned directly (never through npx, whose death would orphan
 * wrangler and workerd), detached into its own process group so that stopping it reaches workerd
 * too. Ports are found by binding port 0 on 127.0.0.1; state goes to a fresh temp dir.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const REPO_ROOT = join(import.meta.dirname, "..", "..");
const WRANGLER = join(REPO_ROOT, "node_modules", ".bin", "wrangler");
const OUTPUT_CHARS_MAX = 20_000;

export interface DevServer {
  /** e.g. http://127.0.0.1:53124 */
  url: string;
  pid: number;
  /** What wrangler printed so far (tail), for failure messages. */
  output(): string;
  /** SIGTERM the process group, SIGKILL it after 5 s if still alive, remove the state dir. */
  stop(): Promise<void>;
}

function listen(s: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => resolve((s.address() as { port: number }).port));
  });
}

/** `n` distinct free 127.0.0.1 ports (all held open until every one is picked). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = Array.from({ length: n }, () => createServer());
  try {
    return await Promise.all(servers.map(listen));
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
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

async function waitGroupExit(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!groupAlive(pid)) return true;
    await sleep(100);
  }
  return !groupAlive(pid);
}

async function waitReady(url: string, child: ChildProcess, output: () => string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  child.once("exit", () => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`wrangler dev exited before it was ready:\n${output()}`);
    try {
      const res = await fetch(`${url}/v1/replicas`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
      await res.body?.cancel();
    } catch {
      /* not listening yet */
    }
    await sleep(200);
  }
  throw new Error(`wrangler dev not ready after ${timeoutMs} ms:\n${output()}`);
}

export async function startWranglerDev(opts: { readyTimeoutMs?: number } = {}): Promise<DevServer> {
  const [port, inspectorPort] = await freePorts(2);
  const persistTo = await mkdtemp(join(tmpdir(), "aspec-e2e-"));
  const child = spawn(
    WRANGLER,
    [
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(inspectorPort),
      "--persist-to",
      persistTo,
      // wrangler.toml says production; dev keys (from DEV_SEED) need this, as in `npm run dev`.
      "--var",
      "ENVIRONMENT:dev",
      "--show-interactive-dev-session=false",
      "--log-level",
      "warn",
    ],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", CI: "1" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    },
  );
  const pid = child.pid;
  if (pid === undefined) throw new Error("could not spawn wrangler");
  let out = "";
  const collect = (b: Buffer) => {
    out = (out + b.toString()).slice(-OUTPUT_CHARS_MAX);
  };
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);
  const output = () => out;

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      if (groupAlive(pid)) {
        try {
          process.kill(-pid, "SIGTERM");
        } catch {
          /* already gone */
        }
        if (!(await waitGroupExit(pid, 5_000))) {
          try {
            process.kill(-pid, "SIGKILL");
          } catch {
            /* gone in between */
          }
          await waitGroupExit(pid, 5_000);
        }
      }
      await rm(persistTo, { recursive: true, force: true });
    })());

  const url = `http://127.0.0.1:${port}`;
  try {
    await waitReady(url, child, output, opts.readyTimeoutMs ?? 60_000);
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, pid, output, stop };
}
