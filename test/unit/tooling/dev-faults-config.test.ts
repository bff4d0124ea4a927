/**
 * The dev copies of the wrangler configs (scripts/dev-faults-alias.ts). A running `wrangler dev`
 * watches its config and reloads its Workers when the file changes: a server starting beside it
 * must not rewrite it (seen: the crash-restart e2e test's restart rewrote the one shared copy, and
 * the Byzantine-nodes test running beside it lost its nodes mid-test, `setFaults` answered 500).
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { devFaultsConfig } from "../../../scripts/dev-faults-alias.js";

const CONFIG = `{
  "name": "x",
  "alias": { "#dev-faults": "./platform/dev-faults/none.ts" }
}
`;

function fixture(): string {
  const dir = mkdtempSync(join(tmpdir(), "aspec-devcfg-"));
  const config = join(dir, "wrangler.jsonc");
  writeFileSync(config, CONFIG);
  return config;
}

describe("dev fault config copies", () => {
  it("point the alias at the fault module, beside the config", () => {
    const config = fixture();
    const copy = devFaultsConfig(config);
    expect(copy).toBe(join(config, "..", ".dev-faults.wrangler.jsonc"));
    expect(readFileSync(copy, "utf8")).toContain('"./platform/dev-faults/index.ts"');
    expect(readFileSync(config, "utf8")).toBe(CONFIG);
  });

  it("are not written again when they already say the same (a running wrangler dev watches them)", () => {
    const config = fixture();
    const copy = devFaultsConfig(config, "s1");
    const before = statSync(copy);
    expect(devFaultsConfig(config, "s1")).toBe(copy);
    const after = statSync(copy);
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
  });

  it("are one per tag, so servers side by side never share one", () => {
    const config = fixture();
    expect(devFaultsConfig(config, "a")).not.toBe(devFaultsConfig(config, "b"));
  });

  it("leave a config without the alias as it is", () => {
    const dir = mkdtempSync(join(tmpdir(), "aspec-devcfg-"));
    const config = join(dir, "wrangler.toml");
    writeFileSync(config, 'name = "baseline"\n');
    expect(devFaultsConfig(config)).toBe(config);
  });
});
