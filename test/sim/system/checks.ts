/**
 * The whole system's checks, run after every replica step (`afterStep`) and, once the run healed,
 * until everything is certified everywhere (`unsettled`). A failure throws `SystemViolation`; the
 * run prints it with its seed, the replay command and the trace's last lines.
 *
 * The Byzantine replica (if the plan has one) is not checked, and an op only it acknowledged is owed
 * nothing; everything below is about the honest replicas.
 *
 * After every step, at every replica that is up:
 * - its certified state never diverged from a certificate;
 * - the certificate it holds is one the correct nodes made (the PBFT checker's, same body), it
 *   verifies, and the state root this replica computed is that certificate's: so replicas holding
 *   the same seq hold the same certified state, checked as well directly across replicas;
 * - tentative = certified + uncertified: for every key, `rebaseRecord` of the certified record and
 *   the effects of the op log's uncertified rows is the tentative record (so no op is applied twice,
 *   or lost from the tentative state, without this failing), an equivocation's rebuilt key too.
 * After healing, until a bound: every acknowledged op is in the certified state of every replica
 *   (the certified state executes an op id once: the PBFT checker fails on a second), an honest
 *   client's op in the version it had acknowledged, and no replica holds an uncertified op.
 * Also (world.ts): an honest client's op is never refused, and an op a replica holds is answered as
 * a duplicate when sent again. After every reading client's reply (readers.ts, reader-checks.ts):
 * an honest reply is never refused; what the SDK accepted is what the certified log certifies, and
 * a replica's newest certificate never goes back for a client; every provable lie is refused and its
 * evidence quarantines the liar; no honest replica is ever quarantined. At every boundary trick
 * (boundary-tricks.ts): the product's parser refuses it or parses it to the honest text's value.
 */
import { canonicalJson } from "../../../shared/canonical.js";
import { sameContent } from "../../../shared/equivocation.js";
import { rebaseRecord, type KeyRecord } from "../../../shared/materialize.js";
import { opIdOf, type SignedOp } from "../../../shared/ops.js";
import type { SafetyChecker } from "../checker.js";
import type { Certificate } from "../../../shared/certified/types.js";
import type { SimReplica } from "./replica.js";

export class SystemViolation extends Error {
  override name = "SystemViolation";
}

interface Acked {
  versions: SignedOp[];
  honest: boolean;
  /** Acknowledged by an honest replica (an op only the Byzantine replica acknowledged is owed nothing). */
  owed: boolean;
}

export class SystemChecker {
  /** op id → the versions some replica acknowledged. */
  readonly acked = new Map<string, Acked>();
  /** seq → the state root the first replica to hold it computed. */
  private readonly rootAt = new Map<number, string>();
  /** Per replica, its store's commit count when last checked (unchanged: nothing to check again). */
  private readonly checkedAt = new Map<number, number>();
  /** Per replica, the seq whose certificate was last verified. */
  private readonly verifiedSeq = new Map<number, number>();

  constructor(
    private readonly pbft: SafetyChecker,
    /** The Byzantine replica, if any: nothing of its state is checked. */
    private readonly byzantine: number | null,
    /** The clients' check of a certificate, independent of the replicas' (replica.ts uses SimCrypto). */
    private readonly certificateValid: (c: Certificate) => Promise<boolean>,
    private readonly keys: readonly string[],
  ) {}

  onAck(op: SignedOp, honest: boolean, byHonestReplica: boolean): void {
    const id = opIdOf(op);
    const a = this.acked.get(id) ?? { versions: [], honest, owed: false };
    a.owed ||= byHonestReplica;
    if (!a.versions.some((v) => sameContent(v, op))) a.versions.push(op);
    if (honest && a.versions.length > 1)
      throw new SystemViolation(`honest op ${id} acknowledged in two versions`);
    this.acked.set(id, a);
  }

  async afterStep(r: SimReplica): Promise<void> {
    const f = r.follower;
    if (!f || r.id === this.byzantine || this.checkedAt.get(r.id) === r.store.commits) return;
    this.checkedAt.set(r.id, r.store.commits);
    const head = f.head();
    if (head.diverged) throw new SystemViolation(`${r.name} diverged at seq ${head.diverged.seq}`);
    if (head.seq > 0) {
      const cert = f.latestCertificate();
      const made = this.pbft.certified.get(head.seq);
      if (!cert || cert.body.seq !== head.seq)
        throw new SystemViolation(`${r.name} head ${head.seq} without its certificate`);
      if (!made || canonicalJson(made.certificate.body) !== canonicalJson(cert.body))
        throw new SystemViolation(
          `${r.name} holds a certificate for seq ${head.seq} the correct nodes did not make`,
        );
      if (head.opCount !== cert.body.opCount)
        throw new SystemViolation(`${r.name} op count ${head.opCount} at seq ${head.seq}`);
      // the follower's own state machine: `local()` is typed for transfers, but is the machine itself
      const root = (f.local() as unknown as { stateRoot(): string }).stateRoot();
      if (root !== cert.body.stateRoot)
        throw new SystemViolation(
          `${r.name} computed state root ${root} at seq ${head.seq}, certificate says ${cert.body.stateRoot}`,
        );
      const other = this.rootAt.get(head.seq);
      if (other === undefined) this.rootAt.set(head.seq, root);
      else if (other !== root)
        throw new SystemViolation(`replicas hold different certified states at seq ${head.seq}`);
      if (this.verifiedSeq.get(r.id) !== head.seq) {
        if (!(await this.certificateValid(cert)))
          throw new SystemViolation(`${r.name} holds a certificate that does not verify`);
        this.verifiedSeq.set(r.id, head.seq);
      }
    }
    const pending = r.store.pendingByKey();
    for (const key of this.keys) {
      const want = rebaseRecord(f.record(key), pending.get(key) ?? []);
      const got = r.store.getRecord(key);
      if (sameRecord(want, got)) continue;
      throw new SystemViolation(
        `${r.name} tentative ${key} = ${JSON.stringify(got)}, certified + uncertified = ${JSON.stringify(want)}`,
      );
    }
  }

  /** What keeps the run from being settled (empty: every acknowledged op certified everywhere). */
  unsettled(replicas: readonly SimReplica[]): string[] {
    const out: string[] = [];
    for (const r of replicas) {
      if (r.id === this.byzantine) continue;
      const f = r.follower;
      if (!f) {
        out.push(`${r.name} is down`);
        continue;
      }
      let missing = 0;
      for (const a of this.acked.values()) if (a.owed && !f.isCertified(a.versions[0]!)) missing++;
      if (missing) out.push(`${r.name}: ${missing} acknowledged ops not certified`);
      const pending = [...r.store.pendingByKey().values()].reduce((n, l) => n + l.length, 0);
      if (pending) out.push(`${r.name}: ${pending} uncertified effects`);
    }
    return out;
  }

  /** Once settled: each honest client's op was certified in the version it had acknowledged. */
  checkCertifiedVersions(): void {
    const certified = new Map<string, SignedOp>();
    for (const b of this.pbft.certified.values()) for (const op of b.ops) certified.set(opIdOf(op), op);
    for (const [id, a] of this.acked) {
      if (!a.owed) continue;
      const c = certified.get(id);
      if (!c) throw new SystemViolation(`acknowledged op ${id} is not in any certified batch`);
      if (!a.versions.some((v) => sameContent(v, c)))
        throw new SystemViolation(`op ${id} certified in a version no replica acknowledged`);
    }
  }
}

/** Same record (JSON text first: both usually come out of the same encoder in the same key order). */
function sameRecord(a: KeyRecord | undefined, b: KeyRecord | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return JSON.stringify(a) === JSON.stringify(b) || canonicalJson(a as never) === canonicalJson(b as never);
}
