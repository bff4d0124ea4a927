/**
 * The CLI's key file (Node only): `{ secret, publicKey, nextSeq }`, mode 0600. The seq lives beside
 * the key because a replica refuses a seq it has seen: a key reused without its seq would have its
 * first op refused (the SDK then resyncs, but only once).
 */
import { randomBytes } from "node:crypto";
import { link, mkdir, readFile, rename, writeFile, unlink } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fromB64u } from "../../shared/bytes.js";
import { generateKeyPair, keyPairFromSeed, type KeyPair } from "../../shared/crypto/keys.js";
import { SEQ_MAX } from "../../shared/ops.js";
import { AspecClientError } from "../errors.js";

export interface KeyFile extends KeyPair {
  nextSeq: number;
}

export function defaultKeyFilePath(env: NodeJS.ProcessEnv = process.env): string {
  return env.ASPEC_KEY_FILE || join(homedir(), ".config", "aspec", "key.json");
}

const invalid = (path: string, why: string) =>
  new AspecClientError("invalid_key", `key file ${path}: ${why}`);

/** Parse and check a key file's contents: the public key must be the secret's. */
export async function parseKeyFile(path: string, text: string): Promise<KeyFile> {
  let j: Partial<KeyFile>;
  try {
    j = JSON.parse(text) as Partial<KeyFile>;
  } catch {
    throw invalid(path, "not JSON");
  }
  if (typeof j !== "object" || j === null || typeof j.secret !== "string") throw invalid(path, "no secret");
  let derived: KeyPair;
  try {
    derived = await keyPairFromSeed(fromB64u(j.secret));
  } catch {
    throw invalid(path, "secret is not a base64url 32-byte seed");
  }
  if (j.publicKey !== derived.publicKey) throw invalid(path, "publicKey does not match secret");
  const nextSeq = j.nextSeq ?? 1;
  if (!Number.isSafeInteger(nextSeq) || nextSeq < 1 || nextSeq > SEQ_MAX) throw invalid(path, "bad nextSeq");
  return { secret: derived.secret, publicKey: derived.publicKey, nextSeq };
}

const render = (k: KeyFile) =>
  JSON.stringify({ secret: k.secret, publicKey: k.publicKey, nextSeq: k.nextSeq }, null, 2) + "\n";

/** The key file at `path`, or null if there is none. */
export async function readKeyFile(path: string): Promise<KeyFile | null> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
  return parseKeyFile(path, text);
}

const tmpSibling = (path: string) => `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;

/**
 * Create a key file; refuses to overwrite one (a lost key is a lost identity): EEXIST. The file
 * appears whole (written beside it, then hard-linked into place), so a concurrent reader never
 * sees it empty or half-written.
 */
export async function createKeyFile(path: string, key: KeyFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = tmpSibling(path);
  await writeFile(tmp, render(key), { mode: 0o600, flag: "wx" });
  try {
    await link(tmp, path);
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

/** Replace a key file atomically (write a sibling, then rename), keeping mode 0600. */
export async function updateKeyFile(path: string, key: KeyFile): Promise<void> {
  const tmp = tmpSibling(path);
  try {
    await writeFile(tmp, render(key), { mode: 0o600, flag: "wx" });
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
}

export async function newKeyFile(): Promise<KeyFile> {
  return { ...(await generateKeyPair()), nextSeq: 1 };
}

/** Read the key file, creating it with a new key on first use. */
export async function loadOrCreateKeyFile(path: string): Promise<{ key: KeyFile; created: boolean }> {
  const existing = await readKeyFile(path);
  if (existing) return { key: existing, created: false };
  const key = await newKeyFile();
  try {
    await createKeyFile(path, key);
  } catch (e) {
    // Someone else created it between our read and write: use theirs.
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    const theirs = await readKeyFile(path);
    // Exists, yet reads as absent: a dangling symlink (never written through).
    if (!theirs) throw invalid(path, "exists but cannot be read (a dangling symlink?)");
    return { key: theirs, created: false };
  }
  return { key, created: true };
}
