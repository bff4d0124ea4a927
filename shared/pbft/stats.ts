/** Counters of dropped hostile input and of protocol events: expected things, counted not thrown. */
export type Stats = Record<string, number>;

export function count(stats: Stats, what: string, by = 1): void {
  stats[what] = (stats[what] ?? 0) + by;
}

/**
 * Mean ops per batch the primary proposed from its pool (`batch.ops` over `batch.full` +
 * `batch.partial`; heartbeats and view-change re-proposals not counted); 0 before any.
 */
export function meanBatchSize(stats: Stats): number {
  const batches = (stats["batch.full"] ?? 0) + (stats["batch.partial"] ?? 0);
  return batches === 0 ? 0 : (stats["batch.ops"] ?? 0) / batches;
}
