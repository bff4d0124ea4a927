/** The PBFT cluster config: one definition, keys from secrets or the dev seed, a digest that names it. */
import { describe, expect, it } from "vitest";
import { toB64u, toHex, utf8 } from "../../../shared/bytes.js";
import { canonicalJson } from "../../../shared/canonical.js";
import { clusterConfigProblem } from "../../../shared/certified/certificate.js";
import {
  CLUSTER_F,
  CLUSTER_NAME_DEFAULT,
  PBFT_NODES,
  clusterId,
  clusterOf,
  configDigest,
  nodeSecretName,
  resolveCluster,
} from "../../../shared/cluster-config.js";
import { devKeyPair, keyPairFromSeed } from "../../../shared/crypto/keys.js";
import { sha256 } from "../../../shared/hash.js";

const DEV = { ENVIRONMENT: "dev", DEV_SEED: "cluster-test-seed" };
const seed = (i: number) => toB64u(new Uint8Array(32).fill(i + 1));

describe("cluster config", () => {
  it("four nodes pbft-0..3 in wnam, enam, weur, apac; f = 1; a valid n = 3f+1 config", async () => {
    expect(PBFT_NODES.map((n) => `${n.id}@${n.region}`)).toEqual([
      "pbft-0@wnam",
      "pbft-1@enam",
      "pbft-2@weur",
      "pbft-3@apac",
    ]);
    const { config, info } = await resolveCluster(DEV);
    expect(clusterConfigProblem(config)).toBeNull();
    expect(info).toMatchObject({ cluster: CLUSTER_NAME_DEFAULT, n: 4, f: CLUSTER_F });
    for (const [i, n] of PBFT_NODES.entries())
      expect(config.nodes[i]).toEqual({
        id: n.id,
        publicKey: (await devKeyPair(DEV.DEV_SEED, n.id)).publicKey,
      });
  });

  it("the digest is SHA-256 of the config's canonical JSON, and changes with any key", async () => {
    const { config, info } = await resolveCluster(DEV);
    expect(info.configDigest).toBe(toHex(sha256(utf8(canonicalJson(config)))));
    const other = await resolveCluster({ ...DEV, DEV_SEED: "another-seed" });
    expect(other.info.configDigest).not.toBe(info.configDigest);
    const swapped = { ...config, nodes: [config.nodes[1]!, config.nodes[0]!, ...config.nodes.slice(2)] };
    expect(configDigest(swapped)).not.toBe(info.configDigest);
  });

  it("deployed: keys from PBFT_KEY_<ID> secrets; a missing one is not_configured, naming it", async () => {
    expect(PBFT_NODES.map((n) => nodeSecretName(n.id))).toEqual([
      "PBFT_KEY_PBFT_0",
      "PBFT_KEY_PBFT_1",
      "PBFT_KEY_PBFT_2",
      "PBFT_KEY_PBFT_3",
    ]);
    const secrets: Record<string, string> = Object.fromEntries(
      PBFT_NODES.map((n, i) => [nodeSecretName(n.id), seed(i)]),
    );
    const prod = { ENVIRONMENT: "production", DEV_SEED: "x", ...secrets };
    const { config } = await resolveCluster(prod);
    for (let i = 0; i < 4; i++)
      expect(config.nodes[i]!.publicKey).toBe(
        (await keyPairFromSeed(new Uint8Array(32).fill(i + 1))).publicKey,
      );
    const missing: Record<string, string> = { ...prod };
    delete missing.PBFT_KEY_PBFT_2;
    await expect(resolveCluster(missing as typeof prod)).rejects.toMatchObject({
      code: "not_configured",
      details: { secret: "PBFT_KEY_PBFT_2" },
    });
  });

  it("PBFT_PUBLIC_KEYS: the edge knows the nodes' keys without their secrets; malformed or partial is not_configured", async () => {
    const pairs = await Promise.all(
      PBFT_NODES.map((_, i) => keyPairFromSeed(new Uint8Array(32).fill(i + 1))),
    );
    const listed = JSON.stringify(Object.fromEntries(PBFT_NODES.map((n, i) => [n.id, pairs[i]!.publicKey])));
    // production, no PBFT_KEY_* secret at all: the listed keys are the config
    const { config } = await resolveCluster({ ENVIRONMENT: "production", PBFT_PUBLIC_KEYS: listed });
    expect(config.nodes.map((n) => n.publicKey)).toEqual(pairs.map((p) => p.publicKey));
    // and they win over the dev seed (a dev edge can point at real nodes)
    expect((await resolveCluster({ ...DEV, PBFT_PUBLIC_KEYS: listed })).config).toEqual(config);
    const partial = JSON.stringify({ "pbft-0": pairs[0]!.publicKey });
    const extra = JSON.stringify({ ...JSON.parse(listed), "pbft-9": pairs[0]!.publicKey });
    const short = listed.replace(pairs[1]!.publicKey, pairs[1]!.publicKey.slice(1));
    for (const bad of ["{", "[]", partial, extra, short])
      await expect(
        resolveCluster({ ENVIRONMENT: "production", PBFT_PUBLIC_KEYS: bad }),
      ).rejects.toMatchObject({
        code: "not_configured",
        details: { var: "PBFT_PUBLIC_KEYS" },
      });
  });

  it("an empty secret counts as unset (not_configured), not as a key; the published info names each node's region", async () => {
    const secrets: Record<string, string> = Object.fromEntries(
      PBFT_NODES.map((n, i) => [nodeSecretName(n.id), seed(i)]),
    );
    const prod = { ENVIRONMENT: "production", ...secrets, PBFT_KEY_PBFT_1: "" };
    await expect(resolveCluster(prod)).rejects.toMatchObject({
      code: "not_configured",
      details: { secret: "PBFT_KEY_PBFT_1" },
    });
    const { info } = await resolveCluster(DEV);
    expect(info.nodes.map((n) => `${n.id}@${n.region}`)).toEqual(
      PBFT_NODES.map((n) => `${n.id}@${n.region}`),
    );
  });

  it("CLUSTER_NAME names the deployment (default when unset or empty); the certificate id is <name>/<configDigest>", async () => {
    for (const unset of [{}, { CLUSTER_NAME: "" }])
      expect((await resolveCluster({ ...DEV, ...unset })).info.cluster).toBe(CLUSTER_NAME_DEFAULT);
    const mine = await resolveCluster({ ...DEV, CLUSTER_NAME: "acme-prod.eu_1" });
    const dev = await resolveCluster(DEV);
    expect(mine.config.cluster).toBe("acme-prod.eu_1");
    expect(mine.info).toMatchObject({ cluster: "acme-prod.eu_1", configDigest: configDigest(mine.config) });
    expect(mine.info.configDigest).not.toBe(dev.info.configDigest); // same keys, another deployment
    expect(clusterId(mine.config)).toBe(`acme-prod.eu_1/${mine.info.configDigest}`);
    for (const bad of ["has space", "a/b", "-lead", "x".repeat(129), "ünï"])
      await expect(resolveCluster({ ...DEV, CLUSTER_NAME: bad })).rejects.toMatchObject({
        code: "not_configured",
      });
    expect((await resolveCluster({ ...DEV, CLUSTER_NAME: "x".repeat(128) })).info.cluster).toHaveLength(128);
  });

  it("clusterOf resolves once per env object, and retries one whose secret was missing", async () => {
    const env = { ...DEV };
    const p = clusterOf(env);
    expect(clusterOf(env)).toBe(p);
    expect(clusterOf({ ...DEV })).not.toBe(p); // another env object: its own resolution
    expect((await p).info).toEqual((await resolveCluster(DEV)).info);

    const secrets: Record<string, string> = Object.fromEntries(
      PBFT_NODES.map((n, i) => [nodeSecretName(n.id), seed(i)]),
    );
    const prod: Record<string, string> = { ENVIRONMENT: "production" };
    const first = clusterOf(prod as never);
    await expect(first).rejects.toMatchObject({ code: "not_configured" });
    Object.assign(prod, secrets); // the operator sets the secrets
    const second = clusterOf(prod as never);
    expect(second).not.toBe(first);
    expect((await second).config.nodes).toHaveLength(4);
    expect(clusterOf(prod as never)).toBe(second);
  });
});
