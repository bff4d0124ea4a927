/**
 * How a PBFT node Durable Object runs its core: timing, heartbeat, the dev pool bound.
 */
import { PBFT_NODES } from "../shared/cluster-config.js";
import { isDev } from "../shared/config.js";
import { DEFAULT_PBFT_CONFIG, type PbftConfig } from "../shared/pbft/config.js";
import { heartbeatActivityTicksFrom, heartbeatTicksFrom } from "../shared/pbft/heartbeat.js";
import type { PbftEnv } from "../platform/pbft-env.js";

/** The core's timing in a Durable Object: 50 ms ticks (an alarm per tick only while busy). */
export const NODE_CONFIG: Partial<PbftConfig> = {
  tickMs: 50,
  batchSizeMax: 100,
  statusIntervalTicks: 20,
  retransmitAfterTicks: 10,
  requestTimeoutTicks: 50, // ×2: the first expiry relays, the second (5 s without progress) suspects
  viewChangeTimeoutTicks: 60,
  relayAfterTicks: 20,
  stateTransferIntervalTicks: 20,
};

/** NODE_CONFIG with the deployment's heartbeat settings and, in dev, the pool bound. */
export function nodeConfig(env: PbftEnv): Partial<PbftConfig> {
  return {
    ...NODE_CONFIG,
    heartbeatTicks: heartbeatTicksFrom(env.HEARTBEAT_MS, NODE_CONFIG.tickMs!),
    heartbeatActivityTicks: heartbeatActivityTicksFrom(env.HEARTBEAT_ACTIVITY_MS, NODE_CONFIG.tickMs!),
    ...devPoolSize(env),
  };
}

/**
 * Dev only: `POOL_SIZE_MAX` bounds the request pool (at least a batch, at most the default), so a
 * test can fill it; unset, malformed or outside dev: the default.
 */
function devPoolSize(env: PbftEnv): Partial<PbftConfig> {
  const v = env.POOL_SIZE_MAX;
  if (!isDev(env.ENVIRONMENT) || v === undefined || !/^[0-9]{1,6}$/.test(v)) return {};
  const n = Number(v);
  return n >= NODE_CONFIG.batchSizeMax! && n <= DEFAULT_PBFT_CONFIG.poolSizeMax ? { poolSizeMax: n } : {};
}

/** The node id an object of an earlier version kept (`pbft_identity`), if any. */
export function legacyNodeId(sql: SqlStorage): string | undefined {
  if (sql.exec("SELECT 1 FROM sqlite_master WHERE name = 'pbft_identity'").toArray().length === 0) return;
  return sql.exec<{ id: string }>("SELECT id FROM pbft_identity").toArray()[0]?.id;
}

/** Is `id` one of the deployment's PBFT node ids? */
export const isNodeId = (id: unknown): id is string =>
  typeof id === "string" && PBFT_NODES.some((n) => n.id === id);
