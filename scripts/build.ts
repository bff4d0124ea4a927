/**
 * `npm run build` (also `prepare`, so `npm pack` and `npm install <git url>` get built files): the output
 * directory from scratch, so a file deleted from the sources is not shipped. The SDK, the CLI and the
 * shared modules they import as ESM + `.d.ts` (`tsc -p tsconfig.build.json`), then the browser bundle.
 * `--out DIR` builds elsewhere than `dist/` (the package test does). `--source-maps` adds the modules'
 * source maps (with their sources inlined): off by default, because the package is what `npm pack`
 * ships and maps tripled its size; a `.js` without its map then carries no dangling
 * `sourceMappingURL` either. (`package.json` `files` also leaves every `*.map` out of the tarball,
 * the browser bundle's included.)
 */
import { execFileSync } from "node:child_process";
import { chmod, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { isAbsolute, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { buildBrowserBundle } from "./browser-bundle.js";

const ROOT = join(import.meta.dirname, "..");
const tsc = createRequire(import.meta.url).resolve("typescript/lib/tsc.js");
const { values } = parseArgs({
  options: { out: { type: "string", default: "dist" }, "source-maps": { type: "boolean", default: false } },
});
const out = resolve(ROOT, values.out);
// The directory is deleted first: never the repository or a directory holding it.
const fromOut = relative(out, ROOT);
if (!fromOut.startsWith("..") && !isAbsolute(fromOut)) throw new Error(`build: refusing to replace ${out}`);

await rm(out, { recursive: true, force: true });
try {
  const maps = values["source-maps"] ? [] : ["--sourceMap", "false", "--inlineSources", "false"];
  execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json", "--outDir", out, ...maps], {
    cwd: ROOT,
    stdio: "inherit",
  });
} catch {
  console.error("build: tsc failed");
  process.exit(1);
}
// npm marks a package's bin executable when it installs it; this is for running it from a checkout.
await chmod(join(out, "client/bin/main.js"), 0o755);
console.log((await buildBrowserBundle(out)).join("\n"));
