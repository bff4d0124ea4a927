/**
 * The config that puts dev fault injection into a bundle. Both wrangler configs alias `#dev-faults`
 * to platform/dev-faults/none.ts (what `wrangler deploy` bundles); `npm run dev` and the e2e tests'
 * `wrangler dev` run a copy of the config, written beside it (so every relative path and .dev.vars
 * still resolve), whose alias points at platform/dev-faults/index.ts instead. A copy, not `--alias`:
 * wrangler 4.164 takes `--alias` for `deploy` but drops it in `dev`. A plain `npx wrangler dev`
 * uses the config itself and serves without fault injection (`/v1/dev/faults` is then unknown).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";

const ALIAS_TO_NONE = /("#dev-faults":\s*"[^"]*\/platform\/dev-faults\/)none\.ts"/;

/**
 * Write the dev copy of `config` (an absolute path) and return its path; a config without the alias
 * (another Worker's, e.g. the benchmarks' baseline) is returned as it is. `tag` names a copy of its
 * own (the e2e harness: one per server). A copy that already says the same is left untouched: a
 * running `wrangler dev` watches its config, and a copy written again under it (another server
 * starting) reloaded that Worker mid-test.
 */
export function devFaultsConfig(config: string, tag?: string): string {
  const text = readFileSync(config, "utf8");
  if (!ALIAS_TO_NONE.test(text)) return config;
  const out = join(dirname(config), `.dev-faults.${tag === undefined ? "" : `${tag}.`}${basename(config)}`);
  const wanted = text.replace(ALIAS_TO_NONE, '$1index.ts"');
  if (existsSync(out) && readFileSync(out, "utf8") === wanted) return out;
  // several servers may start at once: each writes its own file, then renames it into place
  const tmp = `${out}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  writeFileSync(tmp, wanted);
  renameSync(tmp, out);
  return out;
}
