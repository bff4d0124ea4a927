/**
 * The live dashboard, served at `GET /` to browsers (an `Accept` that prefers `text/html`): one
 * self-contained page (inline CSS and JS, nothing fetched from elsewhere but its favicon) that reads
 * the public API only, every 2 s: `/v1/replicas`, `/v1/cluster/status`, `/v1/certificates/latest`,
 * `/v1/namespaces` (and `/v1/cluster` once, for the open-namespace list), and a client's `/v1/clients/:client/evidence` on request. Its parts: workers/dashboard/.
 */
import { DASHBOARD_CSS } from "./dashboard/css.js";
import { FAVICON_PATH } from "./dashboard/favicon.js";
import { HEALTH_JS } from "./dashboard/health.js";
import { DASHBOARD_SCRIPT } from "./dashboard/script.js";

export { prefersHtml } from "./dashboard/negotiate.js";
export { mountFavicon } from "./dashboard/favicon.js";

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Aspec Edge — dashboard</title>
<link rel="icon" href="${FAVICON_PATH}" type="image/svg+xml">
<style>${DASHBOARD_CSS}</style>
</head>
<body>
<h1>Aspec Edge</h1>
<div class="muted">Live from the public API, every 2 s. Last update: <span id="updated">—</span> <span id="err"></span></div>

<div class="stats">
<div class="stat"><span class="muted">certified ops/s</span><b id="ops-rate">—</b>
<span class="muted">ops certified per second over the last 30 s: growth of the opCount (ops certified in all) of the newest certificate any replica holds</span></div>
<div class="stat"><span class="muted">replication lag</span><b id="repl-lag">—</b>
<span class="muted">the replica furthest behind: certified seqs it lacks beside the newest certificate any replica holds; <span id="repl-lag-age"></span></span></div>
<div class="stat"><span class="muted">certification lag</span><b id="lag-now">—</b>
<span class="muted">age of the newest certificate at the freshest replica (the chart below)</span></div>
</div>

<h2>Replicas <span class="muted">(GET /v1/replicas)</span></h2>
<div class="muted">state: ok; stale (newest certificate older than the bound, clients fail over from it);
quarantined (evidence of a lie: the edge routes no one to it); diverged (its state differs from a certificate's);
unreachable (no answer).</div>
<div class="scroll">
<table id="replicas">
<thead><tr><th>name</th><th>state</th><th>region</th><th>public key</th><th>cert. age</th><th>seqs behind</th><th>certification</th><th>cert. seq</th><th>cert. opCount</th><th>buffered</th><th>root mismatches</th><th>diverged</th></tr></thead>
<tbody id="replicas-body"></tbody>
</table>
</div>

<h2>PBFT nodes <span class="muted">(GET /v1/cluster/status)</span> — primary: <span id="primary">—</span></h2>
<div class="scroll">
<table id="nodes">
<thead><tr><th>node</th><th>region</th><th>view</th><th>mode</th><th>last executed</th><th>stable seq</th><th></th></tr></thead>
<tbody id="nodes-body"></tbody>
</table>
</div>

<div class="grid">
<div>
<h2>Certification lag</h2>
<svg id="chart" width="640" height="160" viewBox="0 0 640 160" role="img" aria-label="age of the newest certificate since the page opened (5 minutes at most)"></svg>
<div class="muted" style="max-width:640px">Age of the newest certificate at the freshest replica (the most certified seqs, not quarantined), per refresh: the reply's
<code>time</code> minus the certificate's <code>time</code> (both server clocks). The time axis spans what this page
has seen, 5 minutes at most. While writes flow it is how far certification trails; while idle it grows between the
cluster's heartbeat certificates.</div>
</div>
<div>
<h2>Newest certificate <span class="muted">(GET /v1/certificates/latest)</span>: seq <span id="cert-seq">—</span></h2>
<div class="muted">from replica <span id="cert-replica">—</span></div>
<div class="scroll"><table><tbody id="cert-body"></tbody></table></div>
</div>
</div>

<h2>Namespaces <span class="muted">(GET /v1/namespaces)</span></h2>
<div class="muted">Who may write where, as the home replica holds it (tentative): each claimed namespace's members
and their roles (<code>*</code>: everyone). The first 50 by name; unclaimed namespaces are open only
if the deployment lists them (<code>OPEN_NAMESPACES</code>: <span id="ns-open">—</span>).</div>
<div class="scroll">
<table id="namespaces">
<thead><tr><th>namespace</th><th>owners</th><th>other members</th></tr></thead>
<tbody id="namespaces-body"></tbody>
</table>
</div>

<h2>Evidence <span class="muted">(GET /v1/clients/:client/evidence)</span></h2>
<form id="evidence-form"><label>Look up a client's evidence: <input id="client" placeholder="client public key (base64url)" autocomplete="off"></label> <button type="submit">Look up</button></form>
<div id="evidence"></div>

<script>
(() => {
${HEALTH_JS}
${DASHBOARD_SCRIPT}
})();
</script>
</body>
</html>
`;
