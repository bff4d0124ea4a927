// The commands that need no server, run in-process (`main`): `aspec keygen` (a key is an identity:
// printed whole, or written once and never overwritten), usage errors, and how one op reply reads.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main, type CliIo } from "../../../../client/cli.js";
import { opLine } from "../../../../client/cli/output.js";
import { parseKeyFile, readKeyFile } from "../../../../client/node/keyfile.js";
import { opIdOf, parseOp } from "../../../../shared/ops.js";
import { signErrorReply, type OpReply } from "../../../../shared/replies.js";
import { TestDeployment } from "../../../support/sdk-deployment.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "aspec-cli-local-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function aspec(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), env: {} };
  return { code: await main(argv, io), out, err };
}

describe("aspec keygen", () => {
  it("without --out prints a complete key file (secret, public key, nextSeq 1), human or --json", async () => {
    const human = await aspec(["keygen"]);
    expect(human.code).toBe(0);
    expect(human.err).toEqual([]);
    const text = human.out.join("\n");
    const key = await parseKeyFile("<stdout>", text); // the public key is the secret's
    expect(key.nextSeq).toBe(1);
    expect(text).toBe(JSON.stringify(key, null, 2));
    const json = await aspec(["keygen", "--json"]);
    expect(json.out).toHaveLength(1);
    const k2 = await parseKeyFile("<stdout>", json.out[0]!);
    expect(k2.publicKey).not.toBe(key.publicKey); // a new key each time
  });

  it("--out writes the key file and says where, with the public key", async () => {
    const out = join(dir, "new", "k.json");
    const r = await aspec(["keygen", "--out", out]);
    expect(r.code).toBe(0);
    const k = (await readKeyFile(out))!;
    expect(r.out).toEqual([`wrote ${out} (public key ${k.publicKey})`]);
    const j = await aspec(["keygen", "--out", join(dir, "new", "k2.json"), "--json"]);
    const k2 = (await readKeyFile(join(dir, "new", "k2.json")))!;
    expect(j.out.map((l) => JSON.parse(l))).toEqual([
      { publicKey: k2.publicKey, file: join(dir, "new", "k2.json") },
    ]);
  });

  it("refuses to overwrite an existing key file: exit 1, the old key intact", async () => {
    const out = join(dir, "once.json");
    await aspec(["keygen", "--out", out]);
    const before = await readFile(out, "utf8");
    const r = await aspec(["keygen", "--out", out]);
    expect(r).toEqual({ code: 1, out: [], err: [`aspec: ${out} exists; not overwriting a key`] });
    expect(await readFile(out, "utf8")).toBe(before);
  });

  it("reports any other file error as it is, not as an existing key", async () => {
    const file = join(dir, "plain-file");
    await writeFile(file, "x");
    const out = join(file, "sub", "k.json"); // under a regular file: ENOTDIR
    const r = await aspec(["keygen", "--out", out]);
    expect(r.code).toBe(1);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(/^aspec: ENOTDIR: not a directory/);
    expect(r.err[0]).not.toContain("not overwriting");
  });
});

describe("usage errors", () => {
  it("name the op a type does not have, and the ones it has", async () => {
    expect(await aspec(["register", "add", "k", "1"])).toEqual({
      code: 2,
      out: [],
      err: ["aspec: register has no op 'add' (set, cas)", "try 'aspec --help'"],
    });
  });
});

describe("an op reply, human-readable", () => {
  const reply = (over: Partial<OpReply>): OpReply =>
    ({
      kind: "op",
      opId: "K:1",
      key: "alice",
      type: "account",
      tentative: { status: "ok", value: 3 },
      replica: "weur",
      certificate: null,
      certification: "none",
      uncertified: 1,
      duplicate: false,
      time: 0,
      sig: "",
      ...over,
    }) as OpReply;

  it("marks a duplicate (the replica had the op already: nothing was applied twice)", () => {
    expect(opLine(reply({ duplicate: true }))).toBe(
      'ok duplicate: account "alice" = 3  [replica weur, op K:1, uncertified 1]',
    );
    expect(opLine(reply({}))).toBe('ok: account "alice" = 3  [replica weur, op K:1, uncertified 1]');
  });

  it("says a refusal came without a reason rather than printing 'undefined'", () => {
    expect(opLine(reply({ tentative: { status: "rejected", value: 3 } }))).toBe(
      'rejected (no reason): account "alice" = 3  [replica weur, op K:1, uncertified 1]',
    );
  });
});

describe("an op signs with the key file's key and reserves its seq", () => {
  it("the seq is in the key file before the op is sent, and each op takes the next one", async () => {
    const d = await TestDeployment.create();
    const keyFile = join(dir, "ops", "key.json");
    const seen: number[] = [];
    const io: CliIo = {
      out: () => {},
      err: () => {},
      env: { ASPEC_KEY_FILE: keyFile },
      fetch: async (u, init) => {
        if (init?.method === "POST") seen.push((await readKeyFile(keyFile))!.nextSeq);
        return d.fetch(u, init);
      },
    };
    const argv = ["counter", "add", "k", "1", "--endpoint", "http://deployment.test", "--replica", "weur"];
    expect(await main(argv, io)).toBe(0);
    expect(await main(argv, io)).toBe(0);
    const key = (await readKeyFile(keyFile))!;
    expect(seen).toEqual([2, 3]); // seq 1, then seq 2, each reserved before its send
    expect(key.nextSeq).toBe(3);
    expect(d.replica("weur").ops.has(`${key.publicKey}:1`)).toBe(true);
    expect(d.replica("weur").ops.has(`${key.publicKey}:2`)).toBe(true);
  });

  it("a key file behind the replica (seq_replayed with lastSeq): the op goes out past it, and the file keeps the seq after", async () => {
    const d = await TestDeployment.create();
    const keyFile = join(dir, "ops", "behind.json");
    const weur = d.replica("weur");
    const posted: number[] = [];
    const io: CliIo = {
      out: () => {},
      err: () => {},
      env: { ASPEC_KEY_FILE: keyFile },
      fetch: async (u, init) => {
        if (init?.method !== "POST") return d.fetch(u, init);
        const op = parseOp(JSON.parse(String(init.body)));
        posted.push(op.seq);
        if (op.seq > 41) return d.fetch(u, init);
        // the replica has seen this key's seqs up to 41 (the key file was restored without its seq)
        const refusal = await signErrorReply(weur.key.secret, {
          error: { code: "seq_replayed", message: "seen", details: { lastSeq: 41 } },
          kind: "error",
          replica: "weur",
          opId: opIdOf(op),
          time: d.time,
          nonce: new Headers(init.headers).get("x-aspec-nonce") ?? "", // signed back, as a replica does
        });
        return Response.json(refusal, { status: 409 });
      },
    };
    const argv = ["counter", "add", "k", "1", "--endpoint", "http://deployment.test", "--replica", "weur"];
    expect(await main(argv, io)).toBe(0);
    expect(posted).toEqual([1, 42]);
    const key = (await readKeyFile(keyFile))!;
    expect(key.nextSeq).toBe(43); // not 2: the next op would be refused again
    expect(weur.ops.has(`${key.publicKey}:42`)).toBe(true);
    expect(await main(argv, io)).toBe(0);
    expect(posted).toEqual([1, 42, 43]);
  });
});
