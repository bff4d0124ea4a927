/**
 * `npm run build` (also `prepare`, so `npm pack` and `npm install <git url>` get built files): `dist/` from
 * scratch, so a file deleted from the sources is not shipped. The SDK, the CLI and the shared modules they
 * import as ESM + `.d.ts` + source maps (`tsc -p tsconfig.build.json`), then the browser bundle.
 */
import { execFileSync } from "node:child_process";
import { chmod, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..");
const tsc = createRequire(import.meta.url).resolve("typescript/lib/tsc.js");

await rm(join(ROOT, "dist"), { recursive: true, force: true });
try {
  execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: ROOT, stdio: "inherit" });
} catch {
  console.error("build: tsc failed");
  process.exit(1);
}
// npm marks a package's bin executable when it installs it; this is for running it from a checkout.
await chmod(join(ROOT, "dist/client/bin/main.js"), 0o755);
await import("./browser-bundle.js");
