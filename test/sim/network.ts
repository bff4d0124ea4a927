/**
 * The simulated network: packets in flight with a delivery tick each. Loss, duplication, delay (and
 * so reordering), long delays past the protocol timers, partitions, one node cut off, and
 * adversarial holds (one node's messages kept back while the others run, then released at once).
 * Every random choice comes from the world's PRNG.
 */
import type { Prng } from "./prng.js";

export interface Packet {
  at: number;
  from: number;
  to: number;
  data: string;
  /** Built by a Byzantine node as a tampered STATE: a correct node must never adopt it. */
  tampered?: boolean;
}

export interface Hold {
  node: number;
  /** Hold what the node sends, what it receives, or both. */
  dir: "out" | "in" | "both";
  untilTick: number;
}

export class Network {
  loss = 0;
  dup = 0;
  delayMax = 1;
  /** With probability `p` a packet's delay is drawn up to `maxTicks` instead (past the timers). */
  longDelay: { p: number; maxTicks: number } | null = null;
  /** Group id per node; messages between different groups are dropped. null: no partition. */
  partition: number[] | null = null;
  /** One node cut off (everything to and from it dropped) until a tick. */
  cut: { node: number; untilTick: number } | null = null;
  hold: Hold | null = null;
  private packets: Packet[] = [];

  constructor(private readonly rng: Prng) {}

  get inFlight(): number {
    return this.packets.length;
  }

  /** Put a packet on the wire at `tick` (or drop it, or duplicate it). */
  send(tick: number, from: number, to: number, data: string, tampered = false): void {
    if (this.partition && this.partition[from] !== this.partition[to]) return;
    if (this.cut && this.cut.untilTick > tick && (this.cut.node === from || this.cut.node === to)) return;
    if (this.rng.chance(this.loss)) return;
    const copies = this.rng.chance(this.dup) ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      const long = this.longDelay && this.rng.chance(this.longDelay.p);
      let at = tick + this.rng.int(1, long ? this.longDelay!.maxTicks : this.delayMax);
      const h = this.hold;
      if (h && h.untilTick > tick && held(h, from, to)) at = Math.max(at, h.untilTick + this.rng.int(0, 2));
      const p: Packet = { at, from, to, data };
      if (tampered) p.tampered = true;
      this.packets.push(p);
    }
  }

  /** The packets due at `tick`, shuffled (a fair network delivers in no particular order). */
  due(tick: number): Packet[] {
    const due: Packet[] = [];
    const later: Packet[] = [];
    for (const p of this.packets) (p.at <= tick ? due : later).push(p);
    this.packets = later;
    return this.rng.shuffle(due);
  }

  /** Back to a fair network: no loss, little duplication, short delays, nothing held or cut. */
  heal(): void {
    this.partition = null;
    this.cut = null;
    this.hold = null;
    this.longDelay = null;
    this.loss = 0;
    this.dup = 0.02;
    this.delayMax = 2;
  }
}

function held(h: Hold, from: number, to: number): boolean {
  if (h.dir === "out") return from === h.node;
  if (h.dir === "in") return to === h.node;
  return from === h.node || to === h.node;
}
