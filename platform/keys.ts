/** The replicas' public identities, resolved once per isolate from secrets or (dev only) the dev seed. */
import { resolveKey, secretName } from "../shared/config.js";
import type { KeyPair } from "../shared/crypto/keys.js";
import type { ReplicaInfo } from "../shared/replies.js";
import type { Env } from "./env.js";
import { replicasOf } from "./routing.js";

/** A replica's signing key, from its `REPLICA_KEY_<NAME>` secret or (dev only) the dev seed. */
export function replicaKey(env: Env, name: string): Promise<KeyPair> {
  const secret = secretName("REPLICA", name) as `REPLICA_KEY_${string}`;
  return resolveKey(
    { environment: env.ENVIRONMENT, devSeed: env.DEV_SEED, secret: env[secret], secretName: secret },
    name,
  );
}

let cached: { env: Env; infos: Promise<ReplicaInfo[]> } | undefined;

/** Throws `not_configured` (503) when a replica has no key and the environment isn't dev. */
export function replicaInfos(env: Env): Promise<ReplicaInfo[]> {
  if (cached?.env !== env) {
    const infos = Promise.all(
      replicasOf(env.REPLICAS).map(async (r) => {
        const key = await replicaKey(env, r.name);
        return { name: r.name, region: r.region, publicKey: key.publicKey };
      }),
    );
    infos.catch(() => (cached = undefined)); // a missing secret is retried on the next request
    cached = { env, infos };
  }
  return cached.infos;
}
