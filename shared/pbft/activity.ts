/**
 * Client activity keeps the heartbeat running (`heartbeat.ts`): each op submitted here and each
 * replica's request for a beat extends the window to `heartbeatActivityTicks` from now. Extending
 * is idempotent and bounded (now plus the window), so asking more often keeps nothing beating longer.
 */
import type { ReplicaState } from "./state.js";

export function noteActivity(s: ReplicaState): void {
  if (s.cfg.heartbeatActivityTicks <= 0) return;
  s.beatUntilTick = Math.max(s.beatUntilTick, s.tick + s.cfg.heartbeatActivityTicks);
}
