/**
 * `aspec`: the command-line client, a thin layer over the SDK. `client/bin/aspec.js` loads this file
 * through tsx; `npm run aspec -- …` runs it directly. See `USAGE` in `cli/args.ts`.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Json } from "../shared/canonical.js";
import type { TypeName } from "../shared/datatypes/index.js";
import { isAspecError } from "../shared/errors.js";
import { UsageError, USAGE, parseCli, type Invocation } from "./cli/args.js";
import { COMMAND_HELP } from "./cli/help.js";
import { runEvidence } from "./cli/evidence.js";
import {
  clusterLines,
  listLines,
  opLine,
  readLine,
  replicaLines,
  verifyLines,
  watchLine,
} from "./cli/output.js";
import { parseOpLines } from "./cli/op-lines.js";
import { readFile } from "node:fs/promises";
import { LIST_LIMIT_MAX } from "../shared/kv-list.js";
import { BATCH_OPS_MAX } from "../shared/op-limits.js";
import { packageVersion } from "./node/version.js";
import { AspecClient, type ConnectOptions } from "./client.js";
import { ReplyVerificationError, isAspecClientError } from "./errors.js";
import type { FetchFn } from "./transport.js";
import { createKeyFile, loadOrCreateKeyFile, newKeyFile, updateKeyFile } from "./node/keyfile.js";

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  env: NodeJS.ProcessEnv;
  /** A `fetch` for the SDK (tests); the global one otherwise. */
  fetch?: FetchFn;
  /** Ends `watch` (Ctrl-C does, by default). */
  signal?: AbortSignal;
}

const processIo: CliIo = {
  out: (l) => process.stdout.write(l + "\n"),
  err: (l) => process.stderr.write(l + "\n"),
  env: process.env,
};

/** Runs one command; resolves to its exit code (1 for an op the replica answered `rejected`). */
async function run(inv: Invocation, io: CliIo): Promise<number> {
  const print = (value: unknown, human: () => string | string[]): number => {
    if (inv.json) io.out(JSON.stringify(value));
    else {
      const h = human();
      for (const l of Array.isArray(h) ? h : [h]) io.out(l);
    }
    return 0;
  };
  const cmd = inv.command;
  // One op per process: nothing to wait for (k = ∞), and the process ends when the command does.
  const connect = (o: Partial<ConnectOptions> = {}) =>
    AspecClient.connect({
      endpoint: inv.endpoint,
      ...(inv.replica === undefined ? {} : { replica: inv.replica }),
      ...(io.fetch ? { fetch: io.fetch } : {}),
      maxUncertified: Infinity,
      ...o,
    });
  switch (cmd.kind) {
    case "help":
      io.out(cmd.topic === undefined ? USAGE : COMMAND_HELP[cmd.topic]!);
      return 0;
    case "version":
      io.out(packageVersion());
      return 0;
    case "keygen": {
      const key = await newKeyFile();
      if (cmd.out === undefined) return print(key, () => JSON.stringify(key, null, 2));
      await createKeyFile(cmd.out, key).catch((e: NodeJS.ErrnoException) => {
        throw e.code === "EEXIST" ? new Error(`${cmd.out} exists; not overwriting a key`) : e;
      });
      return print(
        { publicKey: key.publicKey, file: cmd.out },
        () => `wrote ${cmd.out} (public key ${key.publicKey})`,
      );
    }
    case "replicas": {
      const c = await connect({ replica: undefined });
      return print({ replicas: c.replicas }, () => replicaLines(c.replicas));
    }
    case "cluster": {
      const c = await connect();
      const latest = await c.latestCertificate();
      return print({ cluster: c.cluster, latest }, () => clusterLines(c.cluster, latest));
    }
    case "verify": {
      const c = await connect();
      const r = await c.opStatus(cmd.opId);
      if (!r.certified) {
        if (inv.json) io.out(JSON.stringify({ verified: false, pending: true, reply: r }));
        else io.err(`aspec: op ${cmd.opId} is not certified at replica ${r.replica} yet`);
        return 1;
      }
      return print({ verified: true, reply: r }, () => verifyLines(r, c.cluster));
    }
    case "watch": {
      const c = await connect();
      const stop = io.signal ?? ctrlC();
      let last = "";
      for (let i = 0; cmd.count === undefined || i < cmd.count; i++) {
        if (stop.aborted) break;
        if (i > 0) await sleepUnless(cmd.intervalMs, stop);
        if (stop.aborted) break;
        const r = await c.get(cmd.key);
        const now = JSON.stringify([r.value, r.certified?.seq ?? null, r.certified?.value ?? null]);
        if (now === last) continue;
        last = now;
        if (inv.json) io.out(JSON.stringify(r));
        else io.out(watchLine(r, new Date()));
      }
      return 0;
    }
    case "get": {
      const c = await connect();
      const r = await c.get(cmd.key);
      return print(r, () => readLine(r));
    }
    case "evidence":
      return runEvidence(cmd, inv.endpoint, print);
    case "del": {
      // Without --type, the key's type as the home replica reads it: a key it holds nothing at
      // (never written, or deleted already) has none, so there is nothing this command could sign.
      let type: TypeName | undefined = cmd.type;
      if (type === undefined) {
        const read = await (await connect()).get(cmd.key);
        if (read.type === null) {
          if (inv.json) io.out(JSON.stringify({ deleted: false, absent: true, reply: read }));
          else
            io.err(
              `aspec: '${cmd.key}' holds nothing at replica ${read.replica} (pass --type to delete anyway)`,
            );
          return 1;
        }
        type = read.type;
      }
      return submitOp(inv, connect, print, { key: cmd.key, type, op: "delete", args: {} });
    }
    case "ls": {
      const c = await connect();
      let left = cmd.limit ?? Infinity;
      let cursor: string | undefined;
      do {
        const page = await c.list(cmd.prefix, { cursor, limit: Math.min(left, LIST_LIMIT_MAX) });
        left -= page.entries.length;
        print(page, () => listLines(page));
        cursor = page.cursor ?? undefined;
      } while (cursor !== undefined && left > 0);
      return 0;
    }
    case "batch": {
      const intents = parseOpLines(await readFile(cmd.file, "utf8"), cmd.file);
      const { key } = await loadOrCreateKeyFile(inv.keyFile);
      const c = await connect({ key, seq: key.nextSeq });
      // Reserve the seqs before sending, as for one op: a crash after the send skips them.
      await updateKeyFile(inv.keyFile, { ...key, nextSeq: key.nextSeq + intents.length });
      let refused = false;
      try {
        for (let i = 0; i < intents.length; i += BATCH_OPS_MAX) {
          for (const r of await c.batch(intents.slice(i, i + BATCH_OPS_MAX))) {
            if (!r.ok) {
              refused = true;
              const e = r.error as Error & { code?: string };
              if (inv.json)
                io.out(JSON.stringify(isAspecError(e) ? e.toBody() : { error: { message: e.message } }));
              else io.out(`refused: ${e.code ?? "error"}: ${e.message}`);
              continue;
            }
            if (r.reply.tentative.status === "rejected") refused = true;
            print(r.reply, () => opLine(r.reply));
          }
        }
      } finally {
        await updateKeyFile(inv.keyFile, {
          ...key,
          nextSeq: Math.max(c.nextSeq, key.nextSeq + intents.length),
        });
      }
      return refused ? 1 : 0;
    }
    case "op":
      return submitOp(inv, connect, print, cmd);
  }
}

/** Sign and send one op with the key file's next seq; 1 if it was answered `rejected`. */
async function submitOp(
  inv: Invocation,
  connect: (o?: Partial<ConnectOptions>) => Promise<AspecClient>,
  print: (value: unknown, human: () => string | string[]) => number,
  cmd: { key: string; type: TypeName; op: string; args: { [k: string]: Json } },
): Promise<number> {
  const { key } = await loadOrCreateKeyFile(inv.keyFile);
  const c = await connect({ key, seq: key.nextSeq });
  // Reserve the seq before sending: a crash after the send then skips a seq rather than reusing it.
  await updateKeyFile(inv.keyFile, { ...key, nextSeq: key.nextSeq + 1 });
  try {
    const r = await c.submit(cmd.key, cmd.type, cmd.op, cmd.args);
    print(r, () => opLine(r));
    // A refused op (e.g. an overdrawing withdraw, a delete of a non-empty account) is the server
    // saying no: not a success.
    return r.tentative.status === "rejected" ? 1 : 0;
  } finally {
    await updateKeyFile(inv.keyFile, { ...key, nextSeq: Math.max(c.nextSeq, key.nextSeq + 1) });
  }
}

/** Aborted on the first Ctrl-C (the second one kills, as usual). */
function ctrlC(): AbortSignal {
  const ac = new AbortController();
  process.once("SIGINT", () => ac.abort());
  return ac.signal;
}

function sleepUnless(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((done) => {
    const t = setTimeout(done, ms);
    signal.addEventListener("abort", () => (clearTimeout(t), done()), { once: true });
  });
}

/**
 * Run the CLI; resolves to the exit code: 0 ok, 1 refused by the server (an error, or an op answered
 * `rejected`) or an unverifiable reply, 2 usage error.
 */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  let inv: Invocation;
  try {
    inv = parseCli(argv, io.env);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.err(`aspec: ${e.message}`);
    io.err("try 'aspec --help'");
    return 2;
  }
  try {
    return await run(inv, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`aspec: ${e.message}`); // a batch file's line, read once the command runs
      return 2;
    }
    if (isAspecError(e) || isAspecClientError(e)) {
      const details =
        isAspecError(e) && e.details !== undefined
          ? e.details
          : e instanceof ReplyVerificationError
            ? { reason: e.reason, replica: e.replica }
            : undefined;
      if (inv.json) io.out(JSON.stringify({ error: { code: e.code, message: e.message, details } }));
      else
        io.err(`aspec: ${e.code}: ${e.message}${details === undefined ? "" : ` ${JSON.stringify(details)}`}`);
      return 1;
    }
    io.err(`aspec: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

const invokedDirectly = (() => {
  try {
    return (
      !!process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))
    );
  } catch {
    return false;
  }
})();
if (invokedDirectly) process.exitCode = await main(process.argv.slice(2));
