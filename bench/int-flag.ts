/** An integer command-line flag of a benchmark, checked once: `--name` must be an integer ≥ `min`. */
export function intFlag(
  flags: Record<string, unknown>,
  name: string,
  min: number,
  fallback?: number,
): number {
  const raw = flags[name];
  if (raw === undefined && fallback !== undefined) return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min) throw new Error(`--${name} must be an integer ≥ ${min}`);
  return v;
}
