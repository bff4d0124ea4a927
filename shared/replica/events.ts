/**
 * What the replica core asks its host to log: `console.log({ event, replica, ...fields })` (the
 * host adds who it is). Plain data, so a simulator can count them and a Durable Object print them.
 */
export interface ReplicaEvent {
  event:
    | "remote_malformed"
    | "remote_bad_signature"
    | "remote_stamp_ahead"
    | "client_equivocated"
    | "type_conflict"
    | "remote_not_authorized";
  fields: Record<string, unknown>;
}
