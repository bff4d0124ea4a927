/** Byte-level Ed25519 fixtures for the policy and engine tests: field prime, encodings, the base point. */
import { fromHex } from "../../shared/bytes.js";

/** The field prime 2^255 − 19. */
export const P = (1n << 255n) - 19n;

/** `n` as 32 little-endian bytes. */
export const le32 = (n: bigint): Uint8Array => {
  const b = new Uint8Array(32);
  for (let i = 0; i < 32; i++) b[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return b;
};

/** The same encoding with the x sign bit set. */
export const withSign = (b: Uint8Array): Uint8Array => {
  const c = b.slice();
  c[31]! |= 0x80;
  return c;
};

/** The base point B: canonical, prime order. */
export const BASE = fromHex("5866666666666666666666666666666666666666666666666666666666666666");

/** A signature R ‖ S from its two halves. */
export const sig = (r: Uint8Array, s: bigint): Uint8Array => {
  const out = new Uint8Array(64);
  out.set(r, 0);
  out.set(le32(s), 32);
  return out;
};
