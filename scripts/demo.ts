/**
 * `npm run demo`: the seed's counter example, told step by step against `wrangler dev` with fault
 * injection. Two clients write one counter at two replicas; one replica (apac) is Byzantine and tells
 * its client wrong values; the certificates say otherwise; the client rolls back, its evidence lands,
 * the replica is quarantined, and the client carries on through another replica.
 *
 * Starts its own `wrangler dev` (fresh state, free port, thrown away at the end) unless `--endpoint
 * URL` names a running one (`npm run dev`, whose .dev.vars sets the dev FAULT_TOKEN and ADMIN_TOKEN;
 * `--token` and `--admin-token` for others). On a server it did not start, the demo puts back what
 * it changed when it ends, fails or is interrupted (Ctrl-C): apac's faults off, the quarantine it
 * caused lifted; what it cannot put back it prints, with the command that does (scripts/demo-restore.ts).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { AspecClient, type EvidenceReport } from "../client/index.js";
import {
  DEV_FAULT_TOKEN,
  REPO_ROOT,
  installCleanup,
  runScript,
  startWranglerDev,
} from "../test/support/wrangler-dev.js";
import { DemoChanges, describeLeftovers } from "./demo-restore.js";

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

/** A variable of the repository's .dev.vars (what `npm run dev` serves with); undefined if absent. */
function devVar(name: string): string | undefined {
  try {
    const text = readFileSync(join(REPO_ROOT, ".dev.vars"), "utf8");
    return new RegExp(`^${name}=(.*)$`, "m").exec(text)?.[1]?.trim();
  } catch {
    return undefined;
  }
}

let step = 0;
const say = (text: string) => console.log(`\n${++step}. ${text}`);
const detail = (text: string) => console.log(`   ${text}`);

/** How long putting things back may wait for the clients' evidence submissions still under way. */
const SUBMISSIONS_WAIT_MS = 5_000;

/**
 * Put back what the demo changed (once), after the clients' evidence submissions in flight have
 * landed (else a quarantine could follow the lift), and say what is left.
 */
async function putBack(
  endpoint: string,
  changes: DemoChanges,
  clients: readonly AspecClient[],
): Promise<void> {
  const settled = Promise.all(clients.map((c) => c.reported()));
  await Promise.race([settled, new Promise((r) => setTimeout(r, SUBMISSIONS_WAIT_MS).unref())]);
  const left = await changes.restore();
  (left.length ? console.error : console.log)(`\n${describeLeftovers(endpoint, left)}`);
  if (left.length) process.exitCode = 1;
}

/** Ctrl-C / SIGTERM on a server the demo did not start: put back first, then exit 130; twice: at once. */
function putBackOnSignal(endpoint: string, changes: DemoChanges, clients: readonly AspecClient[]): void {
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    console.error(`\n${sig}: putting back what the demo changed on ${endpoint} (again to quit at once)...`);
    void putBack(endpoint, changes, clients).finally(() => process.exit(130));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}

async function main(): Promise<void> {
  const given = arg("endpoint");
  const faultToken = arg("token") ?? DEV_FAULT_TOKEN;
  let endpoint: string;
  if (given) endpoint = given.replace(/\/+$/, "");
  else {
    installCleanup();
    console.log("Starting wrangler dev (fresh state) ...");
    endpoint = (await startWranglerDev({ name: "demo", readyPath: "/v1/replicas" })).url;
  }
  const adminToken = arg("admin-token") ?? devVar("ADMIN_TOKEN");
  const changes = new DemoChanges({ endpoint, faultToken, adminToken });
  const clients: AspecClient[] = [];
  if (given) {
    await changes.begin();
    putBackOnSignal(endpoint, changes, clients);
  }
  try {
    await story(endpoint, changes, clients);
  } finally {
    if (given) await putBack(endpoint, changes, clients);
    for (const c of clients) c.close();
  }
}

async function story(endpoint: string, changes: DemoChanges, clients: AspecClient[]): Promise<void> {
  console.log(`Aspec Edge at ${endpoint}: three edge replicas (weur, enam, apac), four PBFT nodes.`);
  const key = `demo/hits-${Date.now().toString(36)}`;

  say("apac turns Byzantine: it will add 1000 to every value it tells its clients, certified ones too.");
  await changes.setFaults("apac", { lieTentative: true, lieCertified: true });
  detail(
    `POST /v1/dev/faults {target: "apac", faults: {lieTentative, lieCertified}} (dev only, token-gated)`,
  );

  const alice = await AspecClient.connect({ endpoint, replica: "weur", maxUncertified: Infinity });
  const bob = await AspecClient.connect({ endpoint, replica: "apac", maxUncertified: Infinity });
  clients.push(alice, bob);
  say(`Alice writes at weur, Bob at apac: each adds 1 to the counter "${key}" (EC: answered at once).`);
  const a1 = await alice.counter(key).add(1);
  detail(`Alice  add 1 → ${a1.tentative.value}   (weur, tentative)`);
  const a2 = await alice.counter(key).add(1);
  detail(`Alice  add 1 → ${a2.tentative.value}   (weur, tentative)`);
  const b1 = await bob.counter(key).add(1);
  detail(`Bob    add 1 → ${b1.tentative.value}   (apac, tentative — a lie, signed by apac)`);

  say("In the background the PBFT cluster orders and executes the ops and signs a certificate.");
  const evidence = new Promise<EvidenceReport>((resolve) => bob.on("evidence", resolve));
  bob.on("unverified", (e) =>
    detail(`Bob's SDK refuses a reply from ${e.replica}: ${e.reason} (the proof does not match the value)`),
  );
  bob.on("failover", (f) => detail(`Bob's SDK fails over: ${f.from} → ${f.to}`));
  bob.on("rollback", (r) =>
    detail(
      `ROLLBACK ${r.opId.slice(0, 8)}…: told ${JSON.stringify(r.tentative.value)}, certified ${JSON.stringify(r.certified.value)} (seq ${r.seq}, via ${r.replica})`,
    ),
  );
  const bc = await b1.certified;
  detail(
    `Bob's op is certified at seq ${bc.seq}: value ${JSON.stringify(bc.result.value)}, checked against the certificate's resultsRoot (${bc.certificate.sigs.length} node signatures)`,
  );
  const ac = await a2.certified;
  detail(`Alice's second op: certified value ${JSON.stringify(ac.result.value)} at seq ${ac.seq}`);

  say("Bob's app rolled back what apac told him. And apac signed a value its own proof refutes: evidence.");
  const report = await evidence;
  detail(`Bob's SDK packaged the refused reply, as apac signed it: evidence kind ${report.evidence.kind}`);
  if (!report.submission) throw new Error(`the evidence did not land: ${String(report.failure)}`);
  detail(
    `POST /v1/evidence → ${report.submission.outcome} (digest ${report.submission.verdict.digest.slice(0, 16)}…)`,
  );
  const directory = (await (await fetch(`${endpoint}/v1/replicas`)).json()) as {
    replicas: { name: string }[];
    quarantined: Record<string, { kind: string } | null>;
  };
  for (const { name } of directory.replicas) {
    const q = directory.quarantined[name];
    detail(`GET /v1/replicas: ${name.padEnd(5)} ${q ? `QUARANTINED (${q.kind})` : "serving"}`);
  }

  say(`Bob carries on through ${bob.replica}: the edge no longer routes anyone to apac.`);
  const b2 = await bob.counter(key).add(1);
  detail(`Bob    add 1 → ${b2.tentative.value}   (${b2.replica}, tentative)`);
  const b2c = await b2.certified;
  detail(`certified ${JSON.stringify(b2c.result.value)} at seq ${b2c.seq}: told and certified agree`);
  const read = await alice.get(key);
  detail(
    `Alice reads at weur: tentative ${JSON.stringify(read.value)}, certified ${JSON.stringify(read.certified?.value?.value)} (Merkle proof against seq ${read.certified?.seq} checked)`,
  );

  await Promise.all([alice.settled(), bob.settled()]);
  say(
    "Done. Once a replica is fixed, an operator lifts its quarantine: POST /v1/admin/quarantine/apac/lift (Bearer ADMIN_TOKEN).",
  );
}

runScript(main);
