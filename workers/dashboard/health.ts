/**
 * The dashboard's judgements, as the page's own JavaScript (a string: the page is one self-contained
 * document, and this is the code it runs). Pure functions of the API's answers and the page's clock,
 * so that test/unit/workers/dashboard-status.test.ts evaluates this very text and checks each one:
 *
 * - `replicaHealth(stats, fresh, quarantine)`: a replica row's state from `GET /v1/replicas`
 *   (`certification[name]`, `freshness[name]`, `quarantined[name]`): the worst that applies of
 *   quarantined, unreachable, diverged, stale, else ok, with every reason in words.
 * - `chartWindow(samples, now, maxMs, minMs)`: the chart's x range, spanning the samples the page
 *   has (at least `minMs`, at most `maxMs`), so it grows as they arrive.
 * - `newestOpCount(reply)`: ops certified in all, by the newest certificate any replica holds (so a
 *   stale replica answering the page does not hide throughput).
 * - `certifiedOpsPerSecond(samples, now, windowMs)`: how fast that count grew over the last
 *   `windowMs` of samples.
 * - `replicationLag(reply)`: the replica furthest behind the newest certificate any replica holds.
 * - `freshestReplica(reply)`: the replica, not quarantined, holding the newest certificate (the page
 *   asks it for the certificate it shows, so a stale nearest replica does not pass for the cluster).
 * - `agoLabel(ms)`: an x-axis label ("−40 s", "−2.5 min").
 */
export const HEALTH_JS = `
const HEALTH_ORDER = ["quarantined", "unreachable", "diverged", "stale", "ok"];

function replicaHealth(stats, fresh, quarantine) {
  const found = [];
  if (quarantine) found.push(["quarantined", "quarantined (" + quarantine.kind + "): the edge routes no one to it"]);
  if (!stats || !fresh) found.push(["unreachable", "unreachable: no answer to the status request"]);
  if (stats && (stats.certification === "diverged" || stats.diverged))
    found.push(["diverged", "diverged" + (stats.diverged ? " at seq " + stats.diverged.seq : "") + ": its roots differ from a certificate's"]);
  if (fresh && fresh.stale)
    found.push(["stale", fresh.ageMs === null
      ? "stale: no certificate while another replica has one"
      : "stale: newest certificate " + (fresh.ageMs / 1000).toFixed(1) + " s old"]);
  if (found.length === 0) return { status: "ok", reasons: ["ok"] };
  found.sort((a, b) => HEALTH_ORDER.indexOf(a[0]) - HEALTH_ORDER.indexOf(b[0]));
  return { status: found[0][0], reasons: found.map((f) => f[1]) };
}

function chartWindow(samples, now, maxMs, minMs) {
  const oldest = samples.length ? samples[0].t : now;
  const span = Math.min(maxMs, Math.max(minMs, now - oldest));
  return { from: now - span, to: now };
}

function newestOpCount(reply) {
  let best = null;
  for (const info of reply.replicas) {
    const s = reply.certification && reply.certification[info.name];
    if (s && Number.isSafeInteger(s.opCount) && (best === null || s.opCount > best)) best = s.opCount;
  }
  return best;
}

function certifiedOpsPerSecond(samples, now, windowMs) {
  const inWindow = samples.filter((s) => s.t >= now - windowMs && s.opCount !== null);
  if (inWindow.length < 2) return null;
  const first = inWindow[0], last = inWindow[inWindow.length - 1];
  const seconds = (last.t - first.t) / 1000;
  if (seconds <= 0) return null;
  // a different answering replica may hold an older certificate: never a negative rate
  return Math.max(0, last.opCount - first.opCount) / seconds;
}

function replicationLag(reply) {
  let worst = null;
  for (const info of reply.replicas) {
    const f = reply.freshness && reply.freshness[info.name];
    if (!f) continue;
    if (!worst || f.behind > worst.behind || (f.behind === worst.behind && (f.ageMs === null || (worst.ageMs !== null && f.ageMs > worst.ageMs))))
      worst = { name: info.name, behind: f.behind, ageMs: f.ageMs };
  }
  return worst;
}

function freshestReplica(reply) {
  let best = null;
  for (const info of reply.replicas) {
    const f = reply.freshness && reply.freshness[info.name];
    if (!f || (reply.quarantined && reply.quarantined[info.name])) continue;
    if (!best || f.seq > best.seq) best = { name: info.name, seq: f.seq };
  }
  return best && best.name;
}

function agoLabel(ms) {
  const s = ms / 1000;
  return s < 120 ? "−" + Math.round(s) + " s" : "−" + (s / 60).toFixed(1) + " min";
}
`;

/** The names `HEALTH_JS` defines, for a test that evaluates it. */
export const HEALTH_FUNCTIONS = [
  "replicaHealth",
  "chartWindow",
  "newestOpCount",
  "certifiedOpsPerSecond",
  "replicationLag",
  "freshestReplica",
  "agoLabel",
] as const;
