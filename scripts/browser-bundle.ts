/**
 * Builds the browser SDK bundle, `dist/browser/aspec-client.js` (ESM, minified, one file), and prints its
 * size raw, gzipped and brotli-compressed, what contributes most to it, and the imports through which each
 * package of a large share enters. Run by `npm run build`; `npm run size` runs it alone.
 *
 * The size target for the browser SDK is 60 KiB gzipped. Missing it is reported, not fatal: the build still
 * produces a working bundle.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { build, type Metafile } from "esbuild";

const ROOT = join(import.meta.dirname, "..");
const ENTRY = "client/index.ts";
/** Where the bundle goes, under the build's output directory (`dist/`). */
const BUNDLE_PATH = "browser/aspec-client.js";
const GZIP_TARGET_BYTES = 60 * 1024;
const TOP_COUNT = 8;
/** A package at least this share of the bundle gets its import paths printed. */
const HEAVY_SHARE = 0.1;

/** `…/node_modules/@noble/ed25519/index.js` → `@noble/ed25519`; a project file stays as it is. */
function packageOf(path: string): string {
  const i = path.lastIndexOf("node_modules/");
  if (i < 0) return path;
  const parts = path.slice(i + "node_modules/".length).split("/");
  return parts[0]!.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

/**
 * The imports by which the client reaches `pkg`: each edge from a `client/` file to a file outside
 * `client/` from which `pkg` can be reached. Removing every one of these removes the package.
 */
function clientEdgesTo(meta: Metafile, pkg: string): string[] {
  const reaches = new Map<string, boolean>();
  const reach = (file: string): boolean => {
    if (packageOf(file) === pkg) return true;
    if (packageOf(file) !== file) return false;
    const known = reaches.get(file);
    if (known !== undefined) return known;
    reaches.set(file, false); // cycles: not through here
    const r = (meta.inputs[file]?.imports ?? []).some((i) => !i.external && reach(i.path));
    reaches.set(file, r);
    return r;
  };
  const edges: string[] = [];
  for (const [file, input] of Object.entries(meta.inputs)) {
    if (!file.startsWith("client/")) continue;
    for (const i of input.imports)
      if (!i.external && !i.path.startsWith("client/") && reach(i.path))
        edges.push(`${file} → ${packageOf(i.path)}`);
  }
  return [...new Set(edges)].sort();
}

/** Project files that import `pkg` directly. */
function directImporters(meta: Metafile, pkg: string): string[] {
  return Object.entries(meta.inputs)
    .filter(
      ([file, input]) => packageOf(file) === file && input.imports.some((i) => packageOf(i.path) === pkg),
    )
    .map(([file]) => file)
    .sort();
}

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
const pct = (n: number, total: number) => `${((100 * n) / total).toFixed(1)}%`.padStart(6);

/** Build the bundle into `distDir` (resolved from the repository root); resolves to the report's lines. */
export async function buildBrowserBundle(distDir = "dist"): Promise<string[]> {
  // esbuild names its outputs with forward slashes, relative to the working directory.
  const outfile = relative(ROOT, resolve(ROOT, distDir, BUNDLE_PATH)).replaceAll("\\", "/");
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [ENTRY],
    outfile,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    sourcemap: "linked",
    metafile: true,
    write: false,
    logLevel: "warning",
  });

  const js = result.outputFiles.find((f) => f.path.endsWith(".js"));
  if (js === undefined) throw new Error("esbuild produced no .js output");
  for (const f of result.outputFiles) {
    await mkdir(dirname(f.path), { recursive: true });
    await writeFile(f.path, f.contents);
  }

  const raw = js.contents.byteLength;
  const gzip = gzipSync(js.contents).byteLength;
  const brotli = brotliCompressSync(js.contents).byteLength;
  const output = result.metafile.outputs[outfile];
  if (output === undefined) throw new Error(`no metafile entry for ${outfile}`);

  const byPackage = new Map<string, number>();
  const packages = new Set<string>();
  for (const [file, { bytesInOutput }] of Object.entries(output.inputs)) {
    const key = packageOf(file);
    if (key !== file) packages.add(key);
    byPackage.set(key, (byPackage.get(key) ?? 0) + bytesInOutput);
  }
  const top = [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, TOP_COUNT);

  const lines = [
    `${outfile}: ${kib(raw)} minified, ${kib(gzip)} gzip, ${kib(brotli)} brotli`,
    `target ≤ ${kib(GZIP_TARGET_BYTES)} gzip: ${gzip <= GZIP_TARGET_BYTES ? "met" : `missed by ${kib(gzip - GZIP_TARGET_BYTES)}`}`,
    `largest contributors (minified bytes in the bundle):`,
    ...top.map(([name, bytes]) => `  ${kib(bytes).padStart(10)} ${pct(bytes, raw)}  ${name}`),
  ];
  // For a package that is a large share of the bundle: where it comes in, so it can be cut off.
  for (const [name, bytes] of top.filter(
    ([name, bytes]) => packages.has(name) && bytes >= HEAVY_SHARE * raw,
  )) {
    lines.push(
      `${name} (${pct(bytes, raw).trim()}) is imported by ${directImporters(result.metafile, name).join(", ")}`,
    );
    lines.push(`  and reached from the client through ${clientEdgesTo(result.metafile, name).join(", ")}`);
  }
  return lines;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  console.log((await buildBrowserBundle()).join("\n"));
