/**
 * What every step of the delivery core (core.ts) works with: its configuration, its durable state
 * (state.ts), its own op log, what it keeps in memory only (lost with the instance, as the DO's
 * fields are), and the effects the step is building.
 */
import { fullPace, type CertifyPace } from "./certify-pace.js";
import type { DeliveryEffects } from "./effects.js";
import { IDLE_PERIOD_MAX_MS } from "./idle-backoff.js";
import { CERTIFY_PACE, type DeliveryKnobs } from "./settings.js";
import type { DeliveryState, OwnLog } from "./state.js";
import type { Task } from "./timers.js";

export interface DeliveryConfig {
  /** This replica's name, and its peers' (every other replica). */
  me: string;
  peers: readonly string[];
  knobs: DeliveryKnobs;
  /** The replicas run with their cluster (`CERTIFY` is not "off"): certify and certifiedSync run. */
  certify: boolean;
  /** The cluster's f (f + 1 busy answers slow the certify task down). */
  f: number;
  /** The longest idle period (default `IDLE_PERIOD_MAX_MS`; a simulator shortens it). */
  idleCapMs?: number;
}

/** In memory only: a new instance starts at full pace, with no drain scheduled and timers unchecked. */
export interface Volatile {
  drainScheduled: boolean;
  timersChecked: boolean;
  /** Alarm runs of this instance and the last one's time (what idling costs). */
  runs: { runs: number; lastAt: number | null };
  /** A task of the current alarm run found something to do (resets the idle level). */
  workFound: boolean;
  /** The alarm run under way: the idle level it started at and its due tasks. */
  run: { level: number; due: Task[] } | null;
  pace: CertifyPace;
  counts: { resubmitted: number; busy: number; deferred: number };
}

export const freshVolatile = (): Volatile => ({
  drainScheduled: false,
  timersChecked: false,
  runs: { runs: 0, lastAt: null },
  workFound: false,
  run: null,
  pace: fullPace(CERTIFY_PACE),
  counts: { resubmitted: 0, busy: 0, deferred: 0 },
});

export interface Ctx {
  readonly config: DeliveryConfig;
  readonly state: DeliveryState;
  readonly log: OwnLog;
  readonly mem: Volatile;
  readonly fx: DeliveryEffects;
}

export const capOf = (c: DeliveryConfig): number => c.idleCapMs ?? IDLE_PERIOD_MAX_MS;

export const isPeer = (c: DeliveryConfig, name: string): boolean => name !== c.me && c.peers.includes(name);

/** A task found work: the replica is not idle. */
export const work = (cx: Ctx): void => {
  cx.mem.workFound = true;
};

export const event = (cx: Ctx, name: string, fields: Record<string, unknown>): void => {
  cx.fx.events.push({ event: name, fields });
};

/** The alarm at `at` at the latest. */
export const alarmBy = (cx: Ctx, at: number): void => {
  cx.fx.alarmBy = cx.fx.alarmBy === null ? at : Math.min(cx.fx.alarmBy, at);
};
