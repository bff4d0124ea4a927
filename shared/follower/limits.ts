/**
 * The certified follower's bounds: how far ahead it buffers, how much it keeps. One place, so the
 * core, its stores and the tests agree.
 */
import { DEDUPE_HORIZON_MS_DEFAULT } from "../delivery/op-gc.js";

/** Seqs ahead of the next one that are buffered (a batch further ahead is dropped, counted). */
export const CERT_BUFFER_SEQS = 64;
/** Distinct batches buffered per seq (a faulty carrier's wrong ops can't crowd out the right ones). */
export const CERT_BUFFER_VARIANTS = 4;
/** Certificates kept for `GET /v1/certificates/:seq` (the newest). */
export const CERTS_KEPT = 128;
/**
 * How long (by the cluster's clock, certificates' `time`) an op's certified result and its batch's
 * certificate stay answerable (`GET /v1/ops/:id`): the op log's dedupe horizon, so an op is proven
 * for as long as it is known. By time, not by seqs: heartbeats certify a seq every 2 s when idle.
 */
export const RESULTS_KEPT_MS = DEDUPE_HORIZON_MS_DEFAULT;
