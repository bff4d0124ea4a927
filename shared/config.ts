/** Deployment configuration: which replicas exist and where their signing keys come from. */
import * as z from "./zod.js";
import { fromB64u } from "./bytes.js";
import { devKeyPair, keyPairFromSeed, type KeyPair } from "./crypto/keys.js";
import { AspecError } from "./errors.js";

export interface ReplicaConfig {
  name: string;
  /** Durable Object locationHint, e.g. `weur`. */
  region: string;
}

const replicasSchema = z
  .array(
    z.strictObject({
      name: z.string().check(z.regex(/^[a-z][a-z0-9-]{0,31}$/)),
      region: z.string().check(z.minLength(1)),
    }),
  )
  .check(z.minLength(1));

export function parseReplicas(json: string): ReplicaConfig[] {
  const parsed = replicasSchema.parse(JSON.parse(json));
  if (new Set(parsed.map((r) => r.name)).size !== parsed.length) throw new Error("duplicate replica name");
  return parsed;
}

export interface KeySource {
  environment: string;
  devSeed: string | undefined;
  /** base64url 32-byte seed from a secret, if one is set. */
  secret: string | undefined;
  /** The Wrangler secret that would hold it (`secretName`): named in the refusal, with the fix. */
  secretName?: string;
}

export const isDev = (environment: string | undefined): boolean => environment === "dev";

/**
 * The one rule for dev fault injection (replicas and PBFT nodes): only in dev, only with the
 * configured FAULT_TOKEN (none configured: never).
 */
export function faultInjectionAllowed(
  env: { ENVIRONMENT?: string; FAULT_TOKEN?: string },
  token: unknown,
): boolean {
  return isDev(env.ENVIRONMENT) && !!env.FAULT_TOKEN && token === env.FAULT_TOKEN;
}

/** What a refused fault RPC throws (replicas and nodes alike). */
export const FAULT_INJECTION_OFF = "fault injection is off (dev only, with FAULT_TOKEN)";

/**
 * A secret, when set, always wins. Otherwise only a dev environment may derive a key from the dev
 * seed; anything else refuses (503 not_configured) rather than sign with a publicly known key.
 */
export async function resolveKey(src: KeySource, name: string): Promise<KeyPair> {
  if (src.secret) return keyPairFromSeed(fromB64u(src.secret));
  if (isDev(src.environment) && src.devSeed) return devKeyPair(src.devSeed, name);
  if (src.secretName === undefined)
    throw new AspecError("not_configured", `no signing key for '${name}': set the secret or run in dev`);
  const fix = `wrangler secret put ${src.secretName}`;
  throw new AspecError(
    "not_configured",
    `no signing key for '${name}': the secret ${src.secretName} is not set; run \`${fix}\` (a base64url 32-byte seed)`,
    { secret: src.secretName, fix },
  );
}

/** Name of the Wrangler secret that holds a replica's (or node's) key seed. */
export const secretName = (kind: "REPLICA" | "PBFT", name: string): string =>
  `${kind}_KEY_${name.toUpperCase().replace(/-/g, "_")}`;
