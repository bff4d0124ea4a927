/**
 * `npm run bench:client` (tsx bench/client/run.ts): what verification costs a client, and what
 * latency a writer sees at tolerance k = 0, 1, 10 and ∞, in one run on one machine.
 *
 * 1. Verification cost per reply (µs): the SDK's verifiers on real signed replies (certificate of
 *    3 node signatures, Merkle proofs over a state of --keys keys), in Node and, in the same run,
 *    in headless Chromium on the browser bundle (--no-browser to skip).
 * 2. Writer latency: one client (one connection) per k against `wrangler dev` (the four PBFT
 *    Durable Objects certifying in the background) writes --ops counter adds one after another;
 *    per op, the time until `submit` resolves (k = 0: until certified), and the time until every
 *    op is certified. Not a test.
 *
 * Flags: --ops N (40)  --keys N (1000)  --verifications N (500)  --k LIST (0,1,10,inf; run in
 * that order)  --no-browser  --out PATH
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { AspecClient } from "../../client/client.js";
import { buildBrowserBundle } from "../../scripts/browser-bundle.js";
import { REPO_ROOT, runScript, startWranglerDev } from "../../test/support/wrangler-dev.js";
import { fmt, summarize, type LatencySummary } from "../ec/stats.js";
import { intFlag } from "../int-flag.js";
import { resultsPath } from "../results-path.js";
import { browserScript, makeSamples, measureNode, type Samples } from "./verify-cost.js";

const DEFAULTS = { ops: "40", keys: "1000", verifications: "500", k: "0,1,10,inf" };
const { values: flags } = parseArgs({
  options: {
    ops: { type: "string", default: DEFAULTS.ops },
    keys: { type: "string", default: DEFAULTS.keys },
    verifications: { type: "string", default: DEFAULTS.verifications },
    k: { type: "string", default: DEFAULTS.k },
    "no-browser": { type: "boolean", default: false },
    out: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
  strict: true,
});
if (flags.help) {
  console.log(
    "usage: npm run bench:client -- [--ops N (40)] [--keys N (1000)] [--verifications N (500)] [--k 0,1,10,inf] [--no-browser] [--out PATH]",
  );
  process.exit(0);
}
const OPS = intFlag(flags, "ops", 1);
const KEYS = intFlag(flags, "keys", 1);
const N = intFlag(flags, "verifications", 1);
const KS = flags.k.split(",").map((x) => {
  const k = x === "inf" ? Infinity : Number(x);
  if (!(k === Infinity || (Number.isSafeInteger(k) && k >= 0)))
    throw new Error(`--k: not a tolerance: '${x}'`);
  return k;
});

async function browserCosts(s: Samples): Promise<number[] | null> {
  const [{ default: chromium }, { default: puppeteer }] = await Promise.all([
    import("@sparticuz/chromium"),
    import("puppeteer-core"),
  ]);
  const dir = await mkdtemp(join(tmpdir(), "aspec-bench-client-"));
  const server = await startWranglerDev({
    name: "bench-client-page",
    readyPath: "/health",
    vars: { ENVIRONMENT: "dev" },
  });
  const browser = await puppeteer.launch({
    args: chromium.args,
    executablePath: await chromium.executablePath(),
    headless: true,
  });
  try {
    await buildBrowserBundle(dir);
    const bundle = await readFile(join(dir, "browser", "aspec-client.js"), "utf8");
    const page = await browser.newPage();
    await page.goto(`${server.url}/health`); // a secure context for crypto.subtle
    await page.evaluate(`window.__bundle = ${JSON.stringify(bundle)}`);
    return (await page.evaluate(browserScript(s, N))) as number[];
  } finally {
    await browser.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

interface KRun {
  k: number;
  write: LatencySummary;
  allCertifiedMs: number;
}

async function writerLatency(url: string): Promise<KRun[]> {
  const runs: KRun[] = [];
  for (const k of KS) {
    const c = await AspecClient.connect({ endpoint: url, replica: "weur", maxUncertified: k });
    const key = `bench-k${k}-${Date.now().toString(36)}`;
    for (let i = 0; i < 3; i++) await (await c.counter(key).add(1)).certified; // warm up, then settle
    const lat: number[] = [];
    const certified: Promise<unknown>[] = [];
    const t0 = performance.now();
    for (let i = 0; i < OPS; i++) {
      const t = performance.now();
      const w = await c.counter(key).add(1);
      lat.push(performance.now() - t);
      if (k === Infinity) certified.push(w.certified); // followed on request (k = ∞ waits for nothing)
    }
    await Promise.all(certified);
    await c.settled();
    runs.push({ k, write: summarize(lat), allCertifiedMs: performance.now() - t0 });
    c.close();
    console.error({ event: "k_done", k: String(k) });
  }
  return runs;
}

runScript(async () => {
  const samples = await makeSamples(KEYS);
  const node = await measureNode(samples, N);
  const browser = flags["no-browser"]
    ? null
    : await browserCosts(samples).catch((e: unknown) => (console.error(e), null));
  const server = await startWranglerDev({
    name: "bench-client",
    readyPath: "/v1/replicas",
    vars: { ENVIRONMENT: "dev" },
  });
  let runs: KRun[];
  try {
    runs = await writerLatency(server.url);
  } finally {
    await server.stop();
  }
  const lines = [
    `# Client bench (npm run bench:client)`,
    ``,
    `${new Date().toISOString()}, Node ${process.version}; --ops ${OPS} --keys ${KEYS} --verifications ${N}`,
    ``,
    `## Verification cost per reply (µs)`,
    ``,
    `| reply | Node | Chromium (bundle) |`,
    `|---|---:|---:|`,
    ...node.map((r, i) => `| ${r.what} | ${fmt(r.us)} | ${browser && i < 3 ? fmt(browser[i]!) : "—"} |`),
    ``,
    `## Writer latency, one client, ${OPS} sequential counter adds at weur under wrangler dev (ms)`,
    ``,
    `| k (maxUncertified) | p50 | p90 | max | mean | all ${OPS} certified after |`,
    `|---|---:|---:|---:|---:|---:|`,
    ...runs.map(
      (r) =>
        `| ${r.k === Infinity ? "∞" : r.k} | ${fmt(r.write.p50)} | ${fmt(r.write.p90)} | ${fmt(r.write.max)} | ${fmt(r.write.mean)} | ${fmt(r.allCertifiedMs, 0)} |`,
    ),
    ``,
  ];
  const text = lines.join("\n");
  console.log(text);
  const changed = Object.entries(DEFAULTS)
    .filter(([k, v]) => flags[k as keyof typeof DEFAULTS] !== v)
    .map(([k]) => `--${k}`)
    .concat(flags["no-browser"] ? ["--no-browser"] : []);
  const where = resultsPath({
    out: flags.out,
    committed: join(REPO_ROOT, "bench", "results", "client-latest.md"),
    changed,
  });
  if (where.path) await writeFile(where.path, text);
  console.error(where.path ? `wrote ${where.path} (${where.why})` : where.why);
});
