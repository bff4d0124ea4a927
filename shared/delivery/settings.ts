/**
 * The bounds and periods of a replica's delivery tasks (durable-objects/delivery.ts), and the
 * deployment knobs that set them. Pure: a knob is read from the Worker's variables as a string.
 */
import type { PaceBounds } from "./certify-pace.js";
import { DEDUPE_HORIZON_MS_DEFAULT } from "./op-gc.js";
import { periodsFrom, type Periods } from "./timers.js";

/** Own ops per drain (the rest in the next run, at once). */
export const OUTBOX_DRAIN_MAX = 2000;
/** Own ops per re-send tick. */
export const RESEND_MAX = 2000;
/** Ops per anti-entropy page, and pages per peer per alarm run (then the next run, at once). */
export const ANTI_ENTROPY_PAGE_MAX = 500;
export const ANTI_ENTROPY_PAGES_MAX = 4;
/** Own uncertified ops submitted again per certify run (then the next run, at once). */
export const CERTIFY_RESUBMIT_MAX = 500;
/** The certify task's pacing bounds: halve down to 25 ops a run, wait up to 30 s more between runs. */
export const CERTIFY_PACE: PaceBounds = {
  limitMax: CERTIFY_RESUBMIT_MAX,
  limitMin: 25,
  backoffBaseMs: 1_000,
  backoffMaxMs: 30_000,
};
/** Op rows deleted per gc run (then the next run, at once). */
export const GC_BATCH_MAX = 1000;
/** How long one alarm task may hold the alarm (each peer call inside has its own, shorter deadline). */
export const ALARM_TASK_DEADLINE_MS = 20_000;
/** How soon after a batch was buffered behind a gap the certified catch-up runs (ms, at most). */
export const GAP_SYNC_DELAY_MS = 500;

/** The Worker variables that tune delivery (all optional). */
export interface DeliveryKnobs {
  readonly DRAIN_DELAY_MS?: string;
  readonly ANTI_ENTROPY_MS?: string;
  readonly DEDUPE_HORIZON_MS?: string;
}

const knobMs = (v: string | undefined, fallback: number, max: number): number => {
  const ms = Number(v);
  return v !== undefined && v !== "" && Number.isFinite(ms) && ms >= 0 ? Math.min(ms, max) : fallback;
};
/** Batching window of the outbox drain (DRAIN_DELAY_MS, default 20). */
export const drainDelayMs = (k: DeliveryKnobs): number => knobMs(k.DRAIN_DELAY_MS, 20, 10_000);
/** The anti-entropy period (ANTI_ENTROPY_MS, default 1000); re-send every 3, gc every 5 periods. */
export const periodsOf = (k: DeliveryKnobs): Periods =>
  periodsFrom(Math.max(10, knobMs(k.ANTI_ENTROPY_MS, 1000, 24 * 3600_000)));
/** DEDUPE_HORIZON_MS (default twice the accepted client clock skew). */
export const horizonMs = (k: DeliveryKnobs): number =>
  knobMs(k.DEDUPE_HORIZON_MS, DEDUPE_HORIZON_MS_DEFAULT, 365 * 24 * 3600_000);
/** How long an acknowledged op may stay uncertified before its origin submits it again (ms). */
export const certifyAfterMs = (k: DeliveryKnobs): number => Math.max(2_000, 2 * periodsOf(k).antiEntropy);
