/** Counters of dropped hostile input and of protocol events: expected things, counted not thrown. */
export type Stats = Record<string, number>;

export function count(stats: Stats, what: string, by = 1): void {
  stats[what] = (stats[what] ?? 0) + by;
}
