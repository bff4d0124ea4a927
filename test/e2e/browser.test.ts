// In headless Chromium (@sparticuz/chromium through puppeteer-core), against the real Worker under
// `wrangler dev`: the dashboard at `/` renders the replicas and PBFT nodes from the API and follows
// the newest certificate as ops are written; a page on the Worker's origin (a secure context, so
// crypto.subtle exists) loads the browser SDK bundle, writes and reads a key through it, waits for
// the write's certification and verifies a certified read in the page.
//
// `UPDATE_SCREENSHOT=1 npx vitest run --project e2e test/e2e/browser.test.ts` rewrites docs/dashboard.png.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import chromium from "@sparticuz/chromium";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AspecClient } from "../../client/index.js";
import { buildBrowserBundle } from "../../scripts/browser-bundle.js";
import { REPO_ROOT, startWranglerDev, type DevServer } from "../support/wrangler-dev.js";

const CERTIFIED_WAIT_MS = 45_000;

let server: DevServer;
let browser: Browser;
let bundleDir: string;
let bundle: string;

beforeAll(async () => {
  bundleDir = await mkdtemp(join(tmpdir(), "aspec-browser-bundle-"));
  // the bundle as `npm run build` writes it (dist/browser/aspec-client.js), built fresh from the sources
  const [started] = await Promise.all([
    startWranglerDev({ name: "browser", readyPath: "/v1/replicas", vars: { ENVIRONMENT: "dev" } }),
    buildBrowserBundle(bundleDir),
  ]);
  server = started;
  bundle = await readFile(join(bundleDir, "browser", "aspec-client.js"), "utf8");
  browser = await puppeteer.launch({
    args: chromium.args,
    executablePath: await chromium.executablePath(),
    headless: true,
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (bundleDir) await rm(bundleDir, { recursive: true, force: true });
});

async function newPage(): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  return page;
}

// Page code is given as strings: it runs in Chromium, not under this file's transform and types.

/** The text of every cell of the rows of `tbody`, as the page shows it now. */
const rowsOf = (page: Page, tbody: string) =>
  page.evaluate(
    `[...document.querySelectorAll("#${tbody} tr")].map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent))`,
  ) as Promise<string[][]>;

/** The text of the first element matching `selector`. */
const textOf = (page: Page, selector: string) =>
  page.evaluate(`document.querySelector(${JSON.stringify(selector)})?.textContent ?? null`) as Promise<
    string | null
  >;

describe("the dashboard in headless Chromium", () => {
  it("renders the three replicas and four nodes from the API and follows the certificate seq", async () => {
    const page = await newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    const res = await page.goto(`${server.url}/`);
    expect(res?.headers()["content-type"]).toMatch(/^text\/html/);

    // three replicas, each with its certification state; four nodes, each answering with a view
    await page.waitForFunction(
      `document.querySelectorAll("#replicas-body tr[data-replica]").length === 3 &&
       [...document.querySelectorAll("#nodes-body tr[data-node]")].filter((tr) => tr.querySelectorAll("td").length === 7).length === 4`,
      { timeout: 30_000 },
    );
    const api = (await (await fetch(`${server.url}/v1/replicas`)).json()) as {
      replicas: { name: string; region: string; publicKey: string }[];
    };
    const replicas = await rowsOf(page, "replicas-body");
    expect(replicas.map((r) => r.slice(0, 2))).toEqual(api.replicas.map((r) => [r.name, r.region]));
    for (const [i, r] of replicas.entries()) {
      expect(api.replicas[i]!.publicKey.startsWith(r[2]!.replace("…", ""))).toBe(true);
      expect(["none", "ok", "diverged"]).toContain(r[3]);
    }
    const status = (await (await fetch(`${server.url}/v1/cluster/status`)).json()) as {
      primary: string;
    };
    const nodes = await rowsOf(page, "nodes-body");
    expect(nodes.map((n) => n[0])).toEqual(["pbft-0", "pbft-1", "pbft-2", "pbft-3"]);
    expect(nodes.filter((n) => n[6] === "primary").map((n) => n[0])).toEqual([status.primary]);
    expect(await textOf(page, "#primary")).toContain(status.primary);

    // ops written over HTTP (the SDK in Node) get certified by the nodes: the page's seq advances
    const seqOnPage = async () => Number(await textOf(page, "#cert-seq")) || 0;
    const before = await seqOnPage();
    const c = await AspecClient.connect({ endpoint: server.url, replica: "weur" });
    for (let i = 0; i < 5; i++) await c.counter("dashboard-hits").add(1);
    await c.register("dashboard-title").set("hello from the e2e test");
    await page.waitForFunction(`Number(document.getElementById("cert-seq")?.textContent) > ${before}`, {
      timeout: CERTIFIED_WAIT_MS,
      polling: 250,
    });
    expect(await seqOnPage()).toBeGreaterThan(before);
    const cert = (await page.evaluate(
      `Object.fromEntries([...document.querySelectorAll("#cert-body tr")].map((tr) => [tr.querySelector("th")?.textContent, tr.querySelector("td")?.textContent]))`,
    )) as Record<string, string>;
    expect(Number(cert.opCount)).toBeGreaterThan(0);
    expect(cert.stateRoot).toMatch(/^[0-9a-f]{64}$/);
    expect(cert.signers).toMatch(/pbft-\d/);
    // the chart has drawn a line once two samples with a certificate exist
    await page.waitForSelector("#chart polyline", { timeout: 10_000 });

    // the evidence lookup asks the API for the writing client (no equivocation: none held)
    await page.type("#client", c.key.publicKey);
    await page.click("#evidence-form button");
    await page.waitForFunction(
      `/piece\\(s\\) of evidence/.test(document.getElementById("evidence").textContent)`,
      {
        timeout: 10_000,
      },
    );
    expect(await textOf(page, "#evidence")).toContain("0 piece(s) of evidence");

    if (process.env.UPDATE_SCREENSHOT === "1")
      await page.screenshot({ path: join(REPO_ROOT, "docs", "dashboard.png"), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe("the browser SDK bundle in headless Chromium", () => {
  it("writes, waits for certification and verifies a certified read, in the page", async () => {
    const page = await newPage();
    await page.goto(`${server.url}/health`);
    await page.evaluate(`window.__bundle = ${JSON.stringify(bundle)}`);
    const key = `browser-certified-${Date.now().toString(36)}`;
    const out = (await page.evaluate(`(async () => {
      const url = URL.createObjectURL(new Blob([window.__bundle], { type: "text/javascript" }));
      const { AspecClient, ReplyVerificationError } = await import(url);
      const c = await AspecClient.connect({ endpoint: location.origin, replica: "weur", certifyDeadlineMs: ${CERTIFIED_WAIT_MS} });
      const w = await c.counter(${JSON.stringify(key)}).add(7);
      const final = await w.certified;           // verified: 2f+1 node signatures, result proof
      let read = await c.get(${JSON.stringify(key)});
      for (let i = 0; i < 200 && read.certified?.value?.value !== 7; i++) {
        await new Promise((r) => setTimeout(r, 200));
        read = await c.get(${JSON.stringify(key)});
      }
      const cr = await c.getCertified(${JSON.stringify(key)}); // proof checked against its certificate
      // a lie the page is told is refused: the same certified read with its value changed
      const bad = JSON.parse(JSON.stringify(cr));
      bad.certified.value.value = 8;
      const { verifyCertifiedReadReply, CertificateGuard, checkCluster } = await import(url);
      const guard = new CertificateGuard(checkCluster(c.cluster), { now: Date.now });
      const pinned = new Map(c.replicas.map((r) => [r.name, r.publicKey]));
      const refused = await verifyCertifiedReadReply(bad, { replica: "weur", key: ${JSON.stringify(key)} }, pinned, guard)
        .then(() => "accepted", (e) => e instanceof ReplyVerificationError ? e.reason : String(e));
      c.close();
      return {
        certified: [final.result.status, final.result.value, final.certificate.sigs.length >= 3],
        read: [read.certified?.value?.value, cr.certified.value?.value, cr.certified.seq >= final.seq],
        seq: c.certifiedSeq >= final.seq,
        refused,
      };
    })()`)) as Record<string, unknown>;
    expect(out).toEqual({
      certified: ["ok", 7, true],
      read: [7, 7, true],
      seq: true,
      // re-signing is beyond the page, so the changed reply fails on the replica's signature first
      refused: "bad_signature",
    });
    await page.close();
  });

  it("writes and reads a key through AspecClient on the Worker's origin", async () => {
    const page = await newPage();
    // a page on the origin: a secure context (http://127.0.0.1), same origin as the API
    await page.goto(`${server.url}/health`);
    expect(await page.evaluate("isSecureContext && typeof crypto.subtle === 'object'")).toBe(true);
    // the bundle is ESM: imported from a blob URL; the page code is a string, as the test's
    // transform does not reach the page
    await page.evaluate(`window.__bundle = ${JSON.stringify(bundle)}`);
    const out = (await page.evaluate(`(async () => {
      const url = URL.createObjectURL(new Blob([window.__bundle], { type: "text/javascript" }));
      const { AspecClient, generateKeyPair } = await import(url);
      const key = await generateKeyPair();
      const c = await AspecClient.connect({ endpoint: location.origin, replica: "weur", key });
      const w = await c.register("browser-key").set({ from: "chromium", n: 1 });
      const n = await c.counter("browser-count").add(3);
      const r = await c.get("browser-key");
      return {
        client: c.key.publicKey === key.publicKey,
        write: [w.kind, w.replica, w.tentative.status],
        count: n.tentative.value,
        read: [r.kind, r.key, r.type, r.value],
      };
    })()`)) as Record<string, unknown>;
    expect(out).toEqual({
      client: true,
      write: ["op", "weur", "ok"],
      count: 3,
      read: ["read", "browser-key", "register", { from: "chromium", n: 1 }],
    });
    // the same value, read over HTTP from Node
    const r = (await (await fetch(`${server.url}/v1/kv/browser-key?replica=weur`)).json()) as {
      value: unknown;
    };
    expect(r.value).toEqual({ from: "chromium", n: 1 });
    await page.close();
  });
});
