// `GET /`'s content negotiation (workers/dashboard.ts) and `GET /v1/cluster/status`'s assembly
// (workers/cluster-status.ts) against fake node stubs: a silent node is null, the primary is the
// majority view's; `GET /v1/replicas`' freshness (`replicaFreshness`, pure); the page's own
// judgements (workers/dashboard/health.ts), evaluated from the very text the page runs.
import { describe, expect, it } from "vitest";
import {
  NODE_STATUS_TIMEOUT_MS,
  clusterStatus,
  majorityView,
  replicaFreshness,
  staleAfterMs,
} from "../../../workers/cluster-status.js";
import { prefersHtml } from "../../../workers/dashboard.js";
import { HEALTH_FUNCTIONS, HEALTH_JS } from "../../../workers/dashboard/health.js";
import type { Env } from "../../../platform/env.js";

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
    ({ PBFT: { status: answer } }) as unknown as Env; // the nodes' Worker's `Nodes` entrypoint

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

/** The page's functions, from the page's own script text (the browser runs the same text). */
interface Fresh {
  seq: number;
  certificateTime: number | null;
  ageMs: number | null;
  behind: number;
  stale: boolean;
}
interface Stats {
  certification: string;
  diverged: { seq: number } | null;
}
interface Sample {
  t: number;
  opCount: number | null;
}
interface Health {
  replicaHealth(
    stats: Stats | null,
    fresh: Fresh | null,
    quarantine: { kind: string } | null,
  ): { status: string; reasons: string[] };
  chartWindow(samples: Sample[], now: number, maxMs: number, minMs: number): { from: number; to: number };
  newestOpCount(reply: {
    replicas: { name: string }[];
    certification: Record<string, { opCount: number } | null>;
  }): number | null;
  certifiedOpsPerSecond(samples: Sample[], now: number, windowMs: number): number | null;
  replicationLag(reply: {
    replicas: { name: string }[];
    freshness: Record<string, Fresh | null>;
  }): { name: string; behind: number; ageMs: number | null } | null;
  freshestReplica(reply: {
    replicas: { name: string }[];
    freshness: Record<string, Fresh | null>;
    quarantined: Record<string, { kind: string } | null>;
  }): string | null;
  agoLabel(ms: number): string;
}
const page = new Function(`${HEALTH_JS}\nreturn { ${HEALTH_FUNCTIONS.join(", ")} };`)() as Health;

describe("the dashboard's replica state (replicaHealth)", () => {
  const ok: Stats = { certification: "ok", diverged: null };
  const fresh: Fresh = { seq: 9, certificateTime: 1, ageMs: 1_200, behind: 0, stale: false };
  const stale: Fresh = { ...fresh, ageMs: 12_500, behind: 4, stale: true };

  it("is ok, in words, when nothing is wrong", () => {
    expect(page.replicaHealth(ok, fresh, null)).toEqual({ status: "ok", reasons: ["ok"] });
  });

  it("is quarantined when the Directory says so, whatever else holds, with the evidence's kind", () => {
    const h = page.replicaHealth(ok, stale, { kind: "lie_certified" });
    expect(h.status).toBe("quarantined");
    expect(h.reasons[0]).toMatch(/^quarantined \(lie_certified\)/);
    expect(h.reasons[1]).toBe("stale: newest certificate 12.5 s old");
  });

  it("is stale past the bound, also with no certificate while another replica has one", () => {
    expect(page.replicaHealth(ok, stale, null).status).toBe("stale");
    const none = page.replicaHealth(ok, { ...stale, ageMs: null, certificateTime: null }, null);
    expect(none).toEqual({
      status: "stale",
      reasons: ["stale: no certificate while another replica has one"],
    });
  });

  it("is diverged, with its seq, before stale", () => {
    const h = page.replicaHealth({ certification: "diverged", diverged: { seq: 17 } }, stale, null);
    expect(h.status).toBe("diverged");
    expect(h.reasons[0]).toMatch(/^diverged at seq 17/);
  });

  it("is unreachable when it did not answer, and quarantined still ranks first", () => {
    expect(page.replicaHealth(null, null, null).status).toBe("unreachable");
    expect(page.replicaHealth(ok, null, null).status).toBe("unreachable");
    const h = page.replicaHealth(null, null, { kind: "lie_tentative" });
    expect(h.status).toBe("quarantined");
    expect(h.reasons).toHaveLength(2);
  });
});

describe("the dashboard's chart window (chartWindow)", () => {
  const MAX = 300_000;
  const MIN = 20_000;
  it("spans the samples it has, between the minimum and the maximum, ending now", () => {
    const now = 1_000_000;
    expect(page.chartWindow([], now, MAX, MIN)).toEqual({ from: now - MIN, to: now });
    expect(page.chartWindow([{ t: now - 5_000, opCount: 1 }], now, MAX, MIN)).toEqual({
      from: now - MIN,
      to: now,
    });
    expect(page.chartWindow([{ t: now - 30_000, opCount: 1 }], now, MAX, MIN)).toEqual({
      from: now - 30_000,
      to: now,
    });
    expect(page.chartWindow([{ t: now - 900_000, opCount: 1 }], now, MAX, MIN)).toEqual({
      from: now - MAX,
      to: now,
    });
  });

  it("grows as data arrives", () => {
    const samples = [{ t: 0, opCount: 0 }];
    const spans = [30_000, 60_000, 120_000].map((now) => {
      const w = page.chartWindow(samples, now, MAX, MIN);
      return w.to - w.from;
    });
    expect(spans).toEqual([30_000, 60_000, 120_000]);
  });

  it("labels the window's start", () => {
    expect(page.agoLabel(34_400)).toBe("−34 s");
    expect(page.agoLabel(150_000)).toBe("−2.5 min");
  });
});

describe("the dashboard's certified ops/s (newestOpCount, certifiedOpsPerSecond)", () => {
  it("counts ops by the newest certificate any replica holds, null when none answers", () => {
    const replicas = [{ name: "weur" }, { name: "enam" }, { name: "apac" }];
    const at = (opCount: number) => ({ opCount });
    expect(page.newestOpCount({ replicas, certification: { weur: at(40), enam: at(12), apac: null } })).toBe(
      40,
    );
    expect(page.newestOpCount({ replicas, certification: { weur: at(3), enam: at(12), apac: at(7) } })).toBe(
      12,
    );
    expect(page.newestOpCount({ replicas, certification: { weur: null, enam: null, apac: null } })).toBe(
      null,
    );
  });

  it("is the opCount's growth per second over the window's samples", () => {
    const s = [
      { t: 0, opCount: 0 },
      { t: 10_000, opCount: 50 },
      { t: 20_000, opCount: 100 },
      { t: 40_000, opCount: 400 },
    ];
    expect(page.certifiedOpsPerSecond(s, 40_000, 30_000)).toBe(350 / 30);
    expect(page.certifiedOpsPerSecond(s, 40_000, 60_000)).toBe(10);
  });

  it("is null with fewer than two samples holding a certificate, never negative", () => {
    expect(page.certifiedOpsPerSecond([{ t: 0, opCount: 5 }], 0, 30_000)).toBe(null);
    expect(
      page.certifiedOpsPerSecond(
        [
          { t: 0, opCount: null },
          { t: 2_000, opCount: 7 },
        ],
        2_000,
        30_000,
      ),
    ).toBe(null);
    expect(
      page.certifiedOpsPerSecond(
        [
          { t: 0, opCount: 9 },
          { t: 2_000, opCount: 7 },
        ],
        2_000,
        30_000,
      ),
    ).toBe(0);
  });
});

describe("the dashboard's replication lag (replicationLag)", () => {
  const f = (behind: number, ageMs: number | null): Fresh => ({
    seq: 10 - behind,
    certificateTime: 0,
    ageMs,
    behind,
    stale: false,
  });
  it("is the replica furthest behind, the older certificate on a tie, null when none answers", () => {
    const replicas = [{ name: "weur" }, { name: "enam" }, { name: "apac" }];
    expect(
      page.replicationLag({ replicas, freshness: { weur: f(0, 500), enam: f(3, 4_000), apac: null } }),
    ).toEqual({ name: "enam", behind: 3, ageMs: 4_000 });
    expect(
      page.replicationLag({ replicas, freshness: { weur: f(0, 500), enam: f(0, 900), apac: f(0, 700) } }),
    ).toEqual({ name: "enam", behind: 0, ageMs: 900 });
    expect(page.replicationLag({ replicas, freshness: { weur: null, enam: null, apac: null } })).toBe(null);
  });
});

describe("the replica the dashboard asks for its certificate (freshestReplica)", () => {
  const f = (seq: number): Fresh => ({ seq, certificateTime: 0, ageMs: 0, behind: 0, stale: false });
  const replicas = [{ name: "weur" }, { name: "enam" }, { name: "apac" }];
  it("holds the newest certificate and is not quarantined; the first on a tie; null when none answers", () => {
    const none = { weur: null, enam: null, apac: null };
    expect(
      page.freshestReplica({
        replicas,
        freshness: { weur: f(7), enam: f(49), apac: f(9) },
        quarantined: none,
      }),
    ).toBe("enam");
    expect(
      page.freshestReplica({
        replicas,
        freshness: { weur: f(7), enam: f(49), apac: f(9) },
        quarantined: { ...none, enam: { kind: "bad_certificate" } },
      }),
    ).toBe("apac");
    expect(
      page.freshestReplica({
        replicas,
        freshness: { weur: f(3), enam: f(3), apac: null },
        quarantined: none,
      }),
    ).toBe("weur");
    expect(page.freshestReplica({ replicas, freshness: none, quarantined: none })).toBe(null);
  });
});
