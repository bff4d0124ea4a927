/**
 * Where the time goes, by role: a V8 CPU profile of the Worker isolate (the edge, the three
 * replicas and the four PBFT nodes all run in it under `wrangler dev`) while a load runs, through
 * wrangler's inspector proxy (bench/ec/inspector.ts, cdp.ts). Each sample is charged to a role by
 * its stack, nearest frame first, with the module of each frame read from the bundle's
 * `// path/file.ts` markers (esbuild's, not minified in dev): the edge Worker, the origin replica
 * (`submit`), a remote replica's apply (`applyRemote`), the replicas' certified batches, delivery
 * (alarms, outbox, anti-entropy), the queue consumers, and the PBFT node split into verify, step,
 * execute (certified state), persist, sign and send. Native leaves are counted apart as SQLite
 * (`exec` and its cursors) and WebCrypto (`sign`, `verify`, `digest`).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DevServer } from "../../test/support/wrangler-dev.js";
import { CdpSession } from "../ec/cdp.js";
import { findWorkerInspector } from "../ec/inspector.js";
import { fmt } from "../ec/stats.js";

interface CallFrame {
  functionName: string;
  scriptId: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface RoleTable {
  ops: number;
  markdown: string;
  rows: { role: string; ms: number; sqlMs: number; cryptoMs: number }[];
}

const HOTSPOTS_SHOWN = 12;
/** The sampling interval set below, and the delta past which a sample's time is a gap. */
const SAMPLE_INTERVAL_US = 1000;
const GAP_US = 10 * SAMPLE_INTERVAL_US;
const SQL_NATIVE = new Set(["exec", "next", "one", "toArray", "raw", "transactionSync", "columnNames"]);
const CRYPTO_NATIVE = new Set(["sign", "verify", "digest", "importKey"]);

/** Module path per line of a bundle, from esbuild's `// path` markers. */
function moduleMap(source: string): (line: number) => string {
  const marks: { line: number; path: string }[] = [];
  source.split("\n").forEach((l, i) => {
    const m = /^\/\/ ((?:\.\.\/)*[\w@.\-/]+\.(?:ts|js|mjs))$/.exec(l);
    if (m)
      marks.push({
        line: i,
        path: m[1]!.replace(/^(\.\.\/)+/, "").replace(/^.*node_modules\//, "node_modules/"),
      });
  });
  return (line) => {
    let lo = 0;
    let hi = marks.length - 1;
    let best = "";
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (marks[mid]!.line <= line) {
        best = marks[mid]!.path;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best;
  };
}

interface Frame {
  fn: string;
  mod: string;
}

const REPLICA_ENTRY: Record<string, string> = {
  submit: "origin replica: submit (verify, decide, SQLite txn, sign reply)",
  applyRemote: "remote replica: apply replicated ops",
  receiveCertified: "replicas: apply certified batches",
  alarm: "replicas: delivery (alarm, outbox drain, anti-entropy)",
  opsSince: "replicas: delivery (alarm, outbox drain, anti-entropy)",
  confirm: "replicas: delivery (alarm, outbox drain, anti-entropy)",
  opStatus: "replicas: reads (op status, certificates)",
  certificate: "replicas: reads (op status, certificates)",
  certifiedHead: "replicas: reads (op status, certificates)",
  read: "replicas: reads (op status, certificates)",
};

/** The PBFT node's part named by the nearest telling frame below the node's own frames. */
function pbftPart(fr: Frame): string | undefined {
  if (/signature-scheme|\/crypto\//.test(fr.mod) && /sign/i.test(fr.fn)) return "sign";
  if (fr.mod.endsWith("boundary.ts")) {
    if (/seal|sign/i.test(fr.fn)) return "sign";
    if (/open|admit|verif|check/i.test(fr.fn)) return "verify (client ops, peer messages)";
  }
  if (fr.mod.endsWith("shared/pbft/persist.ts") || fr.mod.endsWith("sql-driver-storage.ts"))
    return "persist (rows)";
  if (fr.mod.startsWith("shared/certified/") || /storage\/sql-(node|record)-store/.test(fr.mod))
    return "execute (certified state, Merkle, SQLite stores)";
  if (fr.mod.endsWith("pbft-node.ts") && /^(send|deliver)$/.test(fr.fn)) return "send / receive (RPC)";
  if (fr.mod.endsWith("pbft-node.ts") && /publish|Fallback/.test(fr.fn)) return "post certificates";
  if (fr.mod.startsWith("shared/pbft/")) return "step (core, driver)";
  return undefined;
}

function classify(stack: Frame[]): string {
  let part: string | undefined;
  let sawNode = false;
  let replicaHelper = false;
  for (const fr of stack) {
    const p = pbftPart(fr);
    if (p && !part) part = p;
    if (fr.mod.startsWith("shared/pbft/")) sawNode = true;
    if (fr.mod.endsWith("durable-objects/pbft-node.ts")) return `PBFT node: ${part ?? "shell"}`;
    if (fr.mod.endsWith("edge-replica.ts")) {
      const r = REPLICA_ENTRY[fr.fn];
      if (r) return r;
      replicaHelper = true;
    }
    if (fr.mod.endsWith("certified-replica.ts") && fr.fn === "receive")
      return "replicas: apply certified batches";
    if (/durable-objects\/delivery/.test(fr.mod)) replicaHelper = true;
    if (fr.mod.endsWith("workers/replicate-consumer.ts"))
      return "replicate consumer (fan-out to replicas and nodes)";
    if (/workers\/certificates-(consumer|publish)\.ts$/.test(fr.mod))
      return "certificates queue (publish, consumer)";
    if (/^workers\/|node_modules\/hono\//.test(fr.mod)) return "edge Worker (HTTP, routing, op parse)";
  }
  if (sawNode) return `PBFT node: ${part ?? "shell"}`;
  if (replicaHelper) return "replicas: helpers (the entry method not on the stack: resumed after an await)";
  if (stack.some((f) => f.mod.startsWith("shared/crypto/")))
    return "Ed25519 (replicas and nodes: the caller not on the stack, resumed after an await)";
  const leaf = stack[0];
  if (leaf?.fn === "(garbage collector)") return "V8 garbage collector";
  if (leaf?.fn === "(program)") return "runtime (program: workerd, I/O, RPC serialization)";
  if (part) return `shared code, no role frame (${part})`;
  return "other JS (no role frame on the stack)";
}

/**
 * Profile the Workers' isolates while `load` runs (the edge's, and the nodes' Worker's when the
 * system runs as two processes, both at once); one role table over both.
 */
export async function profileRoles(server: DevServer, load: () => Promise<unknown>): Promise<RoleTable> {
  const targets = [
    { pid: server.pid, worker: "aspec-edge" },
    ...(server.nodes ? [{ pid: server.nodes.pid, worker: "aspec-pbft" }] : []),
  ];
  const sessions: CdpSession[] = [];
  try {
    for (const t of targets)
      sessions.push(await CdpSession.connect((await findWorkerInspector(t.pid, t.worker)).webSocketUrl));
    for (const cdp of sessions) {
      await cdp.send("Profiler.enable");
      await cdp.send("Profiler.setSamplingInterval", { interval: SAMPLE_INTERVAL_US });
      await cdp.send("Profiler.start");
    }
    await load();
    const profiles = await Promise.all(
      sessions.map(async (cdp) => (await cdp.send<{ profile: Profile }>("Profiler.stop")).profile),
    );
    // the raw profiles, for DevTools or a closer look (ASPEC_PROFILE_DIR=dir)
    const dir = process.env.ASPEC_PROFILE_DIR;
    if (dir) {
      mkdirSync(dir, { recursive: true });
      profiles.forEach((p, i) =>
        writeFileSync(join(dir, `${targets[i]!.worker}-${Date.now()}.cpuprofile`), JSON.stringify(p)),
      );
    }
    const inputs: { name: string; profile: Profile; modOf: (f: CallFrame) => Promise<string> }[] = [];
    for (const [i, cdp] of sessions.entries()) {
      await cdp.send("Debugger.enable");
      const maps = new Map<string, (line: number) => string>();
      // the bundle's source, for the module of each frame
      const modOf = async (f: CallFrame): Promise<string> => {
        if (!f.url) return "";
        let m = maps.get(f.scriptId);
        if (!m) {
          const { scriptSource } = await cdp.send<{ scriptSource: string }>("Debugger.getScriptSource", {
            scriptId: f.scriptId,
          });
          m = moduleMap(scriptSource);
          maps.set(f.scriptId, m);
        }
        return m(f.lineNumber);
      };
      inputs.push({ name: targets[i]!.worker, profile: profiles[i]!, modOf });
    }
    const t = await table(inputs);
    for (const cdp of sessions) await cdp.send("Debugger.disable");
    return t;
  } finally {
    for (const cdp of sessions) cdp.close();
  }
}

async function table(
  inputs: { name: string; profile: Profile; modOf: (f: CallFrame) => Promise<string> }[],
): Promise<RoleTable> {
  const rows = new Map<string, { ms: number; sqlMs: number; cryptoMs: number }>();
  let idleMs = 0;
  let wallMs = 0;
  const hotspots = new Map<string, number>();
  const busyOf: string[] = [];
  let gapMs = 0;
  for (const { name, profile, modOf } of inputs) {
    wallMs = Math.max(wallMs, (profile.endTime - profile.startTime) / 1000);
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const frameOf = new Map<number, Frame>();
    for (const n of profile.nodes)
      frameOf.set(n.id, { fn: n.callFrame.functionName, mod: await modOf(n.callFrame) });
    const idleIds = new Set(
      profile.nodes.filter((n) => n.callFrame.functionName === "(idle)").map((n) => n.id),
    );
    const roleOf = new Map<number, string>();
    const selfUs = new Map<number, number>();
    let sampledUs = 0;
    let gapUs = 0;
    profile.samples.forEach((id, i) => {
      // a sample's time: the delta to the next sample (the last one: the interval). A delta far
      // over the interval is a stretch the sampler did not see (workerd outside V8: its own C++
      // work, SQLite, RPC, or waiting): counted apart, never charged to the frame before it
      const dt = profile.timeDeltas[i + 1] ?? SAMPLE_INTERVAL_US;
      const us = dt > GAP_US ? SAMPLE_INTERVAL_US : dt;
      gapUs += dt - us;
      selfUs.set(id, (selfUs.get(id) ?? 0) + us);
      if (!idleIds.has(id)) sampledUs += us;
    });
    gapMs += gapUs / 1000;
    busyOf.push(
      `${name} ${fmt(sampledUs / 1000, 0)} ms in JS or V8 and ${fmt(gapUs / 1000, 0)} ms unsampled of ${fmt((profile.endTime - profile.startTime) / 1000, 0)} ms`,
    );
    for (const [id, us] of selfUs) {
      const leaf = byId.get(id)!;
      if (leaf.callFrame.functionName === "(idle)") {
        idleMs += us / 1000;
        continue;
      }
      let role = roleOf.get(id);
      if (!role) {
        const stack: Frame[] = [];
        for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) stack.push(frameOf.get(x)!);
        role = classify(stack.filter((f) => f.fn !== "(root)"));
        roleOf.set(id, role);
      }
      // the nearest JS frame (the caller of a native leaf), for the hot-spot list
      let hot = "";
      for (let x: number | undefined = id; x !== undefined && !hot; x = parent.get(x)) {
        const f = frameOf.get(x)!;
        if (f.mod)
          hot = `${f.mod} ${f.fn || "(anonymous)"}${x === id ? "" : ` → ${leaf.callFrame.functionName || "(native)"}`}`;
      }
      if (hot) hotspots.set(hot, (hotspots.get(hot) ?? 0) + us / 1000);
      const r = rows.get(role) ?? { ms: 0, sqlMs: 0, cryptoMs: 0 };
      r.ms += us / 1000;
      if (!leaf.callFrame.url && SQL_NATIVE.has(leaf.callFrame.functionName)) r.sqlMs += us / 1000;
      if (!leaf.callFrame.url && CRYPTO_NATIVE.has(leaf.callFrame.functionName)) r.cryptoMs += us / 1000;
      rows.set(role, r);
    }
  }
  const busy = [...rows.values()].reduce((n, r) => n + r.ms, 0);
  const sorted = [...rows.entries()].map(([role, r]) => ({ role, ...r })).sort((a, b) => b.ms - a.ms);
  const md = [
    `Profiled ${fmt(wallMs / 1000, 1)} s, ${inputs.length} isolate(s) (the edge's${inputs.length > 1 ? ", the nodes'" : ""}): busy ${fmt(busy, 0)} ms together (${fmt((busy / wallMs) * 100, 0)}% of one core), idle ${fmt(idleMs, 0)} ms; per isolate: ${busyOf.join("; ")}. Unsampled time (${fmt(gapMs, 0)} ms in all) is workerd outside V8 — its own C++ (SQLite, RPC, I/O) or waiting — which this profile cannot split (\`perf record\` on the workerd process can).`,
    "",
    "| role | CPU ms | share | of which SQLite (native) | of which WebCrypto (native) |",
    "|---|---:|---:|---:|---:|",
    ...sorted.map(
      (r) =>
        `| ${r.role} | ${fmt(r.ms, 0)} | ${fmt((r.ms / busy) * 100, 1)}% | ${fmt(r.sqlMs, 0)} | ${fmt(r.cryptoMs, 0)} |`,
    ),
    "",
    "Hot spots (self time of the nearest JS frame, native callee after →):",
    "",
    "| frame | CPU ms |",
    "|---|---:|",
    ...[...hotspots.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, HOTSPOTS_SHOWN)
      .map(([f, m]) => `| \`${f}\` | ${fmt(m, 0)} |`),
  ].join("\n");
  return { ops: 0, markdown: md, rows: sorted };
}
