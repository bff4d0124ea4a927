/**
 * The README and docs/ cannot drift from the code: every route they name is a route of
 * workers/routes.ts (with a method it answers), every `<status> <code>` they name is an error code of
 * shared/errors.ts with that status, every `npm run X` is a script of package.json, every relative
 * link points to a file that exists (and, into a Markdown page, to a heading it has), the README stays
 * within 250 lines, docs/api.md names every error code, and its generated route list is current.
 * Each check is also run on planted bad names, so it is seen to fail.
 */
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { API_DOC, withRouteTable } from "../../../scripts/docs-routes.js";
import { ERROR_STATUS } from "../../../shared/errors.js";
import { DEV_PATHS, ROUTES, allowHeader } from "../../../workers/routes.js";

const ROOT = join(import.meta.dirname, "..", "..", "..");
const README_LINES_MAX = 250;

interface Page {
  /** Path from the repository root. */
  path: string;
  text: string;
}

const read = (path: string): Page => ({ path, text: readFileSync(join(ROOT, path), "utf8") });
const pages = (): Page[] => [
  read("README.md"),
  ...readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => read(`docs/${f}`)),
];
const scripts = (): Record<string, string> =>
  (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> })
    .scripts;

// ---- routes --------------------------------------------------------------------------------------

const KNOWN = [...ROUTES, ...Object.values(DEV_PATHS).map((path) => ({ path, methods: ["POST"] as const }))];

/** Does a concrete or documented path (`/v1/ops/:id`, `/v1/ops/abc:1`, `/v1/evidence/<digest>`) fit a route? */
function fits(pattern: string, path: string): boolean {
  const p = pattern.split("/");
  const s = path.split("/");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === "*") return s.length > i && s.slice(i).join("/") !== "";
    if (i >= s.length) return false;
    if (p[i]!.startsWith(":")) {
      if (s[i] === "") return false;
      continue;
    }
    if (p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

/** Paths named in a page: `/v1/…` anywhere, and `/health`-like paths after an HTTP method. */
function namedRoutes(text: string): { method?: string; path: string; at: string }[] {
  const out: { method?: string; path: string; at: string }[] = [];
  const re =
    /(?:\b(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) +)?(?<![\w.])(\/v1\/[^\s`"')\]>,;|]*|(?<=(?:GET|POST) )\/[^\s`"')\]>,;|]*)/g;
  for (const m of text.matchAll(re)) {
    // a query, a fragment, a trailing sentence stop or ellipsis are not part of the route
    const path = m[2]!.replace(/[?#].*$/, "").replace(/[.:…]+$/, "");
    // a prefix, as prose names it ("everything after `/v1/kv/`")
    const prefix = path.replace(/\*$/, "");
    if (prefix.endsWith("/") && KNOWN.some((r) => r.path.startsWith(prefix))) continue;
    out.push({ method: m[1], path, at: m[0] });
  }
  return out;
}

function routeProblems(page: Page): string[] {
  const problems: string[] = [];
  for (const { method, path, at } of namedRoutes(page.text)) {
    const routes = KNOWN.filter((r) => fits(r.path, path));
    if (routes.length === 0) problems.push(`${page.path}: no route ${path} (in "${at}")`);
    else if (method && !routes.some((r) => allowHeader(r).split(", ").includes(method)))
      problems.push(`${page.path}: ${path} does not answer ${method}`);
  }
  return problems;
}

// ---- error codes ---------------------------------------------------------------------------------

/** `409 seq_replayed`, `` `409 seq_replayed` ``, `` 409 `seq_replayed` ``: a status beside a code. */
function codeProblems(page: Page): string[] {
  const problems: string[] = [];
  for (const m of page.text.matchAll(/(?<![\d,.])\b([1-5]\d\d) `?([a-z][a-z_]*[a-z])\b`?/g)) {
    const [, status, code] = m;
    if (!m[0].includes("`") && !code!.includes("_") && !(code! in ERROR_STATUS)) continue; // "200 signed ops"
    const known = (ERROR_STATUS as Record<string, number>)[code!];
    if (known === undefined) problems.push(`${page.path}: no error code ${code} (in "${m[0]}")`);
    else if (String(known) !== status) problems.push(`${page.path}: ${code} is ${known}, not ${status}`);
  }
  // the error table: a row whose first cell is a status lists codes of that status
  for (const row of page.text.matchAll(/^\| ([1-5]\d\d) +\| (.*)$/gm))
    for (const [, code] of row[2]!.matchAll(/`([a-z][a-z_]*)`/g)) {
      const known = (ERROR_STATUS as Record<string, number>)[code!];
      if (known === undefined) problems.push(`${page.path}: no error code ${code} (table row ${row[1]})`);
      else if (String(known) !== row[1]) problems.push(`${page.path}: ${code} is ${known}, not ${row[1]}`);
    }
  return problems;
}

// ---- npm scripts ---------------------------------------------------------------------------------

function scriptProblems(page: Page, known: Record<string, string>): string[] {
  return [...page.text.matchAll(/\bnpm run ([\w:.-]*\w)(?![\w*])/g)]
    .map((m) => m[1]!)
    .filter((name) => !(name in known))
    .map((name) => `${page.path}: no npm script ${name}`);
}

// ---- links ---------------------------------------------------------------------------------------

/** GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    const m = !fenced && /^#{1,6} (.*)$/.exec(line);
    if (!m) continue;
    const base = m[1]!
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

function linkProblems(page: Page, exists = (p: string) => existsSync(join(ROOT, p))): string[] {
  const problems: string[] = [];
  const text = page.text.replace(/```[\s\S]*?```/g, "");
  for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = m[1]!;
    if (/^[a-z][a-z+.-]*:/i.test(target)) continue; // http:, https:, mailto:
    const [file, anchor] = target.split("#") as [string, string | undefined];
    const path = file === "" ? page.path : relative(ROOT, resolve(ROOT, dirname(page.path), file));
    if (!exists(path)) {
      problems.push(`${page.path}: link to ${target}: no file ${path}`);
      continue;
    }
    if (anchor !== undefined && path.endsWith(".md")) {
      const heads = path === page.path ? anchors(page.text) : anchors(readFileSync(join(ROOT, path), "utf8"));
      if (!heads.has(anchor))
        problems.push(`${page.path}: link to ${target}: ${path} has no heading #${anchor}`);
    }
  }
  return problems;
}

// ---- the checks ----------------------------------------------------------------------------------

describe("README and docs/", () => {
  it("the README is at most 250 lines", () => {
    expect(read("README.md").text.trimEnd().split("\n").length).toBeLessThanOrEqual(README_LINES_MAX);
  });

  it("name only routes that exist, with methods they answer", () => {
    expect(pages().flatMap(routeProblems)).toEqual([]);
  });

  it("name only error codes that exist, with their status", () => {
    expect(pages().flatMap(codeProblems)).toEqual([]);
  });

  it("name only npm scripts that exist", () => {
    const known = scripts();
    expect(pages().flatMap((p) => scriptProblems(p, known))).toEqual([]);
  });

  it("link only to files and headings that exist", () => {
    expect([...new Set(pages().flatMap((p) => linkProblems(p)))]).toEqual([]);
  });

  it("docs/api.md names every error code, in a row of its status", () => {
    const api = read("docs/api.md").text;
    const rows = [...api.matchAll(/^\| ([1-5]\d\d) +\| (.*)$/gm)];
    const missing = Object.entries(ERROR_STATUS).filter(
      ([code, status]) => !rows.some((r) => r[1] === String(status) && r[2]!.includes(`\`${code}\``)),
    );
    expect(missing).toEqual([]);
  });

  it("docs/api.md's route list is the generated one (npm run docs:routes)", async () => {
    const text = readFileSync(API_DOC, "utf8");
    expect(await withRouteTable(text)).toBe(text);
    for (const route of ROUTES) expect(text).toContain(`\`${route.path.replace(/\*$/, ":key")}\``);
  });
});

describe("the drift checks fail on planted bad names", () => {
  const page = (text: string): Page => ({ path: "docs/planted.md", text });

  it("an unknown route, or a method a route does not answer", () => {
    expect(routeProblems(page("call `POST /v1/nope` then `GET /v1/ops/abc:1`"))).toEqual([
      'docs/planted.md: no route /v1/nope (in "POST /v1/nope")',
    ]);
    expect(routeProblems(page("`DELETE /v1/ops/:id`"))).toEqual([
      "docs/planted.md: /v1/ops/:id does not answer DELETE",
    ]);
    expect(routeProblems(page("`GET /v1/kv/a/b?view=certified`, `GET /v1/evidence/<digest>`"))).toEqual([]);
  });

  it("an unknown error code, or one with another status", () => {
    expect(codeProblems(page("answers `409 seq_unknown`"))).toEqual([
      'docs/planted.md: no error code seq_unknown (in "409 seq_unknown`")',
    ]);
    expect(codeProblems(page("answers 404 `seq_replayed`"))).toEqual([
      "docs/planted.md: seq_replayed is 409, not 404",
    ]);
    expect(codeProblems(page("| 400    | `malformed_json`, `made_up` |"))).toEqual([
      "docs/planted.md: no error code made_up (table row 400)",
    ]);
  });

  it("an unknown npm script", () => {
    expect(scriptProblems(page("run `npm run bench:nope -- --help` and `npm run dev`"), { dev: "" })).toEqual(
      ["docs/planted.md: no npm script bench:nope"],
    );
  });

  it("a link to a missing file or heading", () => {
    expect(linkProblems(page("[a](missing.md) [b](api.md#no-such-heading) [c](api.md#routes)"))).toEqual([
      "docs/planted.md: link to missing.md: no file docs/missing.md",
      "docs/planted.md: link to api.md#no-such-heading: docs/api.md has no heading #no-such-heading",
    ]);
  });
});
