// The CLI's key file: round trip, mode 0600, atomic update, refusal of corrupt or mismatched files.
import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
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

// The key file under contention and failure: concurrent first uses end with one identity, and a
// key file that cannot be created or replaced is an error, never a silent success or a null key.

describe("loadOrCreateKeyFile", () => {
  it("concurrent first uses (several `aspec` runs at once) all get the one key that was written", async () => {
    // All reads are issued before any write, so every call finds no file and tries to create one;
    // the losers read the winner's file, which must never be seen empty or half-written. Repeated:
    // a torn read was a rare interleaving (about 1 race in 300 before the file appeared whole).
    for (let i = 0; i < 20; i++) {
      const path = join(dir, "race", `key-${i}.json`);
      const all = await Promise.all([1, 2, 3, 4].map(() => loadOrCreateKeyFile(path)));
      const onDisk = await readKeyFile(path);
      expect(onDisk).not.toBeNull();
      expect(all.filter((r) => r.created)).toHaveLength(1);
      for (const r of all) expect(r.key).toEqual(onDisk);
    }
    expect((await readdir(join(dir, "race"))).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("a key file that cannot be created is an error, not a key", async () => {
    await symlink(join(dir, "nowhere"), join(dir, "dangling-dir"));
    const path = join(dir, "dangling-dir", "key.json"); // its directory is a dangling symlink: ENOENT
    await expect(loadOrCreateKeyFile(path)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("a dangling symlink at the key path is refused with a clear error, not returned as a null key", async () => {
    const path = join(dir, "dangling-key.json");
    await symlink(join(dir, "gone.json"), path);
    await expect(loadOrCreateKeyFile(path)).rejects.toMatchObject({
      code: "invalid_key",
      message: expect.stringContaining(path),
    });
  });
});

describe("updateKeyFile", () => {
  it("a failed replace rejects (the seq is not reserved) and leaves no temporary copy of the secret", async () => {
    const parent = join(dir, "upd");
    await mkdir(join(parent, "key.json"), { recursive: true }); // a directory where the file should be
    const key = await newKeyFile();
    await expect(updateKeyFile(join(parent, "key.json"), key)).rejects.toMatchObject({ code: "EISDIR" });
    expect(await readdir(parent)).toEqual(["key.json"]);
  });

  it("a successful replace leaves only the key file", async () => {
    const parent = join(dir, "upd-ok");
    const path = join(parent, "key.json");
    const key = await newKeyFile();
    await createKeyFile(path, key);
    await updateKeyFile(path, { ...key, nextSeq: 9 });
    expect(await readdir(parent)).toEqual(["key.json"]);
    expect(JSON.parse(await readFile(path, "utf8"))).toMatchObject({ nextSeq: 9 });
  });
});

describe("readKeyFile refuses what is not a usable key file", () => {
  it("null JSON, a seq past the op limit, and a directory are errors, never a key or 'no file'", async () => {
    const { writeFile } = await import("node:fs/promises");
    const { SEQ_MAX } = await import("../../../../shared/ops.js");
    const k = await newKeyFile();
    const nul = join(dir, "null.json");
    await writeFile(nul, "null");
    await expect(readKeyFile(nul)).rejects.toMatchObject({ code: "invalid_key" });
    const past = join(dir, "past.json");
    await writeFile(past, JSON.stringify({ ...k, nextSeq: SEQ_MAX + 1 }));
    await expect(readKeyFile(past)).rejects.toMatchObject({ code: "invalid_key" });
    await writeFile(past, JSON.stringify({ ...k, nextSeq: SEQ_MAX }));
    expect(await readKeyFile(past)).toMatchObject({ nextSeq: SEQ_MAX });
    const asDir = join(dir, "is-a-dir.json");
    await mkdir(asDir);
    await expect(readKeyFile(asDir)).rejects.toMatchObject({ code: "EISDIR" });
  });
});
