// What a developer sees for a misconfigured client: `AspecClient.connect` refuses a bad option at
// once, with an error that names the option (and the value) — nothing is sent — and the options it
// accepts are what the client then reports.
import { describe, expect, it } from "vitest";
import { AspecClient, type ConnectOptions } from "../../../client/client.js";
import { AspecClientError } from "../../../client/errors.js";
import { TestDeployment } from "../../support/sdk-deployment.js";

async function connect(over: Partial<ConnectOptions>) {
  const d = await TestDeployment.create();
  return { d, connecting: AspecClient.connect(d.connectOptions({ replica: "weur", ...over })) };
}

/** The error `connect(over)` refuses with; nothing reached the deployment. */
async function refused(over: Partial<ConnectOptions>): Promise<Error> {
  const { d, connecting } = await connect(over);
  const e = await connecting.then(
    () => expect.fail("connect accepted the options"),
    (x: unknown) => x,
  );
  expect(d.requests.filter((r) => r.path === "/v1/ops")).toHaveLength(0);
  return e as Error;
}

describe("connect refuses a bad option, naming it", () => {
  it("retry.attempts below 1", async () => {
    const e = await refused({ retry: { attempts: 0 } });
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toContain("retry.attempts");
  });

  it("a negative or NaN retry delay", async () => {
    for (const retry of [{ baseDelayMs: -1 }, { maxDelayMs: Number.NaN }]) {
      const e = await refused({ retry });
      expect(e).toBeInstanceOf(RangeError);
      expect(e.message).toContain("retry delays");
    }
  });

  it("maxUncertified that is not an integer ≥ 0 or Infinity, with the value given", async () => {
    const e = await refused({ maxUncertified: 1.5 });
    expect(e).toBeInstanceOf(RangeError);
    expect(e.message).toContain("maxUncertified");
    expect(e.message).toContain("1.5");
  });

  it("certifyDeadlineMs that is not > 0", async () => {
    for (const certifyDeadlineMs of [0, -5, Number.NaN]) {
      const e = await refused({ certifyDeadlineMs });
      expect(e).toBeInstanceOf(RangeError);
      expect(e.message).toContain("certifyDeadlineMs");
    }
  });

  it("a key whose secret is not a base64url 32-byte seed (the decoding error kept as the cause)", async () => {
    const d = await TestDeployment.create();
    const key = { secret: "not a seed!", publicKey: d.replica("weur").key.publicKey };
    const e = await refused({ key });
    expect(e).toBeInstanceOf(AspecClientError);
    expect((e as AspecClientError).code).toBe("invalid_key");
    expect(e.message).toContain("key.secret");
    expect(e.message).toContain("32-byte seed");
    expect(e.cause).toBeInstanceOf(Error);
  });
});

describe("the options connect accepted are what the client reports", () => {
  it("maxUncertified: the value given, 4 by default, Infinity kept", async () => {
    for (const [given, seen] of [
      [2, 2],
      [undefined, 4],
      [0, 0],
      [Infinity, Infinity],
    ] as const) {
      const { connecting } = await connect(given === undefined ? {} : { maxUncertified: given });
      const c = await connecting;
      expect(c.maxUncertified).toBe(seen);
      c.close();
    }
  });
});
