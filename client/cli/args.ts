/** Command-line parsing for `aspec`: argv → a typed command, or a `UsageError` (exit code 2). */
import { parseArgs } from "node:util";
import type { Json } from "../../shared/canonical.js";
import type { TypeName } from "../../shared/datatypes/index.js";
import { defaultKeyFilePath } from "../node/keyfile.js";
import { COMMAND_HELP } from "./help.js";
import { parseEvidence, type EvidenceCommand } from "./evidence.js";

export const DEFAULT_ENDPOINT = "http://127.0.0.1:8787";

export type Command =
  | { kind: "help"; topic?: string }
  | { kind: "version" }
  | { kind: "keygen"; out: string | undefined }
  | { kind: "replicas" }
  | { kind: "get"; key: string }
  | { kind: "cluster" }
  | { kind: "verify"; opId: string }
  | { kind: "watch"; key: string; intervalMs: number; count: number | undefined }
  | { kind: "op"; key: string; type: TypeName; op: string; args: { [k: string]: Json } }
  /** `type` undefined: the key's type as the home replica reads it. */
  | { kind: "del"; key: string; type: DeletableType | undefined }
  | { kind: "ls"; prefix: string; limit: number | undefined }
  | { kind: "batch"; file: string }
  | EvidenceCommand;

/** The types `aspec del --type` takes (every user type; a namespace record is not deleted). */
export const DELETABLE_TYPES = ["register", "counter", "set", "account"] as const;
export type DeletableType = (typeof DELETABLE_TYPES)[number];

export interface Invocation {
  command: Command;
  endpoint: string;
  replica: string | undefined;
  keyFile: string;
  json: boolean;
}

export class UsageError extends Error {
  override name = "UsageError";
}

export const USAGE = `usage: aspec <command> [options]

commands:
  keygen [--out FILE]              new key; printed, or written to FILE (mode 0600)
  counter add KEY N                add integer N (may be negative)
  register set KEY JSON            set the register to a JSON value, e.g. '"hi"' or '{"a":1}'
  register cas KEY EXPECTED JSON   set it only if it holds EXPECTED (null: absent); else
                                   answered rejected (cas_failed), exit 1
  set add|remove KEY X             add / remove string X
  account deposit|withdraw KEY N   N a positive integer
  get KEY                          read KEY at the home replica
  del KEY [--type T]               delete KEY (T: register, counter, set, account; default:
                                   the type the home replica reads); an account only at 0
  ls [PREFIX] [--limit N]          list keys starting with PREFIX in byte order, page by page
                                   (--limit N: the first N only)
  batch FILE                       send the ops of FILE (JSON lines {key, type, op, args}) in
                                   batches of 100, one request each; exit 1 if any is refused
  replicas                         list replicas and their public keys
  cluster                          the pinned PBFT cluster and its newest certificate, verified
  verify OPID                      an op's proof chain (certificate signers, seq, resultsRoot,
                                   proof path); exit 1 unless it is certified and verifies
  watch KEY [--interval MS]        follow KEY live: tentative vs certified value (Ctrl-C ends;
            [--count N]            --count N stops after N reads)
  ns claim NS                      become the owner of namespace NS (keys NS and NS/…)
  ns grant NS PUBLICKEY ROLE       an owner grants ROLE (owner, writer, or one op such as
                                   account.deposit) to PUBLICKEY, or to * (everyone)
  ns revoke NS PUBLICKEY           an owner revokes PUBLICKEY's role
  ns show NS                       read NS's record: its members and their roles
  evidence submit FILE             submit evidence that a replica lied (POST /v1/evidence)

options:
  --endpoint URL     edge Worker URL (env ASPEC_ENDPOINT, default ${DEFAULT_ENDPOINT})
  --replica NAME     home replica (default: chosen by the server)
  --key-file FILE    key file (env ASPEC_KEY_FILE, default ~/.config/aspec/key.json);
                     created on first use, holds {secret, publicKey, nextSeq}
  --json             machine-readable output
  -h, --help         this text; 'aspec COMMAND --help' for one command
  --version          the version of aspec

exit codes: 0 ok, 1 refused by the server (an error, or an op answered rejected, e.g. an
            overdrawing withdraw), an unverifiable reply, or an op not (yet) certified (verify),
            2 usage error`;

const OPTIONS = {
  endpoint: { type: "string" },
  replica: { type: "string" },
  "key-file": { type: "string" },
  out: { type: "string" },
  interval: { type: "string" },
  count: { type: "string" },
  type: { type: "string" },
  limit: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
} as const;

// parseArgs takes any "-…" for an option; a negative number is a value here, and so is an op id
// whose client key starts with "-" (base64url), so hide them from it.
const NEG = "\u0000neg:";
const OP_ID_RE = /^[A-Za-z0-9_-]{43}:[1-9][0-9]{0,15}$/;
/** A public key (`ns grant`, `ns revoke`) may start with "-" too. */
const PUBLIC_KEY_RE = /^[A-Za-z0-9_-]{43}$/;
const hideNegatives = (argv: string[]) =>
  argv.map((a) =>
    /^-\d/.test(a) || (a.startsWith("-") && (OP_ID_RE.test(a) || PUBLIC_KEY_RE.test(a))) ? NEG + a : a,
  );
const unhide = (s: string) => (s.startsWith(NEG) ? s.slice(NEG.length) : s);

function integer(s: string, what: string): number {
  const n = Number(s);
  if (!/^-?\d+$/.test(s) || !Number.isSafeInteger(n))
    throw new UsageError(`${what} must be an integer, got '${s}'`);
  return n;
}

function jsonValue(s: string): Json {
  try {
    return JSON.parse(s) as Json;
  } catch {
    throw new UsageError(`not JSON: '${s}' (a string needs quotes: '"hi"')`);
  }
}

function arity(pos: string[], n: number, form: string): void {
  if (pos.length !== n) throw new UsageError(`usage: aspec ${form}`);
}

interface Extra {
  out: string | undefined;
  interval: string | undefined;
  count: string | undefined;
  type: string | undefined;
  limit: string | undefined;
}

function positive(s: string, what: string): number {
  const n = integer(s, what);
  if (n < 1) throw new UsageError(`${what} must be ≥ 1, got '${s}'`);
  return n;
}

function command(pos: string[], x: Extra): Command {
  const [name, sub] = pos;
  const { out } = x;
  if (out !== undefined && name !== "keygen") throw new UsageError("--out is only for keygen");
  if ((x.interval !== undefined || x.count !== undefined) && name !== "watch")
    throw new UsageError("--interval and --count are only for watch");
  if (x.type !== undefined && name !== "del") throw new UsageError("--type is only for del");
  if (x.limit !== undefined && name !== "ls") throw new UsageError("--limit is only for ls");
  switch (name) {
    case undefined:
      throw new UsageError("no command");
    case "keygen":
      arity(pos, 1, "keygen [--out FILE]");
      return { kind: "keygen", out };
    case "replicas":
      arity(pos, 1, "replicas");
      return { kind: "replicas" };
    case "cluster":
      arity(pos, 1, "cluster");
      return { kind: "cluster" };
    case "verify":
      arity(pos, 2, "verify OPID");
      if (!OP_ID_RE.test(pos[1]!))
        throw new UsageError(`not an op id: '${pos[1]}' (it is <client public key>:<seq>)`);
      return { kind: "verify", opId: pos[1]! };
    case "watch":
      arity(pos, 2, "watch KEY [--interval MS] [--count N]");
      return {
        kind: "watch",
        key: pos[1]!,
        intervalMs: x.interval === undefined ? 1000 : positive(x.interval, "--interval"),
        count: x.count === undefined ? undefined : positive(x.count, "--count"),
      };
    case "get":
      arity(pos, 2, "get KEY");
      return { kind: "get", key: pos[1]! };
    case "del":
      arity(pos, 2, "del KEY [--type T]");
      if (x.type !== undefined && !(DELETABLE_TYPES as readonly string[]).includes(x.type))
        throw new UsageError(`--type takes ${DELETABLE_TYPES.join(", ")}; got '${x.type}'`);
      return { kind: "del", key: pos[1]!, type: x.type as DeletableType | undefined };
    case "ls":
      if (pos.length > 2) throw new UsageError("usage: aspec ls [PREFIX] [--limit N]");
      return {
        kind: "ls",
        prefix: pos[1] ?? "",
        limit: x.limit === undefined ? undefined : positive(x.limit, "--limit"),
      };
    case "batch":
      arity(pos, 2, "batch FILE");
      return { kind: "batch", file: pos[1]! };
    case "counter":
      arity(pos, 4, "counter add KEY N");
      if (sub !== "add") throw new UsageError(`counter has no op '${sub}' (add)`);
      return { kind: "op", key: pos[2]!, type: "counter", op: "add", args: { n: integer(pos[3]!, "N") } };
    case "register":
      if (sub === "cas") {
        arity(pos, 5, "register cas KEY EXPECTED JSON");
        const args = { expected: jsonValue(pos[3]!), v: jsonValue(pos[4]!) };
        return { kind: "op", key: pos[2]!, type: "register", op: "cas", args };
      }
      arity(pos, 4, "register set KEY JSON");
      if (sub !== "set") throw new UsageError(`register has no op '${sub}' (set, cas)`);
      return { kind: "op", key: pos[2]!, type: "register", op: "set", args: { v: jsonValue(pos[3]!) } };
    case "set":
      arity(pos, 4, "set add|remove KEY X");
      if (sub !== "add" && sub !== "remove") throw new UsageError(`set has no op '${sub}' (add, remove)`);
      return { kind: "op", key: pos[2]!, type: "set", op: sub, args: { x: pos[3]! } };
    case "account":
      arity(pos, 4, "account deposit|withdraw KEY N");
      if (sub !== "deposit" && sub !== "withdraw")
        throw new UsageError(`account has no op '${sub}' (deposit, withdraw)`);
      return { kind: "op", key: pos[2]!, type: "account", op: sub, args: { n: integer(pos[3]!, "N") } };
    case "ns":
      return namespaceCommand(pos);
    case "evidence":
      return parseEvidence(pos);
    default:
      throw new UsageError(`unknown command '${name}'`);
  }
}

/** `ns claim|grant|revoke|show NS …`: ops on, or a read of, the record at `@NS`. */
function namespaceCommand(pos: string[]): Command {
  const [, sub, ns] = pos;
  const key = `@${ns ?? ""}`;
  const nsOp = (op: string, args: { [k: string]: Json }): Command => ({
    kind: "op",
    key,
    type: "namespace",
    op,
    args,
  });
  switch (sub) {
    case "claim":
      arity(pos, 3, "ns claim NS");
      return nsOp("claim", {});
    case "grant":
      arity(pos, 5, "ns grant NS PUBLICKEY ROLE");
      return nsOp("grant", { publicKey: pos[3]!, role: pos[4]! });
    case "revoke":
      arity(pos, 4, "ns revoke NS PUBLICKEY");
      return nsOp("revoke", { publicKey: pos[3]! });
    case "show":
      arity(pos, 3, "ns show NS");
      return { kind: "get", key };
    default:
      throw new UsageError(`ns has no subcommand '${sub ?? ""}' (claim, grant, revoke, show)`);
  }
}

/** Parse argv (without `node` and the script). Throws `UsageError`. */
export function parseCli(argv: string[], env: NodeJS.ProcessEnv = {}): Invocation {
  let parsed;
  try {
    parsed = parseArgs({ args: hideNegatives(argv), options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const v = parsed.values;
  const opt = (s: string | undefined) => (s === undefined ? undefined : unhide(s));
  const base = {
    endpoint: opt(v.endpoint) ?? (env.ASPEC_ENDPOINT || DEFAULT_ENDPOINT),
    replica: opt(v.replica),
    keyFile: opt(v["key-file"]) ?? defaultKeyFilePath(env),
    json: v.json ?? false,
  };
  if (v.help) {
    const topic = unhide(parsed.positionals[0] ?? "");
    return {
      ...base,
      command: Object.hasOwn(COMMAND_HELP, topic) ? { kind: "help", topic } : { kind: "help" },
    };
  }
  if (v.version) return { ...base, command: { kind: "version" } };
  return {
    ...base,
    command: command(parsed.positionals.map(unhide), {
      out: opt(v.out),
      interval: opt(v.interval),
      count: opt(v.count),
      type: opt(v.type),
      limit: opt(v.limit),
    }),
  };
}
