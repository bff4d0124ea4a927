/**
 * Who posts a certified batch (shared/pbft/posting.ts): each seq has exactly one poster and one
 * fallback poster, never the same node, and every node takes both roles in turn.
 */
import { describe, expect, it } from "vitest";
import { postingRole } from "../../../shared/pbft/posting.js";

describe("postingRole", () => {
  it("gives each seq one poster (seq mod n) and one fallback (the next node in line); the rest keep it", () => {
    const n = 4;
    for (let seq = 1; seq <= 40; seq++) {
      const roles = Array.from({ length: n }, (_, me) => postingRole(seq, n, me));
      expect(roles.filter((r) => r === "post")).toHaveLength(1);
      expect(roles.filter((r) => r === "fallback")).toHaveLength(1);
      expect(roles.indexOf("post")).toBe(seq % n);
      expect(roles.indexOf("fallback")).toBe((seq + 1) % n);
    }
  });
});
