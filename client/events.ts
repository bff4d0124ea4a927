/** A small typed event emitter (no Node `events` import: the SDK runs in browsers too). */

export type Listener<T> = (event: T) => void;

export class Emitter<Events extends { [name: string]: unknown }> {
  readonly #listeners = new Map<keyof Events, Set<Listener<never>>>();

  /** Subscribe; returns the unsubscribe function. */
  on<K extends keyof Events>(name: K, fn: Listener<Events[K]>): () => void {
    let set = this.#listeners.get(name);
    if (!set) this.#listeners.set(name, (set = new Set()));
    set.add(fn as Listener<never>);
    return () => this.off(name, fn);
  }

  off<K extends keyof Events>(name: K, fn: Listener<Events[K]>): void {
    this.#listeners.get(name)?.delete(fn as Listener<never>);
  }

  has(name: keyof Events): boolean {
    return (this.#listeners.get(name)?.size ?? 0) > 0;
  }

  /** Call each listener; one that throws is reported and does not stop the others or the client. */
  emit<K extends keyof Events>(name: K, event: Events[K]): void {
    for (const fn of [...(this.#listeners.get(name) ?? [])]) {
      try {
        (fn as Listener<Events[K]>)(event);
      } catch (e) {
        console.error({ event: "listener_threw", name: String(name), error: String(e) });
      }
    }
  }
}
