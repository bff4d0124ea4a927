/**
 * The hidden-adversary classes of the boundaries issue, at every point where the simulator hands a
 * peer's data to product code: a replicate message (`parseReplicateText`), an anti-entropy page
 * (`parseLogPage`), a certified batch (`parseCertifiedBatch`, what `Follower.screen` runs). The
 * Byzantine replica plays them on its messages, the Byzantine node on its posts.
 *
 * - structured clone: what Durable Object RPC and queues carry and JSON cannot, handed over instead
 *   of text — a Map, a Set, a Date, a typed array, an object with a getter, an object with a
 *   prototype, a sparse array, an own `__proto__` member, a number past JSON's range, a BigInt;
 * - padding: the same message with whitespace around every token, a `__proto__` member in the text,
 *   a duplicate member, nesting past the depth bound, text past the size bound, and a client op
 *   validly signed over a body past the op size bound (the liar makes its own client key).
 *
 * Checked at each: the product's parser refuses the trick, or parses it to exactly what it parses
 * from the honest text (canonical JSON equal); an oversized signed op is refused entry by entry.
 */
import { canonicalJson } from "../../../shared/canonical.js";
import { OP_BYTES_MAX } from "../../../shared/op-limits.js";
import {
  parseEntryList,
  parseLogPage,
  parseReplicateText,
  REPLICATE_TEXT_CHARS_MAX,
} from "../../../shared/replication.js";
import { CERTIFIED_BATCH_CHARS_MAX, parseCertifiedBatch } from "../../../shared/wire/certified-batch.js";
import type { PeerParse } from "../../../shared/wire/peer-text.js";
import { Prng } from "../prng.js";
import { SystemViolation } from "./checks.js";
import { CLONE_TRICKS, cloneOnly, PADDING_TRICKS, spaced, type Trick } from "./trick-library.js";
import type { SimCrypto } from "./crypto.js";

export type BoundaryPoint = "replicate" | "log-page" | "certified";

const LIMIT: Record<BoundaryPoint, number> = {
  replicate: REPLICATE_TEXT_CHARS_MAX,
  // an oversized page (16 M characters) costs too much per seed; the page's other tricks stand
  "log-page": 0,
  certified: CERTIFIED_BATCH_CHARS_MAX,
};

/** The product's parser at each point (a plant may swap in a lax one). */
export type Parsers = Record<BoundaryPoint, (input: unknown) => PeerParse<unknown>>;

export const PRODUCT_PARSERS: Parsers = {
  replicate: parseReplicateText,
  "log-page": parseLogPage,
  certified: parseCertifiedBatch,
};

/** A parser that takes an object as if it were the text's parse: the bug the clone tricks must catch. */
export const laxParsers = (p: Parsers): Parsers => ({
  replicate: (x) => (typeof x === "string" ? p.replicate(x) : { ok: true, value: x }),
  "log-page": (x) => (typeof x === "string" ? p["log-page"](x) : { ok: true, value: x }),
  certified: (x) => (typeof x === "string" ? p.certified(x) : { ok: true, value: x }),
});

export interface Played {
  point: BoundaryPoint;
  trick: Trick;
  /** What is handed to the product instead of the honest text. */
  input: unknown;
}

export class BoundaryTricks {
  /** A PRNG of its own: the rest of a seed draws as without the tricks. */
  private readonly rng: Prng;
  private readonly rate: number;

  constructor(
    plan: { seed: number; trickRate: number },
    private readonly crypto: SimCrypto,
    readonly parsers: Parsers,
    private readonly count: (what: string) => void,
  ) {
    this.rng = new Prng(plan.seed ^ 0x7c1c);
    this.rate = plan.trickRate;
  }

  /**
   * A Byzantine sender's text at `point`, maybe replaced by a trick, checked against the product's
   * parser there before it is handed on.
   */
  async maybe(point: BoundaryPoint, text: string): Promise<unknown> {
    if (!this.rng.chance(this.rate)) return text;
    const played = await this.play(point, text);
    if (!played) return text;
    this.check(played, text, this.parsers[point](played.input));
    return played.input;
  }

  /** A trick played on `text` (honest wire text at `point`), or null if the drawn one does not fit. */
  async play(point: BoundaryPoint, text: string): Promise<Played | null> {
    const trick = this.rng.pick([...CLONE_TRICKS, ...PADDING_TRICKS]);
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return null; // junk already (the Byzantine node's): nothing to dress up
    }
    const member = point === "certified" ? "ops" : "entries";
    let input: unknown;
    if ((CLONE_TRICKS as readonly string[]).includes(trick))
      input = { ...parsed, [member]: cloneOnly(trick, parsed[member]) };
    else if (trick === "whitespace") input = spaced(text);
    else if (trick === "proto-text") input = `{"__proto__":{"polluted":true},${text.slice(1)}`;
    else if (trick === "duplicate-member") input = `{"${member}":[],${text.slice(1)}`;
    else if (trick === "deep-nesting") input = `{"pad":${"[".repeat(200)}${"]".repeat(200)},${text.slice(1)}`;
    else if (trick === "oversized") {
      if (!LIMIT[point]) return null;
      input = text + " ".repeat(LIMIT[point] - text.length + 1);
    } else {
      if (point === "certified") return null;
      input = await this.signedOversized(parsed, point);
    }
    this.count(`trick.${point}.${trick}`);
    return { point, trick, input };
  }

  /** The message with one more entry: a client op, validly signed, past the op size bound. */
  private async signedOversized(parsed: Record<string, unknown>, point: BoundaryPoint): Promise<string> {
    const key = await this.crypto.clientKey("liar");
    const op = await this.crypto.sign(key, {
      type: "register",
      key: "k0",
      seq: this.rng.int(1, 1_000_000),
      ts: 0,
      args: { v: "x".repeat(OP_BYTES_MAX) },
    } as never);
    const entries = [...(parsed.entries as unknown[]), { op, status: "ok", effect: null }];
    return JSON.stringify(point === "replicate" ? { ...parsed, entries } : { ...parsed, entries });
  }

  /** The product refused `p`, or parsed it to what it parses from `honest`; the oversized op refused. */
  check(p: Played, honest: string, got: PeerParse<unknown>): void {
    const where = `${p.point} (${p.trick})`;
    if (!got.ok) return this.count(`trick.refused`);
    if (p.trick === "signed-oversized") {
      const entries = (got.value as { entries: unknown[] }).entries;
      if (parseEntryList(entries.slice(-1))[0] !== null)
        throw new SystemViolation(`${where}: an op past ${OP_BYTES_MAX} bytes passed the entry parser`);
      return this.count("trick.refused_entry");
    }
    const want = this.parsers[p.point](honest);
    let same = false;
    try {
      same = want.ok && canonicalJson(got.value as never) === canonicalJson(want.value as never);
    } catch {
      same = false; // what canonical JSON cannot encode is not the honest parse
    }
    if (!same)
      throw new SystemViolation(
        typeof p.input === "string"
          ? `${where}: the parser accepted padded text as other data than the honest text`
          : `${where}: the parser accepted a structured-clone object instead of text`,
      );
    this.count("trick.same");
  }
}
