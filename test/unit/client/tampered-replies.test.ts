// Bad input, client side: every field of a valid certificate, read proof and result proof in a
// replica-signed reply is mutated (the replica re-signs the lie, so its signature is no help); each
// mutation must be refused with a stable reason, and the client's state must not move (certified
// seq, pinned cluster, uncertified count). fast-check picks the field and the mutation.
import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { AspecClient } from "../../../client/client.js";
import { ReplyVerificationError, type VerificationReason } from "../../../client/errors.js";
import { endedAfterEach } from "../../support/client-cleanup.js";
import { TestDeployment } from "../../support/sdk-deployment.js";

type Path = (string | number)[];

/** Every leaf (and every array, for drop / duplicate) under `v`, as paths. */
function paths(v: unknown, at: Path = []): Path[] {
  if (Array.isArray(v)) return [at, ...v.flatMap((x, i) => paths(x, [...at, i]))];
  if (typeof v === "object" && v !== null) return Object.entries(v).flatMap(([k, x]) => paths(x, [...at, k]));
  return [at];
}

const get = (v: unknown, p: Path): unknown => p.reduce<unknown>((o, k) => (o as never)[k], v);

/** Replace (or delete) the value at `p`; returns false when the mutation would change nothing. */
function mutate(root: Record<string, unknown>, p: Path, kind: number, pick: number): boolean {
  const parent = get(root, p.slice(0, -1)) as Record<string | number, unknown>;
  const k = p.at(-1)!;
  const old = parent[k];
  const set = (nv: unknown) => {
    if (JSON.stringify(nv) === JSON.stringify(old)) return false;
    parent[k] = nv;
    return true;
  };
  if (Array.isArray(old)) {
    if (old.length === 0) return set([null]);
    return kind % 2 === 0
      ? set(old.filter((_, i) => i !== pick % old.length))
      : set([...old, old[pick % old.length]]);
  }
  switch (kind % 4) {
    case 0:
      if (Array.isArray(parent)) return set(undefined === old ? 0 : null);
      delete parent[k];
      return true;
    case 1:
      return set(
        typeof old === "number" ? old + 1 + (pick % 3) : typeof old === "string" ? flip(old, pick) : 1,
      );
    case 2:
      return set(
        typeof old === "number" ? Math.max(0, old - 1 - (pick % 3)) : typeof old === "string" ? "" : "x",
      );
    default:
      return set(typeof old === "string" ? 7 : typeof old === "number" ? String(old) : "a".repeat(64));
  }
}

/** Change one character of a string, staying in its alphabet (hex stays hex, base64url stays base64url). */
function flip(s: string, pick: number): string {
  if (s.length === 0) return "x";
  const i = pick % Math.min(s.length, 40); // not the last base64url character, whose low bits may be unused
  const hex = /^[0-9a-f]+$/.test(s);
  const alphabet = hex
    ? "0123456789abcdef"
    : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const c = s[i]!;
  const n = alphabet[(alphabet.indexOf(c) + 1 + (pick % 5)) % alphabet.length]!;
  return s.slice(0, i) + (n === c ? alphabet[0] : n) + s.slice(i + 1);
}

let d: TestDeployment;
let c: AspecClient;
const ended = endedAfterEach();
let opId: string;

// Built per test, not in beforeAll: code reached outside a test counts as module-level for mutation
// testing, and Stryker runs such mutants without activating them (they "survive" whatever this checks).
beforeEach(async () => {
  d = await TestDeployment.create();
  c = ended(await AspecClient.connect(d.connectOptions({ replica: "weur", maxUncertified: Infinity })));
  // a batch of three, so result proofs have a path; the op checked is the middle one
  await c.counter("m").add(1);
  opId = (await c.account("acct").deposit(4)).opId;
  await c.set("tags").add("x");
  await d.certify();
  await c.counter("m").add(1);
  await d.certify();
  // honest replies pass (and set the client's seq to 2)
  expect((await c.opStatus(opId)).certified?.result.value).toBe(4);
  expect((await c.get("acct")).certified?.value?.value).toBe(4);
  expect((await c.getCertified("absent-key")).certified.value).toBeNull();
  expect(c.certifiedSeq).toBe(2);
});

/**
 * Check that every mutation at `paths` of the signed reply to `call` is refused with one of
 * `reasons`. `fields` lists the subtrees mutated, relative to the reply.
 */
async function refusesEvery(
  path: "op-status" | "read" | "certified-read",
  fields: Path[],
  call: () => Promise<unknown>,
  reasons: VerificationReason[],
  runs = 150,
) {
  const honest = await call();
  const targets = fields.flatMap((f) => paths(get(honest, f), f));
  expect(targets.length).toBeGreaterThan(5);
  const before = { seq: c.certifiedSeq, cluster: JSON.stringify(c.cluster), uncertified: c.uncertified };
  const seen = new Set<string>();
  await fc.assert(
    fc.asyncProperty(fc.nat(targets.length - 1), fc.nat(3), fc.nat(1000), async (t, kind, pick) => {
      let changed = false;
      d.lie = (p, reply) => {
        if (p === path) changed = mutate(reply, targets[t]!, kind, pick);
        return reply;
      };
      const e = await call().then(
        () => null,
        (x: unknown) => x,
      );
      d.lie = undefined;
      fc.pre(changed);
      seen.add(targets[t]!.join("."));
      if (!(e instanceof ReplyVerificationError))
        throw new Error(`accepted a mutation at ${targets[t]!.join(".")} (kind ${kind}): ${String(e)}`);
      expect(reasons).toContain(e.reason);
      expect(e.replica).toBe("weur");
      expect({ seq: c.certifiedSeq, cluster: JSON.stringify(c.cluster), uncertified: c.uncertified }).toEqual(
        before,
      );
    }),
    { numRuns: runs },
  );
  // every field was hit at least once across runs, or reported
  return { targets: targets.length, hit: seen.size };
}

describe("every mutation of a certificate or proof is refused, and changes nothing", () => {
  it("in a certified op result (GET /v1/ops/:id): its certificate, seq, result and proof", async () => {
    // (`proof.count` is left out: a results proof commits to membership, not to the batch size —
    // shared/certified/results.ts — so another count of the same shape may fold the same way.)
    const { targets, hit } = await refusesEvery(
      "op-status",
      [
        ["certified", "certificate"],
        ["certified", "seq"],
        ["certified", "result"],
        ["certified", "proof", "index"],
        ["certified", "proof", "path"],
        ["certificate"],
      ],
      () => c.opStatus(opId),
      ["bad_certificate", "bad_result_proof", "certificate_regressed"],
      300,
    );
    expect(hit).toBeGreaterThan(targets / 2);
  });

  it("in a read (GET /v1/kv/:key): its certificate and certified value with proof", async () => {
    const { targets, hit } = await refusesEvery(
      "read",
      [["certificate"], ["certified"]],
      () => c.get("acct"),
      ["bad_certificate", "bad_read_proof", "certificate_regressed"],
      300,
    );
    expect(hit).toBeGreaterThan(targets / 2);
  });

  it("in a certified read of an absent key (a non-inclusion proof)", async () => {
    await refusesEvery(
      "certified-read",
      [["certificate"], ["certified"]],
      () => c.getCertified("absent-key"),
      ["bad_certificate", "bad_read_proof", "certificate_regressed"],
    );
  });
});
