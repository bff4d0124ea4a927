// In headless Chromium (@sparticuz/chromium through puppeteer-core), against the real Worker under
// `wrangler dev`: a page on the Worker's origin (a secure context, so crypto.subtle exists) loads the
// browser SDK bundle, writes and reads a key through it, waits for the write's certification and
// verifies a certified read in the page. The dashboard's own test: test/e2e/dashboard.test.ts.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import chromium from "@sparticuz/chromium";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildBrowserBundle } from "../../scripts/browser-bundle.js";
import { startWranglerDev, type DevServer } from "../support/wrangler-dev.js";

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
