/**
 * Imports point down (docs/architecture.md, "Parts"): `shared/` is pure, `platform/` is the glue
 * both Workers and Durable Objects use, a Durable Object never imports from the HTTP edge
 * (`workers/`), and the SDK (`client/`) carries `shared/` alone. Each layer's sources are read as
 * text and their imports (static, dynamic, re-exports) taken by TypeScript's own pre-processor, so
 * an import inside a comment or a string does not count and a type-only import does.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** Per checked layer: the top-level folders it may import from, and whether `cloudflare:*` is allowed. */
const RULES = {
  shared: { may: ["shared"], cloudflare: false },
  platform: { may: ["shared", "platform"], cloudflare: true },
  "durable-objects": { may: ["shared", "platform", "durable-objects"], cloudflare: true },
  client: { may: ["client", "shared"], cloudflare: false },
} as const;
type Layer = keyof typeof RULES;
const LAYERS = Object.keys(RULES) as Layer[];

/** `file` (relative to the root, `/`-separated) with text `text`: each import its layer may not make. */
function layerViolations(file: string, text: string): string[] {
  const layer = file.split("/")[0] as Layer;
  const rule = RULES[layer];
  const out: string[] = [];
  for (const { fileName: spec } of ts.preProcessFile(text, true, true).importedFiles) {
    if (spec.startsWith("cloudflare:")) {
      if (!rule.cloudflare) out.push(`${file} imports ${spec}`);
      continue;
    }
    if (!spec.startsWith(".")) continue; // a package or a runtime module (node:*), not a layer
    const target = normalize(join(dirname(file), spec))
      .split(sep)
      .join("/");
    const top = target.startsWith("..") ? "(outside the repository)" : target.split("/")[0]!;
    if (!(rule.may as readonly string[]).includes(top)) out.push(`${file} imports ${target} (${top}/)`);
  }
  return out;
}

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && /\.m?ts$/.test(e.name) && !e.name.endsWith(".d.ts"))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)).split(sep).join("/"));
}

describe("layers: which folder may import which", () => {
  it("no file of shared/, platform/, durable-objects/ or client/ imports a layer it may not", () => {
    const violations: string[] = [];
    for (const layer of LAYERS) {
      const files = sources(layer);
      expect(files.length, `${layer}/ has sources`).toBeGreaterThan(0);
      for (const f of files) violations.push(...layerViolations(f, readFileSync(join(ROOT, f), "utf8")));
    }
    expect(violations).toEqual([]);
  });

  it("the imports are really read: a Durable Object's file imports platform/ and shared/", () => {
    const text = readFileSync(join(ROOT, "durable-objects/anti-entropy.ts"), "utf8");
    const specs = ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
    expect(specs).toContain("../platform/replica-stub.js");
    expect(specs.filter((s) => s.startsWith("../shared/")).length).toBeGreaterThan(2);
  });

  it.each([
    ["durable-objects/x.ts", 'import type { Env } from "../workers/env.js";', "workers/env.js (workers/)"],
    [
      "durable-objects/storage/x.ts",
      'export { a } from "../../workers/app.js";',
      "workers/app.js (workers/)",
    ],
    [
      "platform/x.ts",
      'import type { PbftNode } from "../durable-objects/pbft-node.js";',
      "(durable-objects/)",
    ],
    ["platform/x.ts", 'const m = await import("../workers/app.js");', "(workers/)"],
    ["shared/pbft/x.ts", 'import { nodesOf } from "../../platform/pbft-node-stub.js";', "(platform/)"],
    ["shared/x.ts", 'import { DurableObject } from "cloudflare:workers";', "imports cloudflare:workers"],
    ["client/x.ts", 'import { replicasOf } from "../platform/routing.js";', "(platform/)"],
    ["client/cli/x.ts", 'import "../../workers/index.js";', "(workers/)"],
    ["client/x.ts", 'import { env } from "cloudflare:workers";', "imports cloudflare:workers"],
  ])("refuses %s: %s", (file, line, says) => {
    const v = layerViolations(file, line);
    expect(v).toHaveLength(1);
    expect(v[0]).toContain(says);
  });

  it.each([
    ["durable-objects/x.ts", 'import { replicaStub } from "../platform/replica-stub.js";'],
    ["durable-objects/x.ts", 'import { DurableObject } from "cloudflare:workers";'],
    ["platform/x.ts", 'import type { ReplicaRpc } from "../shared/rpc/replica.js";'],
    [
      "client/node/x.ts",
      'import { readFile } from "node:fs/promises";\nimport { a } from "../../shared/ops.js";',
    ],
    [
      "shared/x.ts",
      '/** @example import { env } from "cloudflare:workers"; */\nconst s = "../workers/app.js";',
    ],
  ])("allows %s: %s", (file, line) => {
    expect(layerViolations(file, line)).toEqual([]);
  });
});
