// Certificates name their configuration (`clusterId`: deployment name + config digest). After a node
// key rotation, or in another deployment, nothing signed under the other configuration is accepted
// by a verifier, the SDK or as evidence: an honest replica's reply from before the rotation is
// `other_cluster` (not judged), never `bad_certificate` (which would quarantine it: framing).
import { beforeEach, describe, expect, it } from "vitest";
import { AspecClient } from "../../../client/client.js";
import { ReplyVerificationError } from "../../../client/errors.js";
import { combineShares, signShare, verifyCertificate } from "../../../shared/certified/certificate.js";
import { clusterId, configDigest } from "../../../shared/certified/cluster-id.js";
import type { ClusterConfig } from "../../../shared/certified/types.js";
import type { ClusterInfo } from "../../../shared/cluster-config.js";
import { devKeyPair } from "../../../shared/crypto/keys.js";
import { verifyEvidence } from "../../../shared/evidence.js";
import type { OpStatusReply } from "../../../shared/replies.js";
import { endedAfterEach } from "../../support/client-cleanup.js";
import { clone, evidenceWorld, type EvidenceWorld } from "../../support/evidence-fixtures.js";
import { TestDeployment } from "../../support/sdk-deployment.js";

/** `config` with node `i`'s key replaced by a fresh one. */
async function rotate(config: ClusterConfig, i: number): Promise<ClusterConfig> {
  const key = await devKeyPair("rotated-key", config.nodes[i]!.id);
  return { ...config, nodes: config.nodes.map((n, j) => (j === i ? { ...n, publicKey: key.publicKey } : n)) };
}

describe("clusterId: what a certificate body names", () => {
  it("is <name>/<configDigest>; any key, f or the name changes it", async () => {
    const w = await evidenceWorld();
    const id = clusterId(w.cluster);
    expect(id).toBe(`${w.cluster.cluster}/${configDigest(w.cluster)}`);
    expect(id).toMatch(/^aspec-edge-pbft-v1\/[0-9a-f]{64}$/);
    for (const other of [
      await rotate(w.cluster, 0),
      await rotate(w.cluster, 3),
      { ...w.cluster, cluster: "another-deployment" },
      { ...w.cluster, nodes: [w.cluster.nodes[1]!, w.cluster.nodes[0]!, ...w.cluster.nodes.slice(2)] },
    ])
      expect(clusterId(other)).not.toBe(id);
  });

  it("verifyCertificate refuses a rotated configuration's certificate signed only by the nodes both share", async () => {
    const w = await evidenceWorld();
    const rotated = await rotate(w.cluster, 0);
    const body = { ...w.body, cluster: clusterId(rotated) };
    const shares = await Promise.all([1, 2, 3].map((i) => signShare(w.nodeKeys[i]!.secret, i, body)));
    const cert = combineShares(shares, rotated)!;
    expect(await verifyCertificate(cert, rotated)).toEqual({ ok: true });
    expect(await verifyCertificate(cert, w.cluster)).toEqual({ ok: false, reason: "wrong_cluster" });
    // and the old configuration's certificate under the new one
    expect(await verifyCertificate(w.cert, rotated)).toEqual({ ok: false, reason: "wrong_cluster" });
  });
});

describe("evidence after a node key rotation: an honest replica's old reply is not evidence", () => {
  let w: EvidenceWorld;
  beforeEach(async () => {
    w = await evidenceWorld();
  });
  const rotatedPins = async (i: number) => ({ ...w.pins, cluster: await rotate(w.cluster, i) });

  it("the reply certificate (op, read, op-status) signed before the rotation: other_cluster", async () => {
    // node 0 signed w.cert: under the rotated keys its signature is bad, which alone used to read as
    // a forged certificate, so quarantine of an honest replica
    const pins = await rotatedPins(0);
    for (const reply of [w.honestOp, w.honestRead, w.honestStatus])
      expect(await verifyEvidence({ kind: "bad_certificate", reply }, pins)).toMatchObject({
        ok: false,
        reason: "other_cluster",
      });
  });

  it("the op-status certified certificate signed before the rotation: other_cluster", async () => {
    const pins = await rotatedPins(0);
    const status = clone(w.honestStatus) as OpStatusReply;
    status.certificate = null; // only the op's batch certificate is left to judge
    const reply = await w.sign(status);
    expect(await verifyEvidence({ kind: "bad_certificate", reply }, pins)).toMatchObject({
      ok: false,
      reason: "other_cluster",
    });
    // the same reply is still judged against the configuration it was signed under (it is honest)
    expect(await verifyEvidence({ kind: "bad_certificate", reply }, w.pins)).toMatchObject({
      ok: false,
      reason: "consistent",
    });
  });
});

describe("the SDK pins the configuration: another configuration's certificate is refused", () => {
  const ended = endedAfterEach();

  /** The deployment's cluster as published after node 3's key rotated (nodes 0..2 sign: their keys are the same). */
  async function rotatedInfo(d: TestDeployment): Promise<ClusterInfo> {
    const config = await rotate(d.cluster.config, 3);
    const nodes = d.cluster.info.nodes.map((n, i) => ({ ...n, publicKey: config.nodes[i]!.publicKey }));
    return { ...d.cluster.info, nodes, configDigest: configDigest(config) };
  }

  async function setup() {
    const d = await TestDeployment.create();
    const c = ended(
      await AspecClient.connect(
        d.connectOptions({ replica: "weur", cluster: await rotatedInfo(d), failover: false }),
      ),
    );
    const w = await c.counter("r").add(1);
    await d.certify(); // under the old configuration, by nodes 0, 1, 2
    return { d, c, opId: w.opId };
  }

  it("in a reply's certificate", async () => {
    const { c } = await setup();
    const e = await c.get("r").catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ReplyVerificationError);
    expect((e as ReplyVerificationError).reason).toBe("bad_certificate");
    expect((e as ReplyVerificationError).message).toContain("wrong_cluster");
    expect(c.certifiedSeq).toBe(0);
  });

  it("in an op-status reply's certified result", async () => {
    const { d, c, opId } = await setup();
    d.lie = (path, reply) =>
      path === "op-status" ? { ...reply, certificate: null, certification: "none" } : reply;
    const e = await c.opStatus(opId).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ReplyVerificationError);
    expect((e as ReplyVerificationError).reason).toBe("bad_certificate");
    expect((e as ReplyVerificationError).message).toContain(
      "the op's batch certificate refused: wrong_cluster",
    );
    // not evidence against the honest replica: nothing was submitted
    expect(d.requests.filter((r) => r.path === "/v1/evidence")).toEqual([]);
  });
});
