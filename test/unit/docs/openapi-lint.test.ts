/**
 * The OpenAPI document (`GET /openapi.json`, workers/openapi.ts) passes `redocly lint` with the
 * recommended rules, every one of them, warnings included: written to a temp file and linted by the
 * project's own @redocly/cli, run on this Node (not whatever `node` the shell finds first).
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { openApiDocument } from "../../../workers/openapi.js";

const exec = promisify(execFile);
const require = createRequire(import.meta.url);
const REDOCLY = join(dirname(require.resolve("@redocly/cli/package.json")), "bin", "cli.js");

interface LintReport {
  totals: { errors: number; warnings: number };
  problems: { ruleId: string; message: string; location: { pointer?: string }[] }[];
}

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** Lint a document; redocly exits 1 on errors, so its report is read either way. */
async function lint(doc: unknown): Promise<LintReport> {
  const dir = await mkdtemp(join(tmpdir(), "aspec-openapi-"));
  dirs.push(dir);
  const file = join(dir, "openapi.json");
  await writeFile(file, JSON.stringify(doc));
  const args = [REDOCLY, "lint", "--format=json", "--extends=recommended", file];
  const out = await exec(process.execPath, args, {
    cwd: dir,
    env: { ...process.env, REDOCLY_TELEMETRY: "off" },
  }).catch((e: { stdout: string }) => e);
  return JSON.parse(out.stdout) as LintReport;
}

const summary = (r: LintReport) =>
  r.problems.map((p) => `${p.ruleId} ${p.location[0]?.pointer ?? ""}: ${p.message}`);

describe("the OpenAPI document", () => {
  it("passes redocly lint (recommended rules) with no error and no warning", async () => {
    const report = await lint(openApiDocument());
    expect(summary(report)).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  });

  it("names the operator's bearer scheme on the lift route, not a header parameter", () => {
    const doc = openApiDocument() as {
      components: { securitySchemes: Record<string, { type: string; scheme: string }> };
      paths: Record<
        string,
        Record<string, { security?: unknown; parameters?: { in?: string; name?: string }[] }>
      >;
    };
    expect(doc.components.securitySchemes.adminToken).toMatchObject({ type: "http", scheme: "bearer" });
    const lift = doc.paths["/v1/admin/quarantine/{replica}/lift"]!.post!;
    expect(lift.security).toEqual([{ adminToken: [] }]);
    expect((lift.parameters ?? []).filter((p) => p.name?.toLowerCase() === "authorization")).toEqual([]);
  });

  it("fails on a document that breaks a recommended rule (the check can fail)", async () => {
    const doc = structuredClone(openApiDocument()) as {
      paths: Record<string, Record<string, { summary?: string }>>;
    };
    delete doc.paths["/health"]!.get!.summary;
    const report = await lint(doc);
    expect(summary(report).some((p) => p.startsWith("operation-summary"))).toBe(true);
  });
});
