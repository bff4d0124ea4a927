/**
 * What `npm run demo -- --endpoint URL` changes on a server it did not start, and putting it back:
 * the dev faults it switches on (switched off again) and the quarantines its lies cause (lifted with
 * the operator's ADMIN_TOKEN when it has one). What it cannot put back is printed with the exact
 * command that does. A server the demo started itself is thrown away whole, so it needs none of this.
 */

/** Something the demo changed and could not put back, and the command that does. */
export interface Leftover {
  what: string;
  undo: string;
}

export interface DemoChangesOptions {
  endpoint: string;
  faultToken: string;
  /** The server's ADMIN_TOKEN; undefined: quarantines are left, and said so. */
  adminToken: string | undefined;
  /** Each request's bound (a server that hangs must not hold the demo's exit for ever). */
  timeoutMs?: number;
}

const REQUEST_TIMEOUT_MS = 10_000;

type Quarantines = Record<string, { kind: string; digest: string } | null>;

/** A `curl` line for a POST, quoted for a POSIX shell. */
const curl = (url: string, headers: string[], body?: string) =>
  ["curl -X POST", `'${url}'`, ...headers.map((h) => `-H '${h}'`), ...(body ? [`-d '${body}'`] : [])].join(
    " ",
  );

export class DemoChanges {
  readonly #o: Required<Omit<DemoChangesOptions, "adminToken">> & { adminToken: string | undefined };
  /** Targets whose faults the demo switched on (or may have: noted before the request). */
  readonly #faulted = new Set<string>();
  /** Replicas already quarantined when the demo began: not its doing, never lifted by it. */
  #quarantinedBefore = new Set<string>();
  #restored: Promise<Leftover[]> | undefined;

  constructor(o: DemoChangesOptions) {
    this.#o = { timeoutMs: REQUEST_TIMEOUT_MS, ...o };
  }

  /** Read which replicas are quarantined before the demo changes anything. */
  async begin(): Promise<void> {
    const q = await this.#quarantines();
    this.#quarantinedBefore = new Set(Object.keys(q).filter((name) => q[name]));
  }

  /** Switch `target`'s dev faults (`{}`: all off), noting it first so that an interrupted call is undone too. */
  async setFaults(target: string, faults: object): Promise<void> {
    if (Object.keys(faults).length > 0) this.#faulted.add(target);
    const r = await this.#post(
      "/v1/dev/faults",
      { "content-type": "application/json", "x-aspec-fault-token": this.#o.faultToken },
      JSON.stringify({ target, faults }),
    );
    if (!r.ok) throw new Error(`POST /v1/dev/faults ${target}: ${r.status} ${await r.text()}`);
  }

  /**
   * Put back what the demo changed; once (later calls share the first's answer). Never throws:
   * what it could not put back is in the answer, with the command that does it.
   */
  restore(): Promise<Leftover[]> {
    return (this.#restored ??= this.#restore());
  }

  async #restore(): Promise<Leftover[]> {
    const left: Leftover[] = [];
    for (const target of this.#faulted) {
      try {
        await this.setFaults(target, {});
      } catch (e) {
        left.push({
          what: `${target}'s dev faults are still on (${String(e)})`,
          undo: this.#faultsOffCommand(target),
        });
      }
    }
    let now: Quarantines;
    try {
      now = await this.#quarantines();
    } catch (e) {
      // which quarantines exist is unknown: every target the demo made lie may be one
      for (const target of this.#faulted)
        if (!this.#quarantinedBefore.has(target))
          left.push({ what: `${target} may be quarantined (${String(e)})`, undo: this.#liftCommand(target) });
      return left;
    }
    for (const target of this.#faulted) {
      const q = now[target];
      if (!q || this.#quarantinedBefore.has(target)) continue;
      const why = await this.#lift(target);
      if (why !== null)
        left.push({
          what: `${target} is still quarantined (${q.kind}, evidence ${q.digest}): ${why}`,
          undo: this.#liftCommand(target),
        });
    }
    return left;
  }

  /** Lift `name`'s quarantine; null when done (or already lifted), else why not. */
  async #lift(name: string): Promise<string | null> {
    if (this.#o.adminToken === undefined) return "no admin token given (--admin-token)";
    try {
      const r = await this.#post(`/v1/admin/quarantine/${encodeURIComponent(name)}/lift`, {
        authorization: `Bearer ${this.#o.adminToken}`,
      });
      if (r.ok) return null;
      const body = (await r.json().catch(() => null)) as { error?: { code?: string } } | null;
      if (body?.error?.code === "not_quarantined") return null;
      return `the lift was refused: ${r.status} ${body?.error?.code ?? ""}`.trim();
    } catch (e) {
      return `the lift failed: ${String(e)}`;
    }
  }

  #faultsOffCommand(target: string): string {
    return curl(
      `${this.#o.endpoint}/v1/dev/faults`,
      ["content-type: application/json", `x-aspec-fault-token: ${this.#o.faultToken}`],
      JSON.stringify({ target, faults: {} }),
    );
  }

  #liftCommand(name: string): string {
    return curl(`${this.#o.endpoint}/v1/admin/quarantine/${encodeURIComponent(name)}/lift`, [
      "authorization: Bearer <ADMIN_TOKEN>",
    ]);
  }

  async #quarantines(): Promise<Quarantines> {
    const r = await fetch(`${this.#o.endpoint}/v1/replicas`, {
      signal: AbortSignal.timeout(this.#o.timeoutMs),
    });
    if (!r.ok) throw new Error(`GET /v1/replicas: ${r.status}`);
    return ((await r.json()) as { quarantined: Quarantines }).quarantined;
  }

  #post(path: string, headers: Record<string, string>, body?: string): Promise<Response> {
    return fetch(`${this.#o.endpoint}${path}`, {
      method: "POST",
      headers,
      body,
      signal: AbortSignal.timeout(this.#o.timeoutMs),
    });
  }
}

/** The lines that tell the user what is left on their server and how to undo each. */
export function describeLeftovers(endpoint: string, left: readonly Leftover[]): string {
  if (left.length === 0)
    return `Put back: ${endpoint} is as the demo found it (faults off, no quarantine it caused).`;
  return [
    `LEFT ON ${endpoint} — the demo could not put these back:`,
    ...left.flatMap((l) => [`  - ${l.what}`, `    undo: ${l.undo}`]),
  ].join("\n");
}
