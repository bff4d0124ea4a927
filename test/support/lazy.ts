/**
 * A fixture built on first use, inside the test that first asks for it. Tests build fixtures this
 * way rather than while they are collected or in `beforeAll`: StrykerJS counts code run outside a
 * test as module-level ("static") and, with the vitest runner, runs such mutants without
 * activating them, so they "survive" whatever the tests check.
 */
export function lazy<T>(build: () => T): () => T {
  let built: { value: T } | undefined;
  return () => (built ??= { value: build() }).value;
}
