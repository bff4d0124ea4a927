/**
 * What a certificate names its cluster by: `<name>/<configDigest>`, the deployment name and the hex
 * SHA-256 of the configuration (name, f, every node's id and public key, in order; n is the list's
 * length; the open-namespace list unless it is the default `*`). Signers put it in `CertificateBody.cluster`; verifiers compute it from the very keys they
 * check signatures with, so a certificate signed under another configuration (a node key rotated,
 * another f, another deployment) is `wrong_cluster` everywhere, even where its signatures are of keys
 * both configurations share: nothing signed under one configuration can be used against another.
 */
import { toHex, utf8 } from "../bytes.js";
import { canonicalJson } from "../canonical.js";
import { sha256 } from "../hash.js";
import { isDefaultOpen } from "../namespaces/policy.js";
import type { ClusterConfig } from "./types.js";

/** Longest deployment name (so the id fits every parser's bound on `cluster`, 256 characters). */
export const CLUSTER_NAME_MAX = 128;

/**
 * Hex SHA-256 over the canonical JSON (RFC 8785) of `{cluster, f, nodes: [{id, publicKey}]}`, plus
 * `openNamespaces` when it is not the default `["*"]`: the one definition, published as
 * `configDigest` (`GET /v1/cluster`) and pinned by clients. The default is left out so a deployment
 * that opens every namespace keeps the digest it had before the list existed (and clients that
 * pinned it keep working); any other list changes the digest.
 */
export const configDigest = (config: ClusterConfig): string =>
  toHex(
    sha256(
      utf8(
        canonicalJson({
          cluster: config.cluster,
          f: config.f,
          nodes: config.nodes.map((n) => ({ id: n.id, publicKey: n.publicKey })),
          ...(config.openNamespaces === undefined || isDefaultOpen(config.openNamespaces)
            ? {}
            : { openNamespaces: [...config.openNamespaces] }),
        }),
      ),
    ),
  );

/** `<name>/<configDigest>`: the `cluster` of every certificate body signed under `config`. */
export const clusterId = (config: ClusterConfig): string => `${config.cluster}/${configDigest(config)}`;
