/**
 * Every Durable Object hashes with node:crypto's SHA-256 (durable-objects/native-sha256.ts), not
 * the portable default, and gets the portable one's bytes. This file imports no Durable Object
 * module itself: what it sees inside each object is what the Worker's own modules installed.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { toHex, utf8 } from "../../shared/bytes.js";
import { portableSha256, sha256, sha256Implementation } from "../../shared/hash.js";

/** Inputs around the 64-byte block and its padding boundary, and a few larger ones. */
const inputs = (): Uint8Array[] => [
  ...Array.from({ length: 131 }, (_, n) => new Uint8Array(n).map((_, i) => (i * 31 + n) & 0xff)),
  ...[1000, 4096, 65_537].map((n) => new Uint8Array(n).map((_, i) => (i * 7 + 3) & 0xff)),
];

function checkInside(): { impl: string; mismatches: number; ownBuffers: boolean } {
  let mismatches = 0;
  let ownBuffers = true;
  for (const d of inputs()) {
    const h = sha256(d);
    if (toHex(h) !== toHex(portableSha256(d))) mismatches++;
    if (h.length !== 32 || h.byteOffset !== 0 || h.buffer.byteLength !== 32) ownBuffers = false;
  }
  if (toHex(sha256(utf8("abc"))) !== "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    mismatches++;
  return { impl: sha256Implementation(), mismatches, ownBuffers };
}

describe("native SHA-256 in every Durable Object", () => {
  it("EdgeReplica hashes with node:crypto, byte-identical to the portable SHA-256", async () => {
    const stub = env.EDGE_REPLICA.get(env.EDGE_REPLICA.idFromName("native-sha256"));
    expect(await runInDurableObject(stub, () => checkInside())).toEqual({
      impl: "node:crypto",
      mismatches: 0,
      ownBuffers: true,
    });
  });

  it("PbftNode hashes with node:crypto, byte-identical to the portable SHA-256", async () => {
    const stub = env.PBFT_NODE.get(env.PBFT_NODE.idFromName("native-sha256"));
    expect(await runInDurableObject(stub, () => checkInside())).toEqual({
      impl: "node:crypto",
      mismatches: 0,
      ownBuffers: true,
    });
  });

  it("Directory hashes with node:crypto, byte-identical to the portable SHA-256", async () => {
    const stub = env.DIRECTORY.get(env.DIRECTORY.idFromName("native-sha256"));
    expect(await runInDurableObject(stub, () => checkInside())).toEqual({
      impl: "node:crypto",
      mismatches: 0,
      ownBuffers: true,
    });
  });
});
