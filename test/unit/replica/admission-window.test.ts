// The seq window is relative to the highest seq seen from the client: a client far past SEQ_WINDOW
// ops keeps writing, and a jump is measured from where it is, not from zero.
import { describe, expect, it } from "vitest";
import { SEQ_WINDOW, admitOp } from "../../../shared/admission.js";
import { AspecError } from "../../../shared/errors.js";
import type { SignedOp } from "../../../shared/ops.js";

const NOW = 1_800_000_000_000;
const at = (seq: number) => ({ seq, ts: NOW }) as SignedOp;
const verdict = (seq: number, maxSeqSeen: number) => {
  try {
    return admitOp(at(seq), undefined, maxSeqSeen, NOW).kind;
  } catch (e) {
    return (e as AspecError).code;
  }
};

describe("the seq window moves with the client", () => {
  it("a client past SEQ_WINDOW ops can still write its next op", () => {
    expect(verdict(SEQ_WINDOW + 1, SEQ_WINDOW)).toBe("new");
    expect(verdict(5 * SEQ_WINDOW + 1, 5 * SEQ_WINDOW)).toBe("new");
  });

  it("the bound is exactly maxSeqSeen + SEQ_WINDOW, wherever the client is", () => {
    for (const seen of [0, 1, 7, SEQ_WINDOW, 3 * SEQ_WINDOW + 11]) {
      expect(verdict(seen + SEQ_WINDOW, seen)).toBe("new");
      expect(verdict(seen + SEQ_WINDOW + 1, seen)).toBe("seq_out_of_range");
    }
  });

  it("the refusal names the client's last seen seq", () => {
    const e = (() => {
      try {
        admitOp(at(2 * SEQ_WINDOW + 2), undefined, SEQ_WINDOW + 1, NOW);
      } catch (x) {
        return x as AspecError;
      }
      throw new Error("accepted");
    })();
    expect(e.code).toBe("seq_out_of_range");
    expect(e.details).toEqual({ lastSeq: SEQ_WINDOW + 1 });
  });
});
