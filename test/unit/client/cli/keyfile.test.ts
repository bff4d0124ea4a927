// The CLI's key file: round trip, mode 0600, atomic update, refusal of corrupt or mismatched files.
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createKeyFile,
  defaultKeyFilePath,
  loadOrCreateKeyFile,
  newKeyFile,
  readKeyFile,
  updateKeyFile,
} from "../../../../client/node/keyfile.js";
import { devKeyPair } from "../../../../shared/crypto/keys.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "aspec-keyfile-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const mode = async (p: string) => (await stat(p)).mode & 0o777;

describe("key file", () => {
  it("round-trips and is created with mode 0600 in a fresh directory", async () => {
    const path = join(dir, "nested", "deeper", "key.json");
    const k = await newKeyFile();
    await createKeyFile(path, k);
    expect(await readKeyFile(path)).toEqual(k);
    expect(await mode(path)).toBe(0o600);
    expect(JSON.parse(await readFile(path, "utf8"))).toEqual({
      secret: k.secret,
      publicKey: k.publicKey,
      nextSeq: 1,
    });
  });

  it("updates atomically, keeping mode 0600 and the key", async () => {
    const path = join(dir, "update.json");
    const k = await newKeyFile();
    await createKeyFile(path, k);
    await updateKeyFile(path, { ...k, nextSeq: 17 });
    expect(await readKeyFile(path)).toEqual({ ...k, nextSeq: 17 });
    expect(await mode(path)).toBe(0o600);
  });

  it("never overwrites an existing key on create", async () => {
    const path = join(dir, "once.json");
    const k = await newKeyFile();
    await createKeyFile(path, k);
    await expect(createKeyFile(path, await newKeyFile())).rejects.toMatchObject({ code: "EEXIST" });
    expect(await readKeyFile(path)).toEqual(k);
  });

  it("loadOrCreate creates on first use, then returns the same key", async () => {
    const path = join(dir, "first-use", "key.json");
    const a = await loadOrCreateKeyFile(path);
    const b = await loadOrCreateKeyFile(path);
    expect(a.created).toBe(true);
    expect(b).toEqual({ key: a.key, created: false });
    expect(await readKeyFile(join(dir, "absent.json"))).toBeNull();
  });

  it("refuses corrupt files and a public key that is not the secret's", async () => {
    const other = await devKeyPair("client-test", "other");
    const k = await newKeyFile();
    const cases: [string, string][] = [
      ["not json", "not JSON"],
      ["{}", "no secret"],
      [JSON.stringify({ secret: "abc", publicKey: k.publicKey }), "not a base64url 32-byte seed"],
      [JSON.stringify({ secret: k.secret, publicKey: other.publicKey }), "does not match"],
      [JSON.stringify({ ...k, nextSeq: 0 }), "bad nextSeq"],
    ];
    for (const [i, [text, why]] of cases.entries()) {
      const path = join(dir, `bad-${i}.json`);
      await writeFile(path, text);
      await expect(readKeyFile(path)).rejects.toMatchObject({
        code: "invalid_key",
        message: expect.stringContaining(why),
      });
    }
  });

  it("defaults to ASPEC_KEY_FILE, else ~/.config/aspec/key.json", () => {
    expect(defaultKeyFilePath({ ASPEC_KEY_FILE: "/x/k.json" })).toBe("/x/k.json");
    expect(defaultKeyFilePath({})).toMatch(/\.config\/aspec\/key\.json$/);
  });
});
