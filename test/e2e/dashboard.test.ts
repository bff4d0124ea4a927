// The dashboard at `/` in headless Chromium (@sparticuz/chromium through puppeteer-core), against the
// real Worker under `wrangler dev`: it renders the replicas and PBFT nodes from the API and follows
// the newest certificate as ops are written, with certified ops/s and a chart window that fits the
// data; then trouble is made for real — apac lies (dev faults) until a client's evidence quarantines
// it, enam drops its certificates until it is stale — and the page marks each in words; at 390 px
// nothing overflows; the favicon loads; the browser logs no error.
//
// `UPDATE_SCREENSHOT=1 npx vitest run --project e2e test/e2e/dashboard.test.ts` rewrites
// docs/dashboard.png (1280 wide, the quarantined and stale replicas marked).
import { join } from "node:path";
import chromium from "@sparticuz/chromium";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AspecClient, type EvidenceReport } from "../../client/index.js";
import { DEV_FAULT_TOKEN, REPO_ROOT, startWranglerDev, type DevServer } from "../support/wrangler-dev.js";

const CERTIFIED_WAIT_MS = 45_000;
/** The stale bound the server judges by: a replica that drops certificates is stale in seconds. */
const STALE_MS = 4_000;

let server: DevServer;
let browser: Browser;

beforeAll(async () => {
  const [started, launched] = await Promise.all([
    startWranglerDev({
      name: "dashboard",
      readyPath: "/v1/replicas",
      vars: { ENVIRONMENT: "dev", STALE_CERTIFICATE_MS: String(STALE_MS) },
    }),
    chromium
      .executablePath()
      .then((executablePath) => puppeteer.launch({ args: chromium.args, executablePath, headless: true })),
  ]);
  server = started;
  browser = launched;
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** A page that records every error the browser sees: console errors, page errors, failed or 4xx/5xx loads. */
async function watchedPage(width: number): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  await page.setViewport({ width, height: 900 });
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`pageerror: ${String(e)}`));
  page.on("requestfailed", (r) => errors.push(`failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on("response", (r) => {
    if (r.status() >= 400) errors.push(`${r.status()}: ${r.url()}`);
  });
  return { page, errors };
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

/** What a replica's row shows of its state: `data-status`, the badge's words, the reasons. */
const stateOf = (page: Page, replica: string) =>
  page.evaluate(`(() => {
    const tr = document.querySelector('#replicas-body tr[data-replica="${replica}"]');
    return tr && { status: tr.dataset.status, badge: tr.querySelector(".badge")?.textContent,
      why: tr.querySelector(".why")?.textContent ?? "", colour: getComputedStyle(tr.querySelector(".badge")).backgroundColor };
  })()`) as Promise<{ status: string; badge: string; why: string; colour: string } | null>;

async function setFaults(target: string, faults: object): Promise<void> {
  const r = await fetch(`${server.url}/v1/dev/faults`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-aspec-fault-token": DEV_FAULT_TOKEN },
    body: JSON.stringify({ target, faults }),
  });
  expect(r.status, await r.text()).toBe(200);
}

/** When the first test opened its page (the chart's window cannot span more than the page has seen). */
let opened = 0;

describe("the dashboard in headless Chromium", () => {
  it("renders replicas and nodes from the API, follows the certificate, counts certified ops/s, loads its favicon", async () => {
    const { page, errors } = await watchedPage(1280);
    opened = Date.now();
    const res = await page.goto(`${server.url}/`);
    expect(res?.headers()["content-type"]).toMatch(/^text\/html/);

    // three replicas, each with its state in words; four nodes, each answering with a view
    await page.waitForFunction(
      `document.querySelectorAll("#replicas-body tr[data-replica]").length === 3 &&
       [...document.querySelectorAll("#nodes-body tr[data-node]")].filter((tr) => tr.querySelectorAll("td").length === 7).length === 4`,
      { timeout: 30_000 },
    );
    const api = (await (await fetch(`${server.url}/v1/replicas`)).json()) as {
      replicas: { name: string; region: string; publicKey: string }[];
    };
    const replicas = await rowsOf(page, "replicas-body");
    expect(replicas.map((r) => [r[0], r[2]])).toEqual(api.replicas.map((r) => [r.name, r.region]));
    for (const [i, r] of replicas.entries()) {
      expect(api.replicas[i]!.publicKey.startsWith(r[3]!.replace("…", ""))).toBe(true);
      expect(r[1]).toMatch(/^(ok|stale|quarantined|diverged|unreachable)/);
    }
    const status = (await (await fetch(`${server.url}/v1/cluster/status`)).json()) as { primary: string };
    const nodes = await rowsOf(page, "nodes-body");
    expect(nodes.map((n) => n[0])).toEqual(["pbft-0", "pbft-1", "pbft-2", "pbft-3"]);
    expect(nodes.filter((n) => n[6] === "primary").map((n) => n[0])).toEqual([status.primary]);
    expect(await textOf(page, "#primary")).toContain(status.primary);

    // ops written over HTTP (the SDK in Node) get certified by the nodes: the page's seq advances
    const seqOnPage = async () => Number(await textOf(page, "#cert-seq")) || 0;
    const before = await seqOnPage();
    const c = await AspecClient.connect({ endpoint: server.url, replica: "weur" });
    for (let i = 0; i < 5; i++) await c.counter("dashboard-hits").add(1);
    const last = await c.register("dashboard-title").set("hello from the e2e test");
    await last.certified;
    await page.waitForFunction(`Number(document.getElementById("cert-seq")?.textContent) > ${before}`, {
      timeout: CERTIFIED_WAIT_MS,
      polling: 250,
    });
    const cert = (await page.evaluate(
      `Object.fromEntries([...document.querySelectorAll("#cert-body tr")].map((tr) => [tr.querySelector("th")?.textContent, tr.querySelector("td")?.textContent]))`,
    )) as Record<string, string>;
    expect(Number(cert.opCount)).toBeGreaterThan(0);
    expect(cert.stateRoot).toMatch(/^[0-9a-f]{64}$/);
    expect(cert.signers).toMatch(/pbft-\d/);
    // six ops certified within the last 30 s of samples: a positive rate is shown
    await page.waitForFunction(`Number(document.getElementById("ops-rate").textContent) > 0`, {
      timeout: 10_000,
    });
    await page.waitForSelector("#chart polyline", { timeout: 10_000 });
    // the chart spans what the page has seen (from 20 s), not a fixed 5 minutes
    const windowMs = Number(await page.evaluate(`document.getElementById("chart").dataset.windowMs`));
    expect(windowMs).toBeGreaterThanOrEqual(20_000);
    expect(windowMs).toBeLessThanOrEqual(Math.max(20_000, Date.now() - opened));
    expect(await textOf(page, "#chart-from")).toBe(`−${Math.round(windowMs / 1000)} s`);
    expect(await textOf(page, "#repl-lag")).toMatch(/^\d+ seqs? \((weur|enam|apac)\)$/);

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

    // a namespace the client claims shows its owner, the client's key, in the namespaces panel
    await c.namespace("dashboard-ns").claim();
    await page.waitForSelector('#namespaces-body tr[data-namespace="dashboard-ns"]', { timeout: 10_000 });
    expect(
      await page.evaluate(
        `document.querySelector('#namespaces-body tr[data-namespace="dashboard-ns"] td[data-owners]').dataset.owners`,
      ),
    ).toBe(c.key.publicKey);
    c.close();

    // the favicon the page links answers an SVG that Chromium decodes as an image
    expect(await page.evaluate(`document.querySelector('link[rel="icon"]').getAttribute("href")`)).toBe(
      "/favicon.ico",
    );
    const icon = await fetch(`${server.url}/favicon.ico`);
    expect([icon.status, icon.headers.get("content-type")]).toEqual([200, "image/svg+xml"]);
    const decoded = await page.evaluate(`new Promise((resolve) => {
      const img = new Image();
      img.onload = () => resolve(img.naturalWidth);
      img.onerror = () => resolve(0);
      img.src = "/favicon.ico";
    })`);
    expect(decoded).toBeGreaterThan(0);
    expect(errors).toEqual([]);
    expect(await textOf(page, "#err")).toBe(""); // what the page's own refresh caught
    await page.close();
  });

  it("marks a replica quarantined by a client's evidence and one that drops certificates stale, in words", async () => {
    const { page, errors } = await watchedPage(1280);
    await page.goto(`${server.url}/`);
    await page.waitForSelector('#replicas-body tr[data-replica="apac"]', { timeout: 30_000 });
    expect((await stateOf(page, "apac"))!.status).not.toBe("quarantined");

    // enam stops taking certified batches; apac lies to its clients, certified values too
    await setFaults("enam", { dropCertified: true });
    await setFaults("apac", { lieTentative: true, lieCertified: true });
    const bob = await AspecClient.connect({
      endpoint: server.url,
      replica: "apac",
      maxUncertified: Infinity,
    });
    const evidence = new Promise<EvidenceReport>((resolve) => bob.on("evidence", resolve));
    const w = await bob.counter("dashboard-trouble").add(1);
    await w.certified; // the certified result refutes what apac signed: the SDK submits evidence
    const report = await evidence;
    expect(report.submission?.outcome).toBe("quarantined");
    await bob.settled();
    bob.close();

    await page.waitForFunction(
      `document.querySelector('#replicas-body tr[data-replica="apac"]')?.dataset.status === "quarantined" &&
       document.querySelector('#replicas-body tr[data-replica="enam"]')?.dataset.status === "stale"`,
      { timeout: 30_000, polling: 250 },
    );
    const apac = (await stateOf(page, "apac"))!;
    expect(apac.badge).toBe("quarantined");
    expect(apac.why).toMatch(/^quarantined \([a-z_]+\): the edge routes no one to it/);
    const enam = (await stateOf(page, "enam"))!;
    expect(enam.badge).toBe("stale");
    expect(enam.why).toMatch(/^stale: newest certificate \d+\.\d s old$/);
    // the certificate shown is the freshest open replica's: not stale enam's (the nearest), nor apac's
    await page.waitForFunction(`document.getElementById("cert-replica").textContent.startsWith("weur ")`, {
      timeout: 10_000,
    });
    const weur = (await stateOf(page, "weur"))!;
    expect(weur.status).not.toBe("quarantined");
    // not colour alone, but colour too: a problem's badge is not the healthy one's
    expect(apac.colour).not.toBe(weur.colour);
    expect(enam.colour).not.toBe(apac.colour);

    if (process.env.UPDATE_SCREENSHOT === "1") {
      // the README's picture: ops flowing for ~20 s first, so the chart has a history and ops/s a value
      const c = await AspecClient.connect({ endpoint: server.url, replica: "weur" });
      for (let i = 0; i < 40; i++) {
        const w = await c.counter("dashboard-screenshot").add(1);
        if (i === 39) await w.certified;
        await new Promise((r) => setTimeout(r, 500));
      }
      c.close();
      await page.screenshot({ path: join(REPO_ROOT, "docs", "dashboard.png"), fullPage: true });
    }
    expect(errors).toEqual([]);
    expect(await textOf(page, "#err")).toBe(""); // what the page's own refresh caught
    await page.close();
  });

  // After the test above on purpose: the rows then carry their longest text (badges and reasons).
  it("fits a 390 px phone: no horizontal overflow, tables scroll inside their box", async () => {
    const { page, errors } = await watchedPage(390);
    await page.goto(`${server.url}/`);
    await page.waitForFunction(
      `document.querySelectorAll("#replicas-body tr[data-replica]").length === 3 &&
       document.querySelectorAll("#nodes-body tr[data-node]").length === 4 &&
       document.querySelector("#chart polyline") !== null`,
      { timeout: 30_000 },
    );
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    // the replicas' table is wider than the phone: it scrolls inside its own box
    const box = (await page.evaluate(`(() => {
      const box = document.getElementById("replicas").parentElement;
      return { overflowX: getComputedStyle(box).overflowX, client: box.clientWidth, scroll: box.scrollWidth };
    })()`)) as { overflowX: string; client: number; scroll: number };
    expect(box.overflowX).toBe("auto");
    expect(box.client).toBeLessThanOrEqual(390);
    expect(box.scroll).toBeGreaterThan(box.client);
    expect(errors).toEqual([]);
    expect(await textOf(page, "#err")).toBe(""); // what the page's own refresh caught
    await page.close();
  });
});
