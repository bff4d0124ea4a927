// The SDK as a user gets it: built by scripts/build.ts, packed by `npm pack` (so `files`, `exports` and
// `bin` are the published ones), unpacked into a project outside the repository, then imported from plain
// Node, type-checked as a consumer would, and its CLI run. No tsx is reachable from that project: the
// dependencies are linked one by one from the repository's node_modules, the dev tools are not. The
// README's SDK example runs there as it is written (plain ESM, and type-checked as strict TypeScript)
// against a `wrangler dev` of this repository.
import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWranglerDev, type DevServer } from "../support/wrangler-dev.js";

const exec = promisify(execFile);
const ROOT = join(import.meta.dirname, "..", "..");
const tsc = createRequire(import.meta.url).resolve("typescript/lib/tsc.js");
const onWindows = process.platform === "win32";

interface PackageJson {
  name: string;
  license?: string;
  private?: boolean;
  types?: string;
  dependencies: Record<string, string>;
  bin: Record<string, string>;
}

/** The README's SDK example: the first `ts` block after its marker, exactly as a reader copies it. */
async function readmeExample(): Promise<string> {
  const readme = await readFile(join(ROOT, "README.md"), "utf8");
  const at = readme.indexOf("<!-- sdk-example");
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(at));
  if (at < 0 || !block) throw new Error("README.md: no SDK example after <!-- sdk-example -->");
  return block[1]!;
}

let dir: string;
let app: string;
let packedFiles: string[];
let pkg: PackageJson;

const node = (args: string[]) => exec(process.execPath, args, { cwd: app });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "aspec-package-"));
  const src = join(dir, "src");
  app = join(dir, "app");
  await mkdir(src);
  await mkdir(join(app, "node_modules"), { recursive: true });

  // The build (`npm run build`), into the temporary tree instead of the repository's dist/.
  await exec(process.execPath, ["--import", "tsx", "scripts/build.ts", "--out", join(src, "dist")], {
    cwd: ROOT,
  });
  for (const f of ["package.json", "README.md", "LICENSE"]) await copyFile(join(ROOT, f), join(src, f));
  const { stdout } = await exec("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], {
    cwd: src,
    shell: onWindows,
  });
  const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  packedFiles = packed!.files.map((f) => f.path);

  await exec("tar", ["-xzf", join(dir, packed!.filename), "-C", join(app, "node_modules")]);
  await rename(join(app, "node_modules", "package"), join(app, "node_modules", "aspec-edge"));
  pkg = JSON.parse(await readFile(join(app, "node_modules", "aspec-edge", "package.json"), "utf8"));
  for (const dep of [...Object.keys(pkg.dependencies), "@types/node"]) {
    const link = join(app, "node_modules", dep);
    await mkdir(dirname(link), { recursive: true });
    await symlink(join(ROOT, "node_modules", dep), link, "junction");
  }
  await writeFile(join(app, "package.json"), JSON.stringify({ name: "app", private: true, type: "module" }));
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("the built SDK package", () => {
  it("ships the built files, a licence, and no TypeScript sources or source maps", () => {
    expect(packedFiles).toContain("dist/client/index.js");
    expect(packedFiles).toContain("dist/client/index.d.ts");
    expect(packedFiles).toContain("LICENSE");
    expect(packedFiles.filter((f) => f.endsWith(".map"))).toEqual([]);
    expect(pkg).toMatchObject({ license: "MIT", types: "./dist/client/index.d.ts" });
    expect(pkg.private).toBeUndefined();
    // the SDK never imports the Worker's framework
    expect(Object.keys(pkg.dependencies).sort()).toEqual(["@noble/ed25519", "@noble/hashes", "zod"]);
    expect(packedFiles).toContain("dist/browser/aspec-client.js");
    expect(packedFiles).toContain(pkg.bin.aspec!.replace(/^\.\//, ""));
    expect(packedFiles.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
  });

  it("imports from a plain Node script, with no tsx to be found", async () => {
    const script = `
      import { createRequire } from "node:module";
      import { AspecClient, AspecError, clusterConfigDigest, generateKeyPair } from "aspec-edge/client";
      import * as root from "aspec-edge";
      let tsx = "found";
      try { createRequire(import.meta.url).resolve("tsx"); } catch { tsx = "absent"; }
      const replica = await generateKeyPair();
      const replicas = [{ name: "weur", region: "Western Europe", publicKey: replica.publicKey }];
      const requests = [];
      const fetch = async (url) => {
        requests.push(String(url));
        return new Response(JSON.stringify({ replicas }), { headers: { "content-type": "application/json" } });
      };
      // the PBFT cluster pinned from config (so only the replica directory is fetched)
      const nodes = await Promise.all([0, 1, 2, 3].map(async (i) => ({ id: "pbft-" + i, region: "x", publicKey: (await generateKeyPair()).publicKey })));
      const config = { cluster: "c", f: 1, nodes: nodes.map(({ id, publicKey }) => ({ id, publicKey })) };
      const cluster = { cluster: "c", n: 4, f: 1, nodes, configDigest: clusterConfigDigest(config) };
      const c = await AspecClient.connect({ endpoint: "http://aspec.invalid", replica: "weur", fetch, cluster });
      // Checked on the client, by the same op parser the server runs, before anything is sent.
      const refused = await c.counter("hits").add(1.5).catch((e) => e);
      console.log(JSON.stringify({
        tsx,
        sameAsRoot: root.AspecClient === AspecClient,
        publicKeyLength: c.publicKey.length,
        replicas: c.replicas.map((r) => r.name),
        refused: refused instanceof AspecError ? refused.code : String(refused),
        requests,
      }));
    `;
    const { stdout } = await node(["--input-type=module", "-e", script]);
    expect(JSON.parse(stdout)).toEqual({
      tsx: "absent",
      sameAsRoot: true,
      publicKeyLength: 43,
      replicas: ["weur"],
      refused: "invalid_args",
      requests: ["http://aspec.invalid/v1/replicas"],
    });
  });

  it("has a browser bundle that loads on its own, with no node_modules around it", async () => {
    const bare = join(dir, "bare");
    await mkdir(bare);
    const bundle = join(bare, "aspec-client.js");
    await copyFile(join(app, "node_modules", "aspec-edge", "dist", "browser", "aspec-client.js"), bundle);
    const script = `
      import { AspecClient, generateKeyPair } from ${JSON.stringify(pathToFileURL(bundle).href)};
      const key = await generateKeyPair();
      console.log(JSON.stringify({ connect: typeof AspecClient.connect, publicKeyLength: key.publicKey.length }));
    `;
    const { stdout } = await exec(process.execPath, ["--input-type=module", "-e", script], { cwd: bare });
    expect(JSON.parse(stdout)).toEqual({ connect: "function", publicKeyLength: 43 });
  });

  it("type-checks in a consumer project (NodeNext resolution, strict)", async () => {
    await writeFile(
      join(app, "consumer.ts"),
      [
        `import { AspecClient, isAspecError, type OpReply, type ReadReply } from "aspec-edge/client";`,
        `const c: AspecClient = await AspecClient.connect({ endpoint: "http://127.0.0.1:8787" });`,
        `const w: OpReply = await c.counter("hits").add(1);`,
        `const r: ReadReply = await c.get("hits");`,
        `// @ts-expect-error: add takes a number`,
        `await c.counter("hits").add("1");`,
        `console.log(w.opId, r.value, isAspecError(null));`,
      ].join("\n"),
    );
    const args = ["--noEmit", "--strict", "--skipLibCheck", "--target", "es2022", "--lib", "es2022"];
    args.push("--module", "nodenext", "--moduleResolution", "nodenext", "--types", "node", "consumer.ts");
    const r = await node([tsc, ...args]).catch((e: { stdout: string }) => e);
    expect(r.stdout).toBe("");
  });

  it("runs the CLI from its bin with plain node", async () => {
    const { stdout } = await node([join("node_modules", "aspec-edge", pkg.bin.aspec!), "--help"]);
    expect(stdout).toMatch(/^usage: aspec/);
  });

  describe("the README's SDK example", () => {
    let server: DevServer | undefined;
    beforeAll(async () => {
      server = await startWranglerDev({
        name: "package",
        readyPath: "/v1/replicas",
        vars: { ENVIRONMENT: "dev" },
      });
    }, 120_000);
    afterAll(async () => {
      await server?.stop();
    });

    it("runs as plain ESM against a live server: tentative, certified, read back", async () => {
      const code = (await readmeExample()).replace("http://127.0.0.1:8787", server!.url);
      await writeFile(join(app, "example.mjs"), code);
      const { stdout } = await node(["example.mjs"]);
      expect(stdout.trim().split("\n")).toEqual([
        "tentative ok 1",
        "certified ok 1 rolled back: false",
        "read 1",
      ]);
    });

    it("type-checks as strict TypeScript", async () => {
      await writeFile(join(app, "example.ts"), `${await readmeExample()}\nexport {};\n`);
      const args = ["--noEmit", "--strict", "--skipLibCheck", "--target", "es2022", "--lib", "es2022,dom"];
      args.push("--module", "nodenext", "--moduleResolution", "nodenext", "--types", "node", "example.ts");
      const r = await node([tsc, ...args]).catch((e: { stdout: string }) => e);
      expect(r.stdout).toBe("");
    });
  });
});
