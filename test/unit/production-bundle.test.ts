/**
 * The production bundle holds no fault code (docs/architecture.md, "Dev faults"). Both Workers are
 * bundled by wrangler itself, `wrangler deploy --dry-run` as `npm run deploy` deploys them (each
 * config's `alias` sends `#dev-faults` to platform/dev-faults/none.ts), and from the config's dev
 * copy that `npm run dev` and the e2e tests give `wrangler dev` (scripts/dev-faults-alias.ts). The first must
 * hold no fault module and no fault marker; the second must hold them, so this test can fail.
 * ~6 s: four esbuild bundles by wrangler, run two at a time.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NODE_FAULT_MODES } from "../../platform/dev-faults/node-faults.js";
import { FAULT_NAMES } from "../../platform/dev-faults/replica-faults.js";
import { FAULTS_PATH } from "../../platform/dev-faults/routes.js";
import { devFaultsConfig } from "../../scripts/dev-faults-alias.js";
import { DEV_PATHS } from "../../workers/routes.js";

const ROOT = join(import.meta.dirname, "..", "..");
const WRANGLER = join(ROOT, "node_modules", ".bin", "wrangler");
const CONFIGS = { edge: "wrangler.jsonc", nodes: "workers/pbft/wrangler.jsonc" } as const;
type Worker = keyof typeof CONFIGS;

/** Words of fault code alone: every fault's name (but two plain English words), and the route. */
const MARKERS = [
  ...[...FAULT_NAMES, ...NODE_FAULT_MODES].filter((n) => n !== "silent" && n !== "hang"),
  FAULTS_PATH,
];
/** A fault module in esbuild's metafile: anything of platform/dev-faults/ but the empty installer. */
const isFaultModule = (input: string) => input.includes("platform/dev-faults/") && !input.endsWith("none.ts");

interface Bundle {
  code: string;
  inputs: string[];
}

const dir = mkdtempSync(join(tmpdir(), "aspec-bundle-"));

/** `wrangler deploy --dry-run` of one Worker into its own folder: its code and esbuild's inputs. */
async function bundle(worker: Worker, kind: "production" | "dev"): Promise<Bundle> {
  const out = join(dir, `${worker}-${kind}`);
  const config = join(ROOT, CONFIGS[worker]);
  const args = ["deploy", "--dry-run", "-c", kind === "dev" ? devFaultsConfig(config) : config];
  args.push("--outdir", out, "--metafile");
  await promisify(execFile)(WRANGLER, args, {
    cwd: ROOT,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
  });
  const meta = JSON.parse(readFileSync(join(out, "bundle-meta.json"), "utf8")) as {
    inputs: Record<string, unknown>;
  };
  return { code: readFileSync(join(out, "index.js"), "utf8"), inputs: Object.keys(meta.inputs) };
}

/** esbuild names inputs from the config's folder (`../../platform/…` for the nodes' Worker). */
const found = (b: Bundle) => ({
  modules: b.inputs.filter(isFaultModule).map((i) => i.slice(i.indexOf("platform/dev-faults/"))),
  markers: MARKERS.filter((m) =>
    m.startsWith("/") ? b.code.includes(m) : new RegExp(`\\b${m}\\b`).test(b.code),
  ),
});

const bundles: Partial<Record<`${Worker}-${"production" | "dev"}`, Bundle>> = {};

beforeAll(async () => {
  for (const worker of Object.keys(CONFIGS) as Worker[]) {
    const [production, dev] = await Promise.all([bundle(worker, "production"), bundle(worker, "dev")]);
    bundles[`${worker}-production`] = production;
    bundles[`${worker}-dev`] = dev;
  }
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the production bundle holds no fault code", () => {
  it("the markers are fault code's own: the route's path is the one the docs list", () => {
    expect(FAULTS_PATH).toBe(DEV_PATHS.faults);
    expect(MARKERS.length).toBeGreaterThan(10);
  });

  it.each(Object.keys(CONFIGS) as Worker[])("%s, as deployed: no fault module, no fault marker", (w) => {
    const b = bundles[`${w}-production`]!;
    expect(b.inputs.some((i) => i.endsWith("platform/dev-faults/none.ts"))).toBe(true);
    expect(found(b)).toEqual({ modules: [], markers: [] });
  });

  it.each(Object.keys(CONFIGS) as Worker[])(
    "%s, as `wrangler dev` bundles it: the fault modules are in",
    (w) => {
      const b = bundles[`${w}-dev`]!;
      const { modules, markers } = found(b);
      expect(modules).toEqual(
        expect.arrayContaining([
          "platform/dev-faults/index.ts",
          "platform/dev-faults/replica.ts",
          "platform/dev-faults/node.ts",
        ]),
      );
      expect(markers).toEqual(MARKERS);
    },
  );
});
