/** Per-command help of `aspec` (`aspec counter --help`); the overview is `USAGE` in args.ts. */
import { EVIDENCE_HELP } from "./evidence.js";

const COMMON = `options:
  --endpoint URL     edge Worker URL (env ASPEC_ENDPOINT)
  --replica NAME     home replica (default: chosen by the server)
  --key-file FILE    key file (env ASPEC_KEY_FILE, default ~/.config/aspec/key.json)
  --json             machine-readable output`;

const op = (form: string, what: string, example: string) =>
  `usage: aspec ${form}\n\n${what}\n\nexample: ${example}\n\n${COMMON}\n\nexit codes: 0 ok, 1 refused by the server (or answered rejected), 2 usage error`;

export const COMMAND_HELP: Readonly<Record<string, string>> = {
  keygen: `usage: aspec keygen [--out FILE]\n\nA new Ed25519 key: printed, or written to FILE (mode 0600; an existing FILE is never overwritten).\n\nexample: aspec keygen --out ./key.json`,
  counter: op(
    "counter add KEY N",
    "Add the integer N (may be negative) to the counter KEY.",
    "aspec counter add hits 1",
  ),
  register: op(
    "register set KEY JSON | register cas KEY EXPECTED JSON",
    "Set the register KEY to a JSON value (a string needs its quotes). cas: set it only if it holds\nEXPECTED (a JSON value; null: absent), else answered rejected (cas_failed); a cas that loses a race\nis certified rejected later.",
    `aspec register set title '"hi"' && aspec register cas title '"hi"' '"hello"'`,
  ),
  set: op("set add|remove KEY X", "Add or remove the string X in the set KEY.", "aspec set add tags x"),
  account: op(
    "account deposit|withdraw KEY N",
    "Deposit or withdraw the positive integer N; a withdraw beyond the balance is answered rejected.",
    "aspec account deposit alice 10",
  ),
  ns: op(
    "ns claim NS | ns grant NS PUBLICKEY ROLE | ns revoke NS PUBLICKEY | ns show NS",
    "Who may write in namespace NS (the key NS and every key NS/…). claim: become its owner, unless it is\nclaimed already (answered rejected, namespace_taken). grant: an owner gives PUBLICKEY, or * (everyone),\none role: owner, writer, or one op such as account.deposit. revoke: an owner takes it back. show: the\nrecord at @NS, its members and their roles. A write the namespace does not allow is refused\n(403 not_authorized).",
    "aspec ns claim wallet && aspec ns grant wallet '*' account.deposit",
  ),
  get: op("get KEY", "Read KEY at the home replica (its tentative value).", "aspec get hits"),
  del: op(
    "del KEY [--type register|counter|set|account]",
    'Delete KEY. Without --type, the type the home replica reads for KEY (a key it holds nothing at: exit 1).\nA read afterwards answers as for a never-written key; once certified, a certified read proves absence.\nAn account is deleted only at balance 0 (else answered rejected, not_empty). A delete merges with\nconcurrent writes by each type\'s rule (docs/api.md, "Deleting a key").',
    "aspec del hits",
  ),
  ls: `usage: aspec ls [PREFIX] [--limit N] [--endpoint URL] [--replica NAME] [--json]\n\nList the keys starting with PREFIX (all keys without one) at the home replica, in byte order, a page\n(up to 1,000 keys) per request until the last: each key's type, tentative value and certified value\n(as of the page's certificate; 'aspec get KEY' or the SDK's getCertified proves one). --limit N stops\nafter N keys. --json prints each page's signed reply, one per line.\n\nexample: aspec ls wallet/ --limit 20\n\nexit codes: 0 ok, 1 refused or an unverifiable reply, 2 usage error`,
  batch: `usage: aspec batch FILE [--endpoint URL] [--replica NAME] [--key-file FILE] [--json]\n\nSend the ops of FILE, one JSON object {"key", "type", "op", "args"} per line (blank lines skipped),\nsigned with the key file's key, in batches of up to 100 ops, each batch one request (POST\n/v1/ops/batch) decided in order by one replica. Prints one line per op, in order (--json: the reply\nor {"error"} of each).\n\nexample: aspec batch ops.jsonl\n\nexit codes: 0 every op ok, 1 any op refused or answered rejected, 2 usage error`,
  evidence: EVIDENCE_HELP,
  replicas: `usage: aspec replicas [--endpoint URL] [--json]\n\nList the replicas and their public keys.`,
  cluster: `usage: aspec cluster [--endpoint URL] [--replica NAME] [--json]\n\nThe PBFT cluster every certificate is checked against (id, f, nodes and keys, config digest), and the\nhome replica's newest certificate, verified (seq, signers, roots).\n\nexample: aspec cluster --json`,
  verify: `usage: aspec verify OPID [--endpoint URL] [--replica NAME] [--json]\n\nFetch the op's certified result from the replica and check it: the certificate (2f+1 signers of the\npinned cluster), its seq, and the result's proof path to the certificate's resultsRoot. Prints the chain.\n\nexample: aspec verify <client key>:7\n\nexit codes: 0 certified and verified, 1 not certified (yet), refused, or not verifying, 2 usage error`,
  watch: `usage: aspec watch KEY [--interval MS] [--count N] [--endpoint URL] [--replica NAME] [--json]\n\nRead KEY every MS ms (default 1000) and print a line each time its tentative or certified value\nchanges (every certified value's proof checked). Ctrl-C ends; --count N stops after N reads.\n\nexample: aspec watch hits --interval 500`,
};
