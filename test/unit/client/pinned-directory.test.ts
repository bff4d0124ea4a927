// client/cluster.ts and client/replicas.ts: what the client pins at connect. A directory or cluster
// that cannot be trusted is refused before any op is signed, with a stable error and a message that
// says what is wrong with it (which node, which replica); a field it does not need (region) is
// pinned as empty rather than made up.
import { beforeEach, describe, expect, it } from "vitest";
import { AspecClient } from "../../../client/client.js";
import { checkCluster } from "../../../client/cluster.js";
import { AspecClientError, BadResponseError } from "../../../client/errors.js";
import { checkReplicas } from "../../../client/replicas.js";
import type { ClusterInfo } from "../../../shared/cluster-config.js";
import { TestDeployment, testCluster, type TestCluster } from "../../support/sdk-deployment.js";

let tc: TestCluster;
// Per test, not in beforeAll (test/support/lazy.ts says why).
beforeEach(async () => {
  tc = await testCluster("pinned-directory");
});

/** The message `checkCluster(raw)` refuses `raw` with (its code must be invalid_cluster). */
function clusterRefusal(raw: unknown): string {
  try {
    checkCluster(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(AspecClientError);
    expect((e as AspecClientError).code).toBe("invalid_cluster");
    return (e as Error).message;
  }
  return expect.fail("the cluster was accepted");
}

/** The message `checkReplicas(list)` refuses `list` with (a BadResponseError of the directory). */
function directoryRefusal(list: unknown): string {
  try {
    checkReplicas(list);
  } catch (e) {
    expect(e).toBeInstanceOf(BadResponseError);
    return (e as Error).message;
  }
  return expect.fail("the directory was accepted");
}

const withNodes = (nodes: unknown[], over: Partial<ClusterInfo> = {}) => ({ ...tc.info, nodes, ...over });

describe("the pinned PBFT cluster", () => {
  it("refuses what is not a cluster, saying so", () => {
    expect(clusterRefusal(null)).toBe("cluster: not an object");
    expect(clusterRefusal("cluster")).toBe("cluster: not an object");
    expect(clusterRefusal({ ...tc.info, nodes: undefined })).toBe("cluster: no nodes");
  });

  it("names the node that has no id or no valid key", () => {
    const [a, b, c, d] = tc.info.nodes;
    expect(clusterRefusal(withNodes([a, { ...b, id: "" }, c, d]))).toBe("cluster: node 1 has no id");
    expect(clusterRefusal(withNodes([a, b, null, d]))).toBe("cluster: node 2 has no id");
    expect(clusterRefusal(withNodes([a, b, c, { ...d, publicKey: "xyz" }]))).toBe(
      "cluster: node 'pbft-3' has no valid public key",
    );
  });

  it("refuses two nodes under one key (one key holder would count twice toward 2f+1)", () => {
    const [a, b, c, d] = tc.info.nodes;
    expect(clusterRefusal(withNodes([a, b, c, { ...d!, publicKey: a!.publicKey }]))).toBe(
      "cluster: two nodes share a key",
    );
  });

  it("refuses a node count that is not the list's, saying both", () => {
    expect(clusterRefusal({ ...tc.info, n: 7 })).toBe("cluster: n = 7 but 4 nodes are listed");
  });

  it("pins a node listed without a region with an empty region", () => {
    const nodes = tc.info.nodes.map(({ region: _r, ...n }, i) => (i === 0 ? n : { ...n, region: "eu" }));
    const pinned = checkCluster(withNodes(nodes));
    expect(pinned.info.nodes.map((n) => n.region)).toEqual(["", "eu", "eu", "eu"]);
  });
});

describe("the pinned replica directory", () => {
  const [weur, enam] = [
    { name: "weur", region: "weur", publicKey: "" },
    { name: "enam", region: "enam", publicKey: "" },
  ];
  beforeEach(() => {
    weur.publicKey = tc.info.nodes[0]!.publicKey;
    enam.publicKey = tc.info.nodes[1]!.publicKey;
  });

  it("refuses an empty or missing directory, saying so", () => {
    expect(directoryRefusal([])).toBe("replica directory: no replicas");
    expect(directoryRefusal(undefined)).toBe("replica directory: no replicas");
  });

  it("names the replica that is unnamed, listed twice, or without a valid key", () => {
    expect(directoryRefusal([weur, { ...enam, name: "" }])).toBe(
      "replica directory: a replica without a name",
    );
    expect(directoryRefusal([weur, enam, { ...enam, region: "x" }])).toBe(
      "replica directory: replica 'enam' listed twice",
    );
    expect(directoryRefusal([weur, { ...enam, publicKey: "xyz" }])).toBe(
      "replica directory: replica 'enam' has no valid public key",
    );
  });

  it("pins a replica listed without a region with an empty region", () => {
    const { region: _r, ...bare } = enam;
    expect(checkReplicas([weur, bare]).map((r) => r.region)).toEqual(["weur", ""]);
  });

  it("connect refuses a fetched directory that is not one, before signing anything", async () => {
    const d = await TestDeployment.create();
    const { replicas: _r, ...fetched } = d.connectOptions();
    const e = await AspecClient.connect({
      ...fetched,
      fetch: async (url, init) =>
        new URL(url).pathname === "/v1/replicas"
          ? new Response(JSON.stringify({ replicas: [] }), { status: 200 })
          : d.fetch(url, init),
    }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BadResponseError);
    expect((e as BadResponseError).message).toBe("replica directory: no replicas");
    expect(d.requests.filter((r) => r.path === "/v1/ops")).toHaveLength(0);
  });
});
