/**
 * Turns DVD-1 measurements into the bench's outputs: ratios of each anchor to our core
 * (anchor µs/record ÷ ours; above 1 means ours is faster), printed tables, the JSON record and the
 * RESULTS.md section. Ratios and the headline use medians (median call latency ÷ batch): on a shared,
 * noisy machine a mean is pulled by every pause of a neighbour; means stay in the JSON and the table.
 */
import type { Machine } from '../lib/provenance.ts';
import type { Budget, Measurement } from './measure.ts';

export interface Ratio {
  anchor: string;
  batch: number;
  ratio: number; // anchor median µs/record ÷ ours median µs/record at the same batch size
}

export interface Headline {
  anchor: string;
  bestBatch: number; // the anchor's fastest batch size
  bestUsPerRecord: number; // median
  oursUsPerRecord: number; // ours at the headline batch size, median
  ratio: number; // best anchor µs/record ÷ ours
}

/** Ours on records already packed in the WASM layout (dvd1BatchPacked): the object API minus packing. */
export interface PackedMeasurement {
  batch: number;
  usPerRecord: number;
  p50UsPerRecord: number;
}

/** What was measured: record sets (seeded, see records.ts) and tinybench budgets. */
export interface Setup {
  batchSizes: number[];
  pool: { records: number; seed: number; corrupted: number };
  crossCheck: { records: number; seed: number; badEvery: number };
  budget: Budget;
}

export interface Report {
  benchmark: 'dvd1';
  mode: 'smoke' | 'full';
  date: string;
  machine: Machine;
  setup: Setup;
  results: Measurement[];
  ratios: Ratio[];
  headlineBatch: number;
  headline: Headline[];
  packed?: PackedMeasurement;
  /** The machine's load average (1, 5, 15 min) when the run started and ended: read the figures with it. */
  loadAverage?: { start: number[]; end: number[] };
}

/** Issue 25: the object API at most this many times the packed path's µs/record, at the headline batch. */
export const OBJECT_OVER_PACKED_TARGET = 1.15;

/** The object API's µs/record ÷ the packed path's at the packed batch (medians), or null without a packed run. */
export function objectOverPacked(report: Report, ours: string): number | null {
  if (!report.packed) return null;
  return find(report.results, ours, report.packed.batch).p50UsPerRecord / report.packed.p50UsPerRecord;
}

function find(ms: readonly Measurement[], implementation: string, batch: number): Measurement {
  const m = ms.find((x) => x.implementation === implementation && x.batch === batch);
  if (!m) throw new Error(`no measurement for ${implementation} ×${batch}`);
  return m;
}

export function ratios(ms: readonly Measurement[], ours: string): Ratio[] {
  return ms
    .filter((m) => m.implementation !== ours)
    .map((m) => ({ anchor: m.implementation, batch: m.batch, ratio: m.p50UsPerRecord / find(ms, ours, m.batch).p50UsPerRecord }));
}

export function headline(ms: readonly Measurement[], ours: string, batch: number): Headline[] {
  const oursUs = find(ms, ours, batch).p50UsPerRecord;
  const anchors = [...new Set(ms.map((m) => m.implementation))].filter((name) => name !== ours);
  return anchors.map((anchor) => {
    const best = ms
      .filter((m) => m.implementation === anchor)
      .reduce((a, b) => (b.p50UsPerRecord < a.p50UsPerRecord ? b : a));
    return {
      anchor,
      bestBatch: best.batch,
      bestUsPerRecord: best.p50UsPerRecord,
      oursUsPerRecord: oursUs,
      ratio: best.p50UsPerRecord / oursUs,
    };
  });
}

const fixed = (x: number, digits: number): string => x.toFixed(digits);

export function printReport(report: Report, ours: string): void {
  const { machine: m } = report;
  console.log(`DVD-1 per record (${report.mode}) — ${m.cpu}, ${m.cores} cores, Node ${m.node}, ${m.os}`);
  console.table(
    report.results.map((r) => {
      const ratio = report.ratios.find((x) => x.anchor === r.implementation && x.batch === r.batch);
      return {
        implementation: r.implementation,
        batch: r.batch,
        'µs/record (median)': fixed(r.p50UsPerRecord, 2),
        'µs/record (mean)': fixed(r.usPerRecord, 2),
        '±% (mean)': fixed(r.rmePercent, 1),
        calls: r.calls,
        [`÷ ${ours}`]: ratio ? fixed(ratio.ratio, 2) : '1.00',
      };
    }),
  );
  console.log(`Headline: each anchor's best batch size vs ${ours} ×${report.headlineBatch}`);
  console.table(
    report.headline.map((h) => ({
      anchor: h.anchor,
      'best batch': h.bestBatch,
      'anchor µs/record': fixed(h.bestUsPerRecord, 2),
      'ours µs/record': fixed(h.oursUsPerRecord, 2),
      'anchor ÷ ours': fixed(h.ratio, 2),
    })),
  );
  if (report.packed) {
    const r = objectOverPacked(report, ours)!;
    console.log(`${ours}, records pre-packed (dvd1BatchPacked) ×${report.packed.batch}: ${fixed(report.packed.p50UsPerRecord, 2)} µs/record (median); `
      + `object API ÷ packed = ${fixed(r, 2)} (target ≤ ${OBJECT_OVER_PACKED_TARGET}: ${r <= OBJECT_OVER_PACKED_TARGET ? 'met' : 'not met'})`);
  }
  if (report.loadAverage) {
    console.log(`load average at start ${report.loadAverage.start.map((x) => fixed(x, 2)).join(' ')}, at end ${report.loadAverage.end.map((x) => fixed(x, 2)).join(' ')}`);
  }
}

/** The issue's targets for ours at the headline batch (issue 10): at least this many times the anchor's best. */
export const TARGETS = [
  { anchor: 'libsodium', label: 'libsodium.js', atLeast: 8 },
  { anchor: 'node:crypto', label: 'node:crypto', atLeast: 25 },
] as const;

const cell = (x: number, digits: number): string => x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const row = (cells: (string | number)[]): string => `| ${cells.join(' | ')} |`;

/** The core section of bench/RESULTS.md (bench/core.bench.ts writes it, bench/results-sections.ts). */
export function resultsSection(report: Report, ours: string): string {
  const out: string[] = [
    `## Crypto core (DVD-1 per record) — ${report.date.slice(0, 10)}`,
    '',
    '`npx tsx bench/core.bench.ts` (part of `npm run bench`), one run: ours and the anchors in the same process, '
      + `every task's time split into ${report.setup.budget.rounds} rounds that run all tasks in a new shuffled order; `
      + 'µs per record = median (over the rounds) of the median call latency ÷ batch size, lower is better. '
      + 'Ours is the object API (`core.dvd1Batch(records)`): it checks and packs every record object into WASM memory, '
      + 'as the anchors start from the same objects.',
    '',
    row(['anchor', 'anchor best µs/record (batch)', `${ours} µs/record (batch ${report.headlineBatch})`, 'anchor ÷ ours']),
    row(['---', '---', '---', '---']),
    ...report.headline.map((h) => row([h.anchor, `${cell(h.bestUsPerRecord, 2)} (${h.bestBatch})`, cell(h.oursUsPerRecord, 2), cell(h.ratio, 2)])),
    '',
    row([`target (issue 10: single thread, object API, batch ${report.headlineBatch})`, 'measured', 'verdict']),
    row(['---', '---', '---']),
  ];
  const needed: number[] = [];
  for (const t of TARGETS) {
    const h = report.headline.find((x) => x.anchor === t.anchor);
    out.push(row([`≥ ${t.atLeast}× faster than ${t.label}`, h ? `${cell(h.ratio, 2)}×` : '—', h ? (h.ratio >= t.atLeast ? '**met**' : '**not met**') : '—']));
    if (h) needed.push(h.bestUsPerRecord / t.atLeast);
  }
  out.push('');
  if (needed.length > 0) {
    out.push(`Both targets, against the anchors of this run, ask for ${ours} at ≤ ${cell(Math.min(...needed), 2)} µs/record.`, '');
  }
  const batches = report.setup.batchSizes;
  const names = [...new Set(report.results.map((r) => r.implementation))];
  out.push(row(['µs/record (median) at batch', ...batches.map(String)]), row(['---', ...batches.map(() => '---:')]));
  for (const name of names) out.push(row([name, ...batches.map((b) => cell(find(report.results, name, b).p50UsPerRecord, 2))]));
  out.push('');
  if (report.packed) {
    const objectApi = find(report.results, ours, report.packed.batch).p50UsPerRecord;
    out.push(`Same run, ${ours} on records already packed in the WASM layout (\`dvd1BatchPacked\`, batch ${report.packed.batch}): `
      + `${cell(report.packed.p50UsPerRecord, 2)} µs/record, so checking and packing the objects costs the object API `
      + `${cell(objectApi - report.packed.p50UsPerRecord, 2)} µs/record of its ${cell(objectApi, 2)}: object API ÷ packed `
      + `${cell(objectApi / report.packed.p50UsPerRecord, 2)} (target ≤ ${OBJECT_OVER_PACKED_TARGET}: ${objectApi / report.packed.p50UsPerRecord <= OBJECT_OVER_PACKED_TARGET ? '**met**' : '**not met**'})`
      + `${report.loadAverage ? `; load average ${report.loadAverage.start.map((x) => cell(x, 2)).join(' ')} at the start` : ''}.`, '');
  }
  return out.join('\n');
}
