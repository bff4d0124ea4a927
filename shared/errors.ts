/**
 * The one error shape of the HTTP API: `{ error: { code, message } }` with a stable `code`.
 * Thrown anywhere as `AspecError`, rendered once by the edge Worker's `onError`.
 */
export const ERROR_STATUS = {
  malformed_json: 400,
  invalid_request: 400,
  // `x-aspec-nonce` that is not base64url of 16–32 bytes (shared/replies.ts `isNonce`).
  invalid_nonce: 400,
  unknown_type: 400,
  unknown_op: 400,
  invalid_args: 400,
  // A body that ended before its Content-Length (the sender hung up): nothing was read or changed.
  truncated_body: 400,
  bad_signature: 401,
  client_equivocated: 403,
  not_found: 404,
  unknown_replica: 404,
  unknown_certificate: 404,
  unknown_op_id: 404,
  not_certified: 409,
  method_not_allowed: 405,
  seq_replayed: 409,
  op_expired: 409,
  type_mismatch: 409,
  // A write the namespace's owner did not allow (shared/namespaces/authorize.ts).
  not_authorized: 403,
  // A namespace op whose key is not `@<name>`, or another op on a key starting with `@` (names.ts).
  invalid_namespace: 400,
  payload_too_large: 413,
  ts_out_of_range: 422,
  seq_out_of_range: 422,
  not_configured: 503,
  unavailable: 503,
  internal: 500,
  // Input the API cannot keep faithfully, or would read back differently than it was written.
  invalid_key: 400,
  duplicate_field: 400,
  reserved_name: 400,
  unsupported_media_type: 415,
  // Evidence and quarantine (shared/evidence.ts, workers/evidence-routes.ts).
  invalid_evidence: 422,
  unknown_evidence: 404,
  replica_quarantined: 503,
  not_quarantined: 404,
  unauthorized: 401,
  forbidden: 403,
  // `POST /v1/evidence` past its per-client rate (with `Retry-After`).
  rate_limited: 429,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/**
 * Codes only a replica decides (it had the op and its own state in hand): a replica signs these
 * (`ErrorReply`), and the SDK refuses one that comes unsigned. Every other code may come from the
 * edge Worker before any replica saw the request, unsigned.
 */
export const REPLICA_ERROR_CODES: ReadonlySet<string> = new Set([
  "bad_signature",
  "client_equivocated",
  "seq_replayed",
  "op_expired",
  "type_mismatch",
  "not_authorized",
  "ts_out_of_range",
  "seq_out_of_range",
]);

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

export class AspecError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = "AspecError";
  }
  get status(): number {
    return ERROR_STATUS[this.code];
  }
  toBody(): ErrorBody {
    return {
      error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) },
    };
  }
  /** Rebuild from a JSON error body (the SDK does this with replies); null if it isn't one. */
  static fromBody(body: unknown): AspecError | null {
    const e = (body as ErrorBody | null)?.error;
    if (!e || typeof e.code !== "string" || !Object.hasOwn(ERROR_STATUS, e.code)) return null;
    return new AspecError(e.code, String(e.message), e.details);
  }
}

export const isAspecError = (e: unknown): e is AspecError =>
  e instanceof AspecError || (e as { name?: string } | null)?.name === "AspecError";
