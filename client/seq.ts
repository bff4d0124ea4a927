/**
 * The per-client operation counter. A replica accepts a client's seq only if it has not seen it and
 * it is not too far above the highest it has seen, so seqs are handed out strictly increasing and a
 * client that persists its key must persist `next` with it.
 */
import { SEQ_MAX } from "../shared/ops.js";

export class SeqCounter {
  #next: number;

  constructor(next = 1) {
    if (!Number.isSafeInteger(next) || next < 1 || next > SEQ_MAX)
      throw new RangeError(`seq must be an integer in [1, ${SEQ_MAX}], got ${next}`);
    this.#next = next;
  }

  /** The seq the next op will get. */
  get next(): number {
    return this.#next;
  }

  /** Hand out the next seq. Synchronous, so concurrent ops never share one. */
  take(): number {
    if (this.#next > SEQ_MAX) throw new RangeError("seq space exhausted");
    return this.#next++;
  }

  /** After the server reports `lastSeq` as the highest it has seen from us: never go back. */
  advancePast(lastSeq: number): void {
    if (!Number.isSafeInteger(lastSeq) || lastSeq < 0) return;
    this.#next = Math.max(this.#next, lastSeq + 1);
  }
}
