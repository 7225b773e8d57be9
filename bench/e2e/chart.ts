/**
 * A small hand-written SVG line chart for the benchmark results: throughput (x, linear from 0) against
 * latency (y, logarithmic), one polyline with markers per series, an optional horizontal target line.
 * No plotting dependency: the output is a standalone SVG document.
 * @example
 *   writeFileSync('latency.svg', lineChart({ title, xLabel: 'payments/s', yLabel: 'p99 ms',
 *     series: [{ name: 'pool', color: '#1f77b4', points: [{ x: 1200, y: 8.5 }] }], target: { y: 25, label: 'target' } }));
 */

export interface ChartPoint {
  x: number;
  y: number;
  label?: string; // e.g. "70%"
}

export interface ChartSeries {
  name: string;
  color: string;
  points: ChartPoint[];
}

export interface ChartOptions {
  title: string;
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  series: ChartSeries[];
  target?: { y: number; label: string };
  width?: number;
  height?: number;
}

const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const n = (x: number): string => (Math.round(x * 10) / 10).toString();

/** 1, 2, 5 × 10^k steps giving about `count` ticks over [0, max]. */
function linearTicks(max: number, count = 6): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let t = 0; t <= max + step * 0.001; t += step) ticks.push(Number(t.toPrecision(12)));
  if (ticks.at(-1)! < max) ticks.push(Number((ticks.at(-1)! + step).toPrecision(12)));
  return ticks;
}

/** 1, 2, 5 × 10^k values covering [min, max]. */
function logTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
    for (const m of [1, 2, 5]) {
      const t = m * 10 ** e;
      if (t >= min / 1.0001 && t <= max * 1.0001) ticks.push(Number(t.toPrecision(6)));
    }
  }
  return ticks;
}

const tickText = (v: number): string => (v >= 1000 ? `${n(v / 1000)}k` : v < 1 ? v.toString() : n(v));

export function lineChart(opts: ChartOptions): string {
  const width = opts.width ?? 840;
  const height = opts.height ?? 460;
  const m = { left: 70, right: 230, top: opts.subtitle ? 62 : 44, bottom: 56 };
  const pw = width - m.left - m.right;
  const ph = height - m.top - m.bottom;
  const points = opts.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && p.y > 0);
  const xTicks = linearTicks(Math.max(1, ...points.map((p) => p.x)) * 1.05);
  const xMax = xTicks.at(-1)!;
  const ys = [...points.map((p) => p.y), ...(opts.target ? [opts.target.y] : [])];
  const yMin = 10 ** Math.floor(Math.log10(Math.max(0.01, Math.min(...ys, 1))));
  const yMax = 10 ** Math.ceil(Math.log10(Math.max(...ys, 1) * 1.05));
  const yTicks = logTicks(yMin, yMax);
  const X = (x: number) => m.left + (x / xMax) * pw;
  const Y = (y: number) => m.top + ph - ((Math.log10(y) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * ph;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="#fff"/>`);
  out.push(`<text x="${m.left}" y="24" font-size="16" font-weight="bold">${escape(opts.title)}</text>`);
  if (opts.subtitle) out.push(`<text x="${m.left}" y="44" fill="#555">${escape(opts.subtitle)}</text>`);
  // grid and axes
  for (const t of xTicks) {
    out.push(`<line x1="${n(X(t))}" y1="${m.top}" x2="${n(X(t))}" y2="${m.top + ph}" stroke="#eee"/>`);
    out.push(`<text x="${n(X(t))}" y="${m.top + ph + 18}" text-anchor="middle" fill="#333">${tickText(t)}</text>`);
  }
  for (const t of yTicks) {
    out.push(`<line x1="${m.left}" y1="${n(Y(t))}" x2="${m.left + pw}" y2="${n(Y(t))}" stroke="#eee"/>`);
    out.push(`<text x="${m.left - 8}" y="${n(Y(t) + 4)}" text-anchor="end" fill="#333">${tickText(t)}</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  out.push(`<text x="${m.left + pw / 2}" y="${height - 14}" text-anchor="middle">${escape(opts.xLabel)}</text>`);
  out.push(`<text transform="translate(18 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${escape(opts.yLabel)}</text>`);
  if (opts.target) {
    const y = n(Y(opts.target.y));
    out.push(`<line x1="${m.left}" y1="${y}" x2="${m.left + pw}" y2="${y}" stroke="#d62728" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${m.left + pw - 4}" y="${Number(y) - 6}" text-anchor="end" fill="#d62728">${escape(opts.target.label)}</text>`);
  }
  // series
  opts.series.forEach((s, i) => {
    const ps = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && p.y > 0).sort((a, b) => a.x - b.x);
    if (ps.length > 1) out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${ps.map((p) => `${n(X(p.x))},${n(Y(p.y))}`).join(' ')}"/>`);
    for (const p of ps) {
      out.push(`<circle cx="${n(X(p.x))}" cy="${n(Y(p.y))}" r="4" fill="${s.color}"><title>${escape(`${s.name}: ${n(p.x)}/s, ${p.y} ms${p.label ? ` (${p.label})` : ''}`)}</title></circle>`);
      if (p.label) out.push(`<text x="${n(X(p.x) + 6)}" y="${n(Y(p.y) - 6)}" font-size="10" fill="${s.color}">${escape(p.label)}</text>`);
    }
    const ly = m.top + 10 + i * 22;
    out.push(`<line x1="${m.left + pw + 16}" y1="${ly}" x2="${m.left + pw + 40}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`);
    out.push(`<circle cx="${m.left + pw + 28}" cy="${ly}" r="4" fill="${s.color}"/>`);
    out.push(`<text x="${m.left + pw + 46}" y="${ly + 4}">${escape(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
