/**
 * `npm run dev`: the whole system locally, as two `wrangler dev` processes, as it is deployed as two
 * Workers: the PBFT nodes (`aspec-pbft`, workers/pbft/wrangler.jsonc) and the edge (`aspec-edge`,
 * wrangler.jsonc, on http://127.0.0.1:8787 unless arguments say otherwise: `npm run dev -- --port
 * 9000` passes them to the edge's wrangler). Each process is its own workerd, so certification and
 * the EC write path each get a core. They find each other through a dev registry kept in
 * `.wrangler/registry` (this checkout's own: another checkout's `aspec-pbft` is never bound).
 * The nodes' lines are prefixed `[nodes]`; Ctrl-C stops both, and either one ending stops the other.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { devFaultsConfig } from "./dev-faults-alias.js";

const root = join(import.meta.dirname, "..");
const wrangler = join(root, "node_modules", ".bin", "wrangler");
const registry = join(root, ".wrangler", "registry");
// entries a killed run left behind name dead addresses, and a Worker that starts while they are
// there binds its peer's dead one and stays unbound: both Workers are ours, so start clean
rmSync(registry, { recursive: true, force: true });
// wrangler's local observability (traces in its local explorer) streams every trace event, each SQL
// query and RPC, to a collector in the same workerd: ~30% of a busy process's CPU, which nothing
// deployed pays. Off unless asked for (X_LOCAL_OBSERVABILITY=true npm run dev).
const env = {
  ...process.env,
  WRANGLER_REGISTRY_PATH: registry,
  X_LOCAL_OBSERVABILITY: process.env.X_LOCAL_OBSERVABILITY ?? "false",
};

const nodes = spawn(
  wrangler,
  [
    "dev",
    "-c",
    devFaultsConfig(join(root, "workers", "pbft", "wrangler.jsonc")),
    "--port",
    "0",
    "--inspector-port",
    "0",
    "--show-interactive-dev-session=false",
  ],
  { cwd: root, env, stdio: ["ignore", "pipe", "pipe"], detached: true },
);
for (const stream of [nodes.stdout!, nodes.stderr!]) {
  let rest = "";
  stream.on("data", (b: Buffer) => {
    const lines = (rest + b.toString()).split("\n");
    rest = lines.pop()!;
    for (const line of lines) process.stdout.write(`[nodes] ${line}\n`);
  });
}
// each Worker from its config's dev copy: the same, with dev fault injection (scripts/dev-faults-alias.ts)
const edgeConfig = devFaultsConfig(join(root, "wrangler.jsonc"));
const edge = spawn(wrangler, ["dev", "-c", edgeConfig, ...process.argv.slice(2)], {
  cwd: root,
  env,
  stdio: "inherit",
  detached: true,
});

let ending = false;
function end(code: number): void {
  if (ending) return;
  ending = true;
  for (const child of [edge, nodes]) stop(child);
  setTimeout(() => process.exit(code), 5_000).unref();
  let left = 2;
  const gone = () => --left === 0 && process.exit(code);
  for (const child of [edge, nodes])
    child.exitCode !== null || child.signalCode !== null ? gone() : child.once("exit", gone);
}

/** SIGTERM the child's process group (wrangler and its workerd), SIGKILL it 4 s later if still there. */
function stop(child: ChildProcess): void {
  const kill = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      /* already gone */
    }
  };
  kill("SIGTERM");
  setTimeout(() => kill("SIGKILL"), 4_000).unref();
}

for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(sig, () => end(130));
edge.on("exit", (code) => end(code ?? 1));
nodes.on("exit", (code) => {
  if (!ending) console.error(`[nodes] wrangler dev exited (${code}): stopping the edge too`);
  end(code ?? 1);
});
