/**
 * A certificate as it crosses a boundary (shared/certified/types.ts `Certificate`): exactly `body`
 * and `sigs`, the body exactly its signed fields, each signature exactly `{node, sig}`. Shape only:
 * whether the signatures are valid is `verifyCertificate`'s to say.
 */
import { isDigestHex } from "../certified/hashing.js";
import type { Certificate } from "../certified/types.js";
import * as z from "../zod.js";

/** Signatures a certificate may carry at most (a quorum is 2f+1 of n; every node signing is n). */
export const CERTIFICATE_SIGS_MAX = 64;
/** Characters of one signature at most (an Ed25519 signature is 86–88 in base64url/base64). */
export const SIG_CHARS_MAX = 256;

const count = z.int().check(z.minimum(0), z.maximum(Number.MAX_SAFE_INTEGER));
const digest = z.string().check(z.refine(isDigestHex, "a digest is 64 lowercase hex characters"));

export const certificateSchema = z.strictObject({
  body: z.strictObject({
    cluster: z.string().check(z.minLength(1), z.maxLength(256)),
    view: count,
    seq: count,
    logRoot: digest,
    stateRoot: digest,
    resultsRoot: digest,
    opCount: count,
    time: count,
  }),
  sigs: z
    .array(z.strictObject({ node: count, sig: z.string().check(z.maxLength(SIG_CHARS_MAX)) }))
    .check(z.maxLength(CERTIFICATE_SIGS_MAX)),
}) satisfies z.ZodMiniType<Certificate>;
