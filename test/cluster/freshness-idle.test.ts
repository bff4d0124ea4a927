/**
 * An idle, healthy system stays readable under the SDK's default certificate-age bound (10 s): the
 * nodes certify an empty batch every HEARTBEAT_MS (2 s) when nothing is pending, so every replica's
 * newest certificate stays young. Idle here for longer than the bound: without heartbeats every
 * replica's newest certificate would be older than the bound, and the SDK would refuse them all.
 * The live cluster, in workerd, through the real SDK with its default bound.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { AspecClient } from "../../client/index.js";
import { REPLICAS } from "../runtime/helpers.js";
import { writeAndCertify } from "./support.js";

/** The SDK's default bound (client/client.ts): idling past it is what makes the test meaningful. */
const DEFAULT_BOUND_MS = 10_000;
const IDLE_MS = DEFAULT_BOUND_MS + 2_000;

describe("freshness while idle", () => {
  it(
    "after idling past the default bound, every replica's certified read is younger than it",
    { timeout: 90_000 },
    async () => {
      await writeAndCertify("fresh-idle");
      await new Promise((r) => setTimeout(r, IDLE_MS));
      for (const r of REPLICAS) {
        const c = await AspecClient.connect({
          endpoint: "https://edge.test",
          replica: r,
          fetch: (url, init) => SELF.fetch(url, init),
        });
        const read = await c.get("fresh-idle/k0");
        expect(read.replica, "not failed over: its certificate is fresh").toBe(r);
        const age = Date.now() - read.certificate!.body.time;
        expect(age).toBeLessThan(DEFAULT_BOUND_MS);
        expect(read.certified?.value).toMatchObject({ type: "counter", value: 1 });
        c.close();
      }
    },
  );
});
