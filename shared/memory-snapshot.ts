/**
 * The memory host of a store whose whole state is one value: a transaction keeps a copy and puts
 * it back if its body throws (all of its writes kept, or none), and a clone is a copy — what a
 * restarted host finds. The memory stores of the replica core and of the certified follower.
 */
export class SnapshotState<S> {
  protected s: S;

  constructor(
    private readonly copyOf: (s: S) => S,
    initial: S,
  ) {
    this.s = initial;
  }

  transaction<T>(body: () => T): T {
    const saved = this.copyOf(this.s);
    try {
      return body();
    } catch (e) {
      this.s = saved;
      throw e;
    }
  }

  /** `into` (a fresh store) with an independent copy of this one's state. */
  protected copyInto<C extends SnapshotState<S>>(into: C): C {
    into.s = this.copyOf(this.s);
    return into;
  }
}
