import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toHex } from "../../../shared/bytes.js";
import { sha256 } from "../../../shared/hash.js";
import { verifyResultProof } from "../../../shared/certified/proofs.js";
import {
  buildResultsTree,
  proveResults,
  resultInnerHash,
  RESULT_DOMAIN,
  resultLeafHash,
  resultsRoot,
  rootFromResultPath,
  splitPoint,
  type ResultProof,
} from "../../../shared/certified/results.js";
import type { OpResult } from "../../../shared/certified/types.js";
import { lazy } from "../../support/lazy.js";

const resultArb: fc.Arbitrary<OpResult> = fc
  .record({
    opId: fc.string({ minLength: 1, maxLength: 10 }),
    status: fc.constantFrom("ok" as const, "rejected" as const),
    reason: fc.option(fc.constantFrom("insufficient_funds", "type_mismatch"), { nil: undefined }),
    value: fc.oneof(fc.integer(), fc.string(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 })),
  })
  .map((r) => {
    const out: OpResult = { opId: r.opId, status: r.status, value: r.value };
    if (r.reason !== undefined) out.reason = r.reason;
    return out;
  });

/** RFC 9162 MTH, written out directly as an independent reference. */
function mth(rs: OpResult[]): Uint8Array {
  if (rs.length === 0) return sha256(new Uint8Array(0));
  if (rs.length === 1) return resultLeafHash(rs[0]!);
  const k = splitPoint(rs.length);
  return resultInnerHash(mth(rs.slice(0, k)), mth(rs.slice(k)));
}

describe("results tree", () => {
  it("a leaf is SHA-256 of 0x00, the domain, a newline and the result's canonical JSON (the wire format every verifier shares)", () => {
    const r: OpResult = { opId: "op-1", status: "rejected", reason: "insufficient_funds", value: 3 };
    const json = '{"opId":"op-1","reason":"insufficient_funds","status":"rejected","value":3}';
    const want = createHash("sha256")
      .update(Buffer.concat([Buffer.from([0]), Buffer.from(`${RESULT_DOMAIN}\n${json}`, "utf8")]))
      .digest("hex");
    expect(RESULT_DOMAIN).toBe("aspec/result/v1");
    expect(toHex(resultLeafHash(r))).toBe(want);
  });

  it("root matches the RFC 9162 definition", () => {
    fc.assert(
      fc.property(fc.array(resultArb, { maxLength: 40 }), (rs) => {
        expect(resultsRoot(rs)).toBe(toHex(mth(rs)));
      }),
    );
  });

  it("every result proves against the root; a changed result, index or root does not", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(resultArb, { selector: (r) => r.opId, minLength: 1, maxLength: 40 }),
        (rs) => {
          const tree = buildResultsTree(rs);
          rs.forEach((r, i) => {
            const p = tree.prove(i);
            expect(p.path.length).toBeLessThanOrEqual(Math.ceil(Math.log2(rs.length)));
            expect(verifyResultProof(tree.root, r, p)).toBe(true);
            expect(
              verifyResultProof(tree.root, { ...r, status: r.status === "ok" ? "rejected" : "ok" }, p),
            ).toBe(false);
            expect(verifyResultProof(tree.root, { ...r, value: "tampered" }, p)).toBe(false);
            expect(verifyResultProof(tree.root, { ...r, reason: "other" }, p)).toBe(false);
            if (rs.length > 1) {
              expect(verifyResultProof(tree.root, r, { ...p, index: (i + 1) % rs.length })).toBe(false);
            }
            expect(verifyResultProof(toHex(sha256(new Uint8Array([1]))), r, p)).toBe(false);
          });
        },
      ),
    );
  });

  it("proveResults gives one proof per result, in batch order", () => {
    const rs: OpResult[] = Array.from({ length: 7 }, (_, i) => ({ opId: `c:${i}`, status: "ok", value: i }));
    const proofs = proveResults(rs);
    expect(proofs.map((p) => p.index)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    proofs.forEach((p, i) => expect(verifyResultProof(resultsRoot(rs), rs[i]!, p)).toBe(true));
    // A proof for one op doesn't prove another op's result.
    expect(verifyResultProof(resultsRoot(rs), rs[1]!, proofs[0]!)).toBe(false);
  });

  it("ignores stray fields but commits to reason", () => {
    const r: OpResult = { opId: "c:1", status: "rejected", reason: "insufficient_funds", value: 3 };
    const withJunk = { ...r, junk: 1 } as OpResult;
    expect(toHex(resultLeafHash(withJunk))).toBe(toHex(resultLeafHash(r)));
    const { reason: _r, ...noReason } = r;
    expect(toHex(resultLeafHash(noReason))).not.toBe(toHex(resultLeafHash(r)));
  });

  it("rejects malformed proofs without throwing", () => {
    const rs: OpResult[] = [
      { opId: "a", status: "ok", value: 1 },
      { opId: "b", status: "ok", value: 2 },
      { opId: "c", status: "ok", value: 3 },
    ];
    const root = resultsRoot(rs);
    const good = proveResults(rs)[2]!;
    const bad: unknown[] = [
      null,
      {},
      { ...good, index: -1 },
      { ...good, index: 1.5 },
      { ...good, count: 0 },
      { ...good, path: ["xyz"] },
      { ...good, path: [...good.path, good.path[0]] },
      { ...good, path: good.path.slice(1) },
      { ...good, path: "nope" },
    ];
    for (const p of bad) expect(verifyResultProof(root, rs[2]!, p as ResultProof)).toBe(false);
    expect(verifyResultProof("not-a-root", rs[2]!, good)).toBe(false);
    expect(() => buildResultsTree(rs).prove(3)).toThrow(RangeError);
  });

  it("the empty batch has the RFC empty root", () => {
    expect(resultsRoot([])).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });
});

describe("results tree: leaves and paths it does not have", () => {
  const results: OpResult[] = [0, 1, 2].map((i): OpResult => ({ opId: `c:${i}`, status: "ok", value: i }));
  const tree = lazy(() => buildResultsTree(results)); // in the test, not at collection (lazy.ts says why)

  it("refuses to prove a leaf it does not have: past the end, negative, fractional", () => {
    expect(() => tree().prove(3)).toThrow(new RangeError("results: no leaf 3 in a batch of 3"));
    expect(() => tree().prove(-1)).toThrow(RangeError);
    expect(() => tree().prove(1.5)).toThrow(RangeError);
  });

  it("an audit path longer than its (index, count) shape folds to nothing", () => {
    const p = tree().prove(2);
    const leaf = resultLeafHash(results[2]!);
    expect(rootFromResultPath(leaf, 2, 3, p.path)).not.toBeNull();
    expect(rootFromResultPath(leaf, 2, 3, [...p.path, p.path[0]!])).toBeNull();
    expect(rootFromResultPath(leaf, 0, 1, [p.path[0]!])).toBeNull();
  });
});
