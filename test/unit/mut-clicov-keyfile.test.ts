// The key file under contention and failure: concurrent first uses end with one identity, and a
// key file that cannot be created or replaced is an error, never a silent success or a null key.
import { mkdir, mkdtemp, readdir, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createKeyFile,
  loadOrCreateKeyFile,
  newKeyFile,
  readKeyFile,
  updateKeyFile,
} from "../../client/node/keyfile.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "aspec-keyfile-mut-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

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
    const { SEQ_MAX } = await import("../../shared/ops.js");
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
