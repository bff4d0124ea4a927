/**
 * The lag-over-time plot: certification lag of each acknowledged op (ms, y) against the time of its
 * reply since its run started (s, x), one colour per series. Plain SVG, no dependency.
 */
export interface Series {
  label: string;
  colour: string;
  points: readonly { s: number; lagMs: number }[];
}

const W = 900;
const H = 420;
const M = { left: 64, right: 20, top: 36, bottom: 48 };
const POINTS_MAX = 3000;

function niceStep(max: number, ticks: number): number {
  const raw = max / ticks;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function lagSvg(title: string, series: readonly Series[]): string {
  const all = series.flatMap((s) => s.points);
  const xMax = Math.max(1, ...all.map((p) => p.s));
  const yMax = Math.max(100, ...all.map((p) => p.lagMs));
  const xStep = niceStep(xMax, 8);
  const yStep = niceStep(yMax, 6);
  const xTop = Math.ceil(xMax / xStep) * xStep;
  const yTop = Math.ceil(yMax / yStep) * yStep;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const x = (v: number) => M.left + (v / xTop) * pw;
  const y = (v: number) => M.top + ph - (v / yTop) * ph;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">${esc(title)}</text>`,
  ];
  for (let v = 0; v <= xTop + 1e-9; v += xStep) {
    out.push(`<line x1="${x(v)}" y1="${M.top}" x2="${x(v)}" y2="${M.top + ph}" stroke="#eee"/>`);
    out.push(`<text x="${x(v)}" y="${M.top + ph + 16}" text-anchor="middle">${+v.toFixed(3)}</text>`);
  }
  for (let v = 0; v <= yTop + 1e-9; v += yStep) {
    out.push(`<line x1="${M.left}" y1="${y(v)}" x2="${M.left + pw}" y2="${y(v)}" stroke="#eee"/>`);
    out.push(`<text x="${M.left - 6}" y="${y(v) + 4}" text-anchor="end">${+v.toFixed(3)}</text>`);
  }
  out.push(
    `<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`,
    `<text x="${M.left + pw / 2}" y="${H - 10}" text-anchor="middle">reply time since the run's start (s)</text>`,
    `<text transform="translate(16 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">certification lag (ms, upper bound)</text>`,
  );
  series.forEach((s, i) => {
    const every = Math.max(1, Math.ceil(s.points.length / POINTS_MAX));
    const dots = s.points
      .filter((_, j) => j % every === 0)
      .map((p) => `<circle cx="${x(p.s).toFixed(1)}" cy="${y(p.lagMs).toFixed(1)}" r="1.6"/>`)
      .join("");
    out.push(`<g fill="${s.colour}" fill-opacity="0.6">${dots}</g>`);
    const ly = M.top + 14 + i * 16;
    out.push(
      `<rect x="${M.left + 10}" y="${ly - 9}" width="10" height="10" fill="${s.colour}"/>`,
      `<text x="${M.left + 26}" y="${ly}">${esc(s.label)}</text>`,
    );
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}
