/**
 * The dashboard's stylesheet. Readable from 390 px (a phone) up: tables scroll inside their own box
 * (`.scroll`), the chart scales to its box, nothing is wider than the viewport. A replica's state
 * shows as a coloured badge with its name in words, never as colour alone.
 */
export const DASHBOARD_CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #222; background: #fafafa; }
h1 { font-size: 1.3rem; margin: 0 0 .2rem; }
h2 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; overflow-wrap: anywhere; }
.muted { color: #666; }
.scroll { max-width: 100%; overflow-x: auto; }
table { border-collapse: collapse; background: #fff; }
th, td { border: 1px solid #ddd; padding: .25rem .6rem; text-align: left; vertical-align: top; }
th { background: #f0f0f0; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
#replicas td:first-child, #nodes td:first-child { white-space: nowrap; }
code, .mono { font-family: ui-monospace, monospace; font-size: 12px; word-break: break-all; }
.ok { color: #176f2c; } .bad { color: #b00020; font-weight: 600; } .warn { color: #8a5a00; }
.badge { display: inline-block; padding: 0 .4rem; border-radius: .6rem; font-size: 12px; font-weight: 700;
  letter-spacing: .02em; text-transform: uppercase; white-space: nowrap; }
.st-ok .badge { background: #dff3e3; color: #176f2c; }
.st-stale .badge { background: #fff0c2; color: #6b4500; }
.st-quarantined .badge, .st-diverged .badge, .st-unreachable .badge { background: #b00020; color: #fff; }
tr.st-stale td { background: #fffaeb; }
tr.st-quarantined td, tr.st-diverged td, tr.st-unreachable td { background: #fdecee; }
td.health { min-width: 12rem; }
td.health .why { display: block; font-size: 12px; color: #444; }
.stats { display: flex; flex-wrap: wrap; gap: .75rem; margin: .8rem 0 0; }
.stat { background: #fff; border: 1px solid #ddd; padding: .4rem .7rem; flex: 1 1 14rem; max-width: 100%; }
.stat b { display: block; font-size: 1.25rem; font-variant-numeric: tabular-nums; }
.stat .muted { font-size: 12px; }
#chart { background: #fff; border: 1px solid #ddd; width: 100%; max-width: 640px; height: auto; display: block; }
.grid { display: flex; flex-wrap: wrap; gap: 1.5rem; }
.grid > div { min-width: 0; max-width: 100%; flex: 1 1 20rem; }
#err { color: #b00020; }
input { font: inherit; width: 28rem; max-width: 100%; box-sizing: border-box; }
@media (max-width: 600px) { body { margin: .6rem; } th, td { padding: .2rem .35rem; } }
`;
