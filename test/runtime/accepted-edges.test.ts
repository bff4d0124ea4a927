/**
 * The other side of issue 6's refusals: input at the edge of the rules is accepted, stored as
 * signed, and readable — set elements named like Object.prototype members (they used to crash the
 * OR-set with a 500), a register value exactly JSON_DEPTH_MAX deep, `charset=UTF-8`.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../../shared/canonical.js";
import { JSON_DEPTH_MAX } from "../../shared/json-value.js";
import { REPLICAS, eventually, post, read, TestClient } from "./helpers.js";

describe("edge cases that are accepted", async () => {
  const c = await TestClient.create();

  it("set elements __proto__, toString, constructor: add, read, remove", async () => {
    const names = ["__proto__", "toString", "constructor", "hasOwnProperty"];
    for (const x of names)
      expect((await post(await c.sign("edge/set", "set", "add", { x }))).status).toBe(200);
    expect(await read("edge/set")).toMatchObject({ type: "set", value: [...names].sort() });
    expect((await post(await c.sign("edge/set", "set", "remove", { x: "__proto__" }))).status).toBe(200);
    expect((await read("edge/set")).value).toEqual(names.slice(1).sort());
    await eventually(async () => {
      for (const r of REPLICAS) expect((await read("edge/set", r)).value).toEqual(names.slice(1).sort());
    });
  });

  it(`a register value exactly ${JSON_DEPTH_MAX} levels deep is accepted and read back as sent`, async () => {
    let v: unknown = "leaf";
    for (let i = 0; i < JSON_DEPTH_MAX; i++) v = i % 2 ? [v] : { k: v };
    const res = await post(await c.sign("edge/deep", "register", "set", { v: v as never }));
    expect(res.status).toBe(200);
    expect(canonicalJson((await read("edge/deep")).value)).toBe(canonicalJson(v));
  });

  it("Content-Type parameters: charset=UTF-8 (any case) is fine", async () => {
    for (const ct of [
      "application/json; charset=UTF-8",
      'Application/JSON;charset="utf-8"',
      "application/json;v=1",
    ]) {
      const res = await SELF.fetch("https://edge.test/v1/ops?replica=weur", {
        method: "POST",
        body: JSON.stringify(await c.sign("edge/ct", "counter", "add", { n: 1 })),
        headers: { "content-type": ct },
      });
      expect(res.status, ct).toBe(200);
    }
  });
});
