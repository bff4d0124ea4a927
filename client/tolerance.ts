/**
 * Tolerance k (`maxUncertified`): a new op is issued only while fewer than k of this client's ops
 * are uncertified, counted from the client's own bookkeeping (a slot is taken when an op is
 * issued and given back when its certification settles). k = 0 uses one slot (and the client also
 * waits for each op's certification before resolving it); k = Infinity never waits.
 * Waiting is a promise queue, first come first served: no polling.
 */
import { AspecClientError } from "./errors.js";

export class Tolerance {
  readonly #slots: number;
  #inFlight = 0;
  #waiters: { go: () => void; stop: (e: Error) => void }[] = [];
  #idle: (() => void)[] = [];

  constructor(readonly k: number) {
    if (!(k === Infinity || (Number.isSafeInteger(k) && k >= 0)))
      throw new RangeError(`maxUncertified must be an integer ≥ 0 or Infinity, got ${k}`);
    this.#slots = Math.max(1, k);
  }

  /** Ops issued and not yet settled (certified, or given up). */
  get uncertified(): number {
    return this.#inFlight;
  }

  /** True when `acquire` would wait now. */
  get full(): boolean {
    return this.#inFlight >= this.#slots || this.#waiters.length > 0;
  }

  /** Take a slot, waiting (in order) while all are taken. */
  async acquire(): Promise<void> {
    if (this.#inFlight < this.#slots && this.#waiters.length === 0) {
      this.#inFlight++;
      return;
    }
    await new Promise<void>((go, stop) => this.#waiters.push({ go, stop }));
  }

  /**
   * Take `n` slots for a batch: it goes out when a single op would (one slot free, no one waiting)
   * and then counts as `n` uncertified ops, past k if it is larger; later ops wait until the count
   * is under k again.
   */
  async acquireMany(n: number): Promise<void> {
    await this.acquire();
    this.#inFlight += n - 1;
  }

  /** Give a slot back: the first waiter takes it over (unless a batch holds more than k). */
  release(): void {
    if (this.#inFlight <= this.#slots) {
      const w = this.#waiters.shift();
      if (w) return w.go(); // the slot passes on: #inFlight unchanged
    }
    this.#inFlight--;
    if (this.#inFlight === 0) for (const done of this.#idle.splice(0)) done();
  }

  /** Resolves once no op is uncertified. */
  idle(): Promise<void> {
    return this.#inFlight === 0 ? Promise.resolve() : new Promise((r) => this.#idle.push(r));
  }

  /** Refuse every waiter (the client was closed). */
  close(): void {
    for (const w of this.#waiters.splice(0)) w.stop(new AspecClientError("closed", "the client was closed"));
  }
}
