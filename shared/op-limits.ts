/**
 * Every limit on a signed op, in one place (docs/architecture.md, "Limits"). The schema path
 * (`parseOpReference`), the fast path (`parseOpFast`) and the PBFT wire check (`isSignedOpShape`)
 * all read them from here, so a node never accepts on the wire an op that `parseOp` refuses, nor
 * the other way round (test/unit/wire/op-limits-agree.test.ts generates ops at every one of them).
 */
import { JSON_DEPTH_MAX } from "./json-value.js";

/** A key: 1 to this many bytes of UTF-8 (the rest of its grammar is `kv-key.ts`). */
export const KEY_BYTES_MAX = 256;
/** The canonical encoding of a whole signed op. */
export const OP_BYTES_MAX = 8 * 1024;
/** `seq` is an integer in [SEQ_MIN, SEQ_MAX]: 0 is "no op yet" for a client's counter. */
export const SEQ_MIN = 1;
export const SEQ_MAX = Number.MAX_SAFE_INTEGER;
/** `ts` (ms) is an integer in [0, TS_MAX]. */
export const TS_MAX = Number.MAX_SAFE_INTEGER;
/** `args` is an object holding values of up to `JSON_DEPTH_MAX` levels (a register's `v`). */
export const ARGS_DEPTH_MAX = JSON_DEPTH_MAX + 1;

/** Length of the unpadded base64url text of `bytes` bytes. */
export const b64uLength = (bytes: number): number => Math.ceil((bytes * 4) / 3);
/** `client` is an Ed25519 public key (32 bytes), `sig` an Ed25519 signature (64 bytes), base64url. */
export const PUBLIC_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;
export const CLIENT_CHARS = b64uLength(PUBLIC_KEY_BYTES); // 43
export const SIG_CHARS = b64uLength(SIGNATURE_BYTES); // 86
export const B64U_RE = /^[A-Za-z0-9_-]+$/;
/** Ops in one batch (`POST /v1/ops/batch`): each is answered as if sent alone; more is refused whole. */
export const BATCH_OPS_MAX = 100;
