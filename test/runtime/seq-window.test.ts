/**
 * The seq window through the real write path (Worker → replica → SQLite): it is measured from the
 * highest seq the replica stored for the client, so a client past SEQ_WINDOW ops keeps writing, and
 * a refused jump does not move that mark (the next op is judged from where the client really is).
 */
import { describe, expect, it } from "vitest";
import { SEQ_WINDOW } from "../../shared/admission.js";
import { post, read, TestClient } from "./helpers.js";

const code = async (res: Response) => ((await res.json()) as { error?: { code: string } }).error?.code;

describe("the seq window moves with the client", () => {
  it("a client past SEQ_WINDOW ops can still write", async () => {
    const c = await TestClient.create();
    const KEY = "window/far";
    expect((await post(await c.sign(KEY, "counter", "add", { n: 1 }, { seq: SEQ_WINDOW }))).status).toBe(200);
    c.seq = SEQ_WINDOW;
    expect((await post(await c.sign(KEY, "counter", "add", { n: 1 }))).status).toBe(200); // SEQ_WINDOW + 1
    const far = await c.sign(KEY, "counter", "add", { n: 1 }, { seq: 2 * SEQ_WINDOW + 1 });
    expect((await post(far)).status).toBe(200);
    expect(await read(KEY)).toMatchObject({ value: 3 });
  });

  it("a refused jump leaves the mark where it was", async () => {
    const c = await TestClient.create();
    const KEY = "window/refused";
    expect((await post(await c.sign(KEY, "counter", "add", { n: 1 }))).status).toBe(200); // seq 1
    const jump = await c.sign(KEY, "counter", "add", { n: 1 }, { seq: SEQ_WINDOW + 10 });
    const refused = await post(jump);
    expect(refused.status).toBe(422);
    expect(await code(refused)).toBe("seq_out_of_range");
    // Had the refused seq been noted, this one (within SEQ_WINDOW of it) would be accepted.
    const beyond = await c.sign(KEY, "counter", "add", { n: 1 }, { seq: SEQ_WINDOW + 5 });
    const res = await post(beyond);
    expect(res.status).toBe(422);
    expect(await code(res)).toBe("seq_out_of_range");
    expect(await read(KEY)).toMatchObject({ value: 1 });
  });
});
