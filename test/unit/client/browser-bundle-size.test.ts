/**
 * The browser SDK bundle stays within its size target (60 KiB gzipped) and still carries zod's
 * English messages (shared/zod.ts loads that one locale and no other).
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { buildBrowserBundle } from "../../../scripts/browser-bundle.js";

const dir = await mkdtemp(join(tmpdir(), "aspec-bundle-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("browser bundle", () => {
  it("is at most 60 KiB gzipped, with English messages and no other locale", async () => {
    await buildBrowserBundle(dir);
    const js = await readFile(join(dir, "browser", "aspec-client.js"));
    expect(gzipSync(js).byteLength).toBeLessThanOrEqual(60 * 1024);
    const text = js.toString("utf8");
    expect(text).toContain("Invalid input: expected");
    expect(text).not.toContain("Entrada inválida"); // the Spanish locale, as a witness for the others
  });
});
