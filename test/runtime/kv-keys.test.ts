/**
 * One key grammar for reads and writes (issue 6, item 6): a key refused on one path is refused on
 * the other with the same status and code, and every key a write accepts reads back through the
 * SDK's URL encoding (`kvPath`).
 */
import { SELF } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isAspecError } from "../../shared/errors.js";
import { keyProblem, kvPath } from "../../shared/kv-key.js";
import { post, TestClient } from "./helpers.js";
import { digestAll, settled } from "./state-digest.js";

const get = (path: string) => SELF.fetch(`https://edge.test${path}?replica=weur`);

async function errorOf(res: Response): Promise<[number, string]> {
  const body = (await res.json()) as { error?: { code: string } };
  return [res.status, body.error?.code ?? "(no error)"];
}

describe("one key grammar, one error, on both paths", async () => {
  const c = await TestClient.create();

  /** [what, key, the raw path segment a GET sends for it] */
  const BAD: [string, string, string][] = [
    ["empty", "", ""],
    ["a newline (%0A used to read 404)", "a\nb", "a%0Ab"],
    ["NUL (%00 used to read 200 type:null)", "a\u0000", "a%00"],
    ["DEL", "a\u007f", "a%7F"],
    ["a C1 control", "a\u0085", "a%C2%85"],
    ["300 bytes (used to read 200 type:null)", "k".repeat(300), "k".repeat(300)],
    ["257 bytes of UTF-8", "é".repeat(128) + "e", encodeURIComponent("é".repeat(128) + "e")],
    ["a lone surrogate", "a\ud800", "a%ED%A0%80"],
  ];

  for (const [what, key, segment] of BAD) {
    it(`${what}: 400 invalid_key on write and on read, nothing stored`, async () => {
      const before = await settled();
      const write = await errorOf(await post(await c.sign(key, "counter", "add", { n: 1 })));
      const read = await errorOf(await get(`/v1/kv/${segment}`));
      expect(write).toEqual([400, "invalid_key"]);
      expect(read).toEqual(write);
      expect(await digestAll()).toEqual(before);
    });
  }

  it("'.' and '..': refused on write; no URL can name them, and the SDK refuses them before sending", async () => {
    for (const key of [".", ".."]) {
      expect(await errorOf(await post(await c.sign(key, "counter", "add", { n: 1 })))).toEqual([
        400,
        "invalid_key",
      ]);
      expect(() => kvPath(key)).toThrow(expect.objectContaining({ code: "invalid_key" }));
    }
    // the URL parser resolves the dot segment, %2E included: /v1/kv/. and /v1/kv/%2E are /v1/kv/
    expect(await errorOf(await get("/v1/kv/."))).toEqual([400, "invalid_key"]);
    expect(await errorOf(await get("/v1/kv/%2E"))).toEqual([400, "invalid_key"]);
  });

  it("a malformed percent-encoding in a GET path is invalid_key, not a crash", async () => {
    for (const seg of ["%", "%zz", "a%E9", "%C0%80"])
      expect(await errorOf(await get(`/v1/kv/${seg}`))).toEqual([400, "invalid_key"]);
  });

  it("every accepted key reads back under the same key through kvPath (unicode, '/', '%', '?', '#', spaces)", async () => {
    const unit = fc.constantFrom(..."aZ09 /%?#&=+.:;,@!$'()*[]~-_\\\"<>{}|^`é€😀中".split(/(?:)/u));
    const keys = fc
      .array(unit, { minLength: 1, maxLength: 20 })
      .map((a) => a.join(""))
      .filter((k) => keyProblem(k) === null);
    let n = 0;
    await fc.assert(
      fc.asyncProperty(keys, fc.integer({ min: 1, max: 9 }), async (key, amount) => {
        const k = `rt/${n++}/${key}`;
        const res = await post(await c.sign(k, "counter", "add", { n: amount }));
        expect(res.status).toBe(200);
        const read = await get(kvPath(k));
        expect(read.status).toBe(200);
        expect(await read.json()).toMatchObject({ key: k, type: "counter", value: amount });
      }),
      { numRuns: 40 },
    );
  });

  it("a raw '/' and its %2F name the same key", async () => {
    expect((await post(await c.sign("dir/file", "counter", "add", { n: 5 }))).status).toBe(200);
    for (const path of ["/v1/kv/dir/file", "/v1/kv/dir%2Ffile"])
      expect(await (await get(path)).json()).toMatchObject({ key: "dir/file", value: 5 });
  });

  it("the SDK's kvPath throws AspecError for a bad key (no request is made)", () => {
    try {
      kvPath("a\nb");
      expect.unreachable();
    } catch (e) {
      expect(isAspecError(e)).toBe(true);
    }
  });
});
