/**
 * A certified batch whose ops, executed here, do not give the certificate's roots: the replica
 * rolls the batch back, logs `certified_root_mismatch` loudly, counts it (visible in
 * `GET /v1/replicas`), and from then on claims no certified value. Its own file: the replicas
 * stay diverged for the rest of it.
 */
import { certifiedBatchText } from "../../shared/wire/certified-batch.js";
import { SELF } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { CertificationStats } from "../../durable-objects/certified-replica.js";
import type { OpReply, ReadReply } from "../../shared/replies.js";
import { certifiedMarks, TestCluster } from "./cert-helpers.js";
import { REPLICAS, post, stub, TestClient } from "./helpers.js";
import { opIdOf } from "../../shared/ops.js";
import { restartAll } from "./state-digest.js";

const get = (path: string) => SELF.fetch(`https://edge.test${path}`);
const readAt = async (key: string, replica: string) =>
  (await (await get(`/v1/kv/${encodeURIComponent(key)}?replica=${replica}`)).json()) as ReadReply;

afterEach(() => vi.restoreAllMocks());

describe("certified root mismatch", () => {
  it("counted, logged loudly, rolled back; certified reads refused afterwards", async () => {
    const cluster = await TestCluster.create();
    const c = await TestClient.create();
    const a = await c.sign("mm/acct", "account", "deposit", { n: 10 });
    expect((await post(a, "weur")).status).toBe(200);
    const good = await cluster.certify([a]);
    for (const r of REPLICAS)
      expect(await stub(r).receiveCertified(r, certifiedBatchText(good.message))).toMatchObject({
        outcome: "applied",
      });
    expect((await readAt("mm/acct", "weur")).certified!.value).toMatchObject({ value: 10 });

    // The nodes certify a state root this replica's execution of the same ops does not give.
    const b = await c.sign("mm/acct", "account", "withdraw", { n: 4 });
    expect((await post(b, "weur")).status).toBe(200);
    const bad = await cluster.certify([b], { stateRoot: "ab".repeat(32) });
    const errors = vi.spyOn(console, "error");
    expect(await stub("weur").receiveCertified("weur", certifiedBatchText(bad.message))).toMatchObject({
      outcome: "root_mismatch",
      seq: 2,
      head: 1,
    });
    expect(errors).toHaveBeenCalledWith(
      expect.objectContaining({
        event: "certified_root_mismatch",
        replica: "weur",
        seq: 2,
        certified: expect.objectContaining({ stateRoot: "ab".repeat(32) }),
        computed: expect.objectContaining({ stateRoot: expect.stringMatching(/^[0-9a-f]{64}$/) }),
      }),
    );

    const listed = (await (await get("/v1/replicas")).json()) as {
      certification: Record<string, CertificationStats | null>;
    };
    expect(listed.certification.weur).toMatchObject({
      certification: "diverged",
      rootMismatches: 1,
      seq: 1,
      diverged: { seq: 2, certified: { stateRoot: "ab".repeat(32) } },
    });
    expect(listed.certification.enam).toMatchObject({ certification: "ok", rootMismatches: 0 });

    // rolled back: the certified state is still seq 1's, b stays uncertified in the op log
    expect(await certifiedMarks("weur", [opIdOf(a), opIdOf(b)])).toEqual([1, 0]);
    // and it claims no certified value any more, saying why; the last clean certificate stays
    const read = await readAt("mm/acct", "weur");
    expect(read).toMatchObject({ certification: "diverged", certified: null });
    expect(read.certificate).toEqual(good.certificate);
    const again = (await (await post(b, "weur")).json()) as OpReply;
    expect(again).toMatchObject({ duplicate: true, certification: "diverged", uncertified: 1 });
    const latest = await get("/v1/certificates/latest?replica=weur");
    expect(await latest.json()).toMatchObject({ certification: "diverged" });

    // later batches are dropped (halted), also a correct one for seq 2 and the ones after it
    const next = await cluster.certify([]);
    expect(await stub("weur").receiveCertified("weur", certifiedBatchText(next.message))).toMatchObject({
      outcome: "halted",
    });
    expect((await stub("weur").stats()).certification).toMatchObject({ seq: 1, rootMismatches: 1 });
    // survives a restart: the divergence is in storage, not in memory
    await restartAll();
    expect(await readAt("mm/other", "weur")).toMatchObject({ certification: "diverged", certified: null });
    expect((await stub("weur").stats()).certification).toMatchObject({ seq: 1, rootMismatches: 1 });
    expect((await readAt("mm/acct", "enam")).certified!.value).toMatchObject({ value: 10 });
  });
});
