/**
 * A Durable Object's one alarm, set to the earliest wake-up its loop wants. Only this object sets
 * its alarm, so once an instance has read or set it, it knows it: a step that wants no earlier
 * wake-up costs no storage call (a node's every step ends here; under load `getAlarm`/`setAlarm`
 * per step was a visible share of a node's CPU). An alarm known to be due already is read again:
 * it has fired, or is about to (its handler re-arms).
 */
export class OneAlarm {
  /** As this instance last read or set it; undefined: not known yet; null: none set. */
  private at: number | null | undefined;

  constructor(private readonly storage: DurableObjectStorage) {}

  /** The alarm fired (its handler runs): it is gone, whatever is wanted next. */
  fired(): void {
    this.at = null;
  }

  /** Make sure the alarm rings no later than `wakeAtMs` (null: nothing wanted; never sooner than now). */
  async want(wakeAtMs: number | null): Promise<void> {
    if (wakeAtMs === null) return;
    const now = Date.now();
    const at = Math.max(wakeAtMs, now + 1);
    if (this.at === undefined || (this.at !== null && this.at <= now))
      this.at = await this.storage.getAlarm();
    if (this.at !== null && this.at <= at) return;
    await this.storage.setAlarm(at);
    this.at = at;
  }
}
