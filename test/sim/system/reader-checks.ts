/**
 * What a verifying client may accept, checked against the truth (truth.ts), not against the SDK's
 * own reasoning, after every reply a reading client took:
 * - every certificate it accepted is the one the correct nodes made for its seq (same body);
 * - from one replica, a newer request is never answered with an older newest certificate (the
 *   client's requests are sequential, so every earlier reply came before the request was sent);
 * - a certified value it accepted is the key's value in the certified state of that seq, a
 *   certified result the op's result in the certified order;
 * - and it accepted no reply the liar told as a provable lie (lying-replies.ts).
 */
import { canonicalJson } from "../../../shared/canonical.js";
import type { Certificate } from "../../../shared/certified/types.js";
import type { CertifiedReadReply, OpStatusReply, ReadReply } from "../../../shared/replies.js";
import { SystemViolation } from "./checks.js";
import type { LyingReply } from "./lying-replies.js";
import { resultText, type Truth } from "./truth.js";

export type Accepted = ReadReply | CertifiedReadReply | OpStatusReply;

export class ReaderChecker {
  /** `${client}:${replica}` → the newest certified seq accepted from that replica. */
  private readonly newest = new Map<string, number>();

  constructor(
    private readonly truth: Truth,
    /** The pinned cluster's id (what translated certificates name). */
    private readonly clusterId: string,
  ) {}

  accepted(client: number, asked: string, reply: Accepted, lie: LyingReply | null): void {
    const who = `client ${client} from ${asked}`;
    if (lie?.provable) throw new SystemViolation(`${who}: accepted a provable lie (${lie.lie})`);
    this.certificate(who, reply.certificate);
    const k = `${client}:${asked}`;
    const seq = reply.certificate?.body.seq ?? 0;
    const before = this.newest.get(k) ?? 0;
    if (seq < before)
      throw new SystemViolation(`${who}: accepted certificate seq ${seq} as newest after seq ${before}`);
    this.newest.set(k, seq);
    if (reply.kind === "op-status") {
      if (!reply.certified) return;
      this.certificate(who, reply.certified.certificate);
      const want = this.truth.result(reply.opId);
      if (want !== resultText(reply.certified.result))
        throw new SystemViolation(
          `${who}: accepted certified result ${resultText(reply.certified.result)} of ${reply.opId}, certified: ${want}`,
        );
      return;
    }
    if (!reply.certified) return;
    const got = canonicalJson(reply.certified.value as never);
    const want = this.truth.value(reply.certified.seq, reply.key);
    if (got !== want)
      throw new SystemViolation(
        `${who}: accepted certified ${reply.key} = ${got} at seq ${reply.certified.seq}, certified: ${want}`,
      );
  }

  private certificate(who: string, cert: Certificate | null): void {
    if (cert === null) return;
    const made = this.truth.body(cert.body.seq);
    const same = made && canonicalJson({ ...made, cluster: this.clusterId }) === canonicalJson(cert.body);
    if (!same)
      throw new SystemViolation(
        `${who}: accepted a certificate of seq ${cert.body.seq} the nodes did not make`,
      );
  }
}
