// `npm run demo -- --endpoint URL` against a `wrangler dev` it did not start (as a user's `npm run
// dev`): the demo's own process (node --import tsx scripts/demo.ts, on this Node) tells its story, then puts back
// what it changed — apac's faults off, the quarantine its lie caused lifted — when it ends and when
// it is interrupted (SIGINT, as Ctrl-C); without the right admin token it prints the quarantine it
// left and the command that lifts it, and that command works.
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AspecClient } from "../../client/index.js";
import { REPO_ROOT, startWranglerDev, type DevServer } from "../support/wrangler-dev.js";

/**
 * tsx as a loader in the demo's own process, as `npm run demo` runs it: the tsx CLI would put a
 * parent in front that relays a SIGINT and SIGKILLs the demo if it has not acknowledged the signal
 * within 30 ms — on a loaded machine, before it put anything back (seen in a clean-clone CI run).
 */
const LOADER = ["--import", "tsx"];
/** The server's operator token: .dev.vars' (wrangler dev reads it, as `npm run dev` does). */
const ADMIN_TOKEN = "dev-admin-token";

let server: DevServer;

beforeAll(async () => {
  server = await startWranglerDev({
    name: "demo-endpoint",
    readyPath: "/v1/replicas",
    vars: { ENVIRONMENT: "dev" },
  });
});

afterAll(async () => {
  await server?.stop();
});

interface DemoRun {
  code: number | null;
  out: string;
  err: string;
}

/**
 * Run the demo against the server. `interruptAfter`: SIGINT it once its output contains this text.
 * Its Node is this test's (the project's Node 22), as `npm run demo` runs it.
 */
function runDemo(args: string[], interruptAfter?: string): Promise<DemoRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...LOADER, "scripts/demo.ts", "--endpoint", server.url, ...args], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    let signalled = false;
    child.stdout.on("data", (b: Buffer) => {
      out += b.toString();
      if (interruptAfter && !signalled && out.includes(interruptAfter)) {
        signalled = true;
        child.kill("SIGINT");
      }
    });
    child.stderr.on("data", (b: Buffer) => (err += b.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out, err }));
  });
}

interface ReplicasReply {
  quarantined: Record<string, { kind: string } | null>;
}
const quarantines = async () =>
  ((await (await fetch(`${server.url}/v1/replicas`)).json()) as ReplicasReply).quarantined;

/** apac tells the truth again: a write there reads back its true value, tentative and certified (proof checked). */
async function expectApacHonest(key: string): Promise<void> {
  const c = await AspecClient.connect({ endpoint: server.url, replica: "apac", maxUncertified: Infinity });
  const refused: string[] = [];
  c.on("unverified", (e) => refused.push(e.reason));
  try {
    const w = await c.counter(key).add(1);
    expect([w.replica, w.tentative.value]).toEqual(["apac", 1]);
    await w.certified;
    const r = await c.getCertified(key);
    expect(r.certified.value?.value).toBe(1);
    expect(refused).toEqual([]);
  } finally {
    c.close();
  }
}

describe("npm run demo -- --endpoint (a server it did not start)", () => {
  it("tells the story, then switches apac's faults off and lifts the quarantine it caused", async () => {
    expect(Object.values(await quarantines())).toEqual([null, null, null]);
    const run = await runDemo([]);
    expect(run.code, run.out + run.err).toBe(0);
    expect(run.out).toMatch(/apac\s+QUARANTINED/);
    expect(run.out).toContain(`Put back: ${server.url} is as the demo found it`);
    expect(Object.values(await quarantines())).toEqual([null, null, null]);
    await expectApacHonest("after-demo");
  });

  it("interrupted (SIGINT) once apac lies, it still puts everything back before it exits", async () => {
    const run = await runDemo([], "Alice writes at weur");
    expect(run.code, run.out + run.err).toBe(130);
    expect(run.err).toContain("SIGINT: putting back what the demo changed");
    expect(run.out).not.toContain("Done.");
    expect(run.out).toContain(`Put back: ${server.url}`);
    expect(Object.values(await quarantines())).toEqual([null, null, null]);
    await expectApacHonest("after-interrupted-demo");
  });

  it("without the right admin token, prints the quarantine it left and a command that lifts it", async () => {
    const run = await runDemo(["--admin-token", "not-the-admin-token"]);
    expect(run.code, run.out + run.err).toBe(1);
    expect(run.err).toContain(`LEFT ON ${server.url}`);
    expect(run.err).toMatch(
      /apac is still quarantined \(\w+, evidence [0-9a-f]+\): the lift was refused: 403 forbidden/,
    );
    expect((await quarantines()).apac).not.toBeNull();
    // the printed command, run with the server's token in place of the placeholder, lifts it
    const m = /undo: curl -X POST '([^']+)' -H 'authorization: Bearer <ADMIN_TOKEN>'/.exec(run.err);
    expect(m?.[1]).toBe(`${server.url}/v1/admin/quarantine/apac/lift`);
    const lift = await fetch(m![1]!, { method: "POST", headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(lift.status).toBe(200);
    expect(Object.values(await quarantines())).toEqual([null, null, null]);
    // the faults it could switch off, it did
    await expectApacHonest("after-demo-without-token");
  });
});
