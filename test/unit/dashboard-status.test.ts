// `GET /`'s content negotiation (workers/dashboard.ts) and `GET /v1/cluster/status`'s assembly
// (workers/cluster-status.ts) against fake node stubs: a silent node is null, the primary is the
// majority view's; `GET /v1/replicas`' freshness (`replicaFreshness`, pure).
import { describe, expect, it } from "vitest";
import {
  NODE_STATUS_TIMEOUT_MS,
  clusterStatus,
  majorityView,
  replicaFreshness,
  staleAfterMs,
} from "../../workers/cluster-status.js";
import { prefersHtml } from "../../workers/dashboard.js";
import type { Env } from "../../workers/env.js";

describe("prefersHtml", () => {
  it.each([
    ["text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true], // Chromium, Firefox
    ["text/html", true],
    ["application/json;q=0.5, text/html", true],
    [undefined, false],
    ["", false],
    ["*/*", false],
    ["application/json", false],
    ["application/json, text/html", false], // a tie keeps JSON
    ["text/*, application/json", false],
    ["text/html;q=0, */*", false],
    ["TEXT/HTML", true],
  ])("%s → %s", (accept, html) => expect(prefersHtml(accept)).toBe(html));
});

describe("majorityView", () => {
  it("is the most common view, the higher on a tie, null for none", () => {
    expect(majorityView([])).toBe(null);
    expect(majorityView([2, 2, 3, 2])).toBe(2);
    expect(majorityView([1, 1, 2, 2])).toBe(2);
    expect(majorityView([5])).toBe(5);
  });
});

describe("clusterStatus", () => {
  const status = (id: string, view: number) => ({
    id,
    view,
    normal: true,
    lastExecuted: 7,
    stableSeq: 0,
    pool: 3,
    uncertifiedFrom: 8,
  });
  const envWith = (answer: (id: string) => Promise<unknown>) =>
    ({
      PBFT_NODE: {
        idFromName: (name: string) => ({ name }),
        get: () => ({ status: answer }),
      },
    }) as unknown as Env;

  it("lists every node, null for one that does not answer in time, and the majority view's primary", async () => {
    const env = envWith((id) =>
      id === "pbft-2" ? new Promise(() => {}) : Promise.resolve(status(id, id === "pbft-3" ? 2 : 1)),
    );
    const t0 = Date.now();
    const r = await clusterStatus(env);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(NODE_STATUS_TIMEOUT_MS - 50);
    expect(r).toEqual({
      n: 4,
      view: 1,
      primary: "pbft-1",
      nodes: {
        "pbft-0": {
          id: "pbft-0",
          region: "wnam",
          view: 1,
          normal: true,
          lastExecuted: 7,
          stableSeq: 0,
          primary: false,
        },
        "pbft-1": {
          id: "pbft-1",
          region: "enam",
          view: 1,
          normal: true,
          lastExecuted: 7,
          stableSeq: 0,
          primary: true,
        },
        "pbft-2": null,
        "pbft-3": {
          id: "pbft-3",
          region: "apac",
          view: 2,
          normal: true,
          lastExecuted: 7,
          stableSeq: 0,
          primary: false,
        },
      },
    });
  });

  it("has no view or primary when no node answers (an RPC error counts as no answer)", async () => {
    const r = await clusterStatus(envWith(() => Promise.reject(new Error("down"))));
    expect(r.view).toBe(null);
    expect(r.primary).toBe(null);
    expect(Object.values(r.nodes)).toEqual([null, null, null, null]);
  });
});

describe("replicaFreshness (GET /v1/replicas)", () => {
  const NOW = 1_800_000_000_000;
  it("is each replica's seq, certificate age and seqs behind the newest; stale past the bound", () => {
    const [a, b, silent] = replicaFreshness(
      [{ seq: 7, time: NOW - 1_000 }, { seq: 5, time: NOW - 10_001 }, null],
      NOW,
      10_000,
    );
    expect(a).toEqual({ seq: 7, certificateTime: NOW - 1_000, ageMs: 1_000, behind: 0, stale: false });
    expect(b).toEqual({ seq: 5, certificateTime: NOW - 10_001, ageMs: 10_001, behind: 2, stale: true });
    expect(silent).toBeNull();
    expect(replicaFreshness([{ seq: 5, time: NOW - 10_000 }], NOW, 10_000)[0]!.stale).toBe(false);
  });

  it("no certificate is stale only while another replica has one (a cluster not certifying yet is not)", () => {
    const none = { seq: 0, time: null };
    expect(replicaFreshness([none, { seq: 3, time: NOW }], NOW, 10_000)[0]).toEqual({
      seq: 0,
      certificateTime: null,
      ageMs: null,
      behind: 3,
      stale: true,
    });
    expect(replicaFreshness([none, none], NOW, 10_000).map((f) => f!.stale)).toEqual([false, false]);
  });

  it("STALE_CERTIFICATE_MS: a positive integer, else the SDK's default 10 s", () => {
    expect(staleAfterMs("2500")).toBe(2_500);
    for (const bad of [undefined, "", "0", "-5", "1.5", "ten"]) expect(staleAfterMs(bad)).toBe(10_000);
  });
});
