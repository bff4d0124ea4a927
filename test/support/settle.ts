// Waiting on promises boundedly in tests driven by a test clock: nothing here sleeps.
import { expect } from "vitest";

/** Turn the event loop until `cond` holds (bounded: fails rather than hangs). */
export async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 20_000 && !cond(); i++) await new Promise((r) => setImmediate(r));
  expect(cond()).toBe(true);
}

/** Settles `p` into a flag and value, so a test can wait for it boundedly. */
export function watch<T>(p: Promise<T>) {
  const w: { done: boolean; value?: T; error?: unknown } = { done: false };
  p.then(
    (value) => Object.assign(w, { done: true, value }),
    (error: unknown) => Object.assign(w, { done: true, error }),
  );
  return w;
}
