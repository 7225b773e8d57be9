/**
 * Turns DVD-1 measurements into the bench's outputs: ratios of each anchor to our core
 * (anchor µs/record ÷ ours; above 1 means ours is faster), printed tables, and the JSON record.
 */
import { cpus, platform, release, arch } from 'node:os';
import type { Budget, Measurement } from './measure.ts';

export interface Ratio {
  anchor: string;
  batch: number;
  ratio: number; // anchor µs/record ÷ ours µs/record at the same batch size
}

export interface Headline {
  anchor: string;
  bestBatch: number; // the anchor's fastest batch size
  bestUsPerRecord: number;
  oursUsPerRecord: number; // ours at the headline batch size
  ratio: number; // best anchor µs/record ÷ ours
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
  machine: { cpu: string; cores: number; node: string; os: string };
  setup: Setup;
  results: Measurement[];
  ratios: Ratio[];
  headlineBatch: number;
  headline: Headline[];
}

function find(ms: readonly Measurement[], implementation: string, batch: number): Measurement {
  const m = ms.find((x) => x.implementation === implementation && x.batch === batch);
  if (!m) throw new Error(`no measurement for ${implementation} ×${batch}`);
  return m;
}

export function ratios(ms: readonly Measurement[], ours: string): Ratio[] {
  return ms
    .filter((m) => m.implementation !== ours)
    .map((m) => ({ anchor: m.implementation, batch: m.batch, ratio: m.usPerRecord / find(ms, ours, m.batch).usPerRecord }));
}

export function headline(ms: readonly Measurement[], ours: string, batch: number): Headline[] {
  const oursUs = find(ms, ours, batch).usPerRecord;
  const anchors = [...new Set(ms.map((m) => m.implementation))].filter((name) => name !== ours);
  return anchors.map((anchor) => {
    const best = ms
      .filter((m) => m.implementation === anchor)
      .reduce((a, b) => (b.usPerRecord < a.usPerRecord ? b : a));
    return {
      anchor,
      bestBatch: best.batch,
      bestUsPerRecord: best.usPerRecord,
      oursUsPerRecord: oursUs,
      ratio: best.usPerRecord / oursUs,
    };
  });
}

export function machine(): Report['machine'] {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    node: process.version,
    os: `${platform()} ${release()} ${arch()}`,
  };
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
        'µs/record': fixed(r.usPerRecord, 2),
        '±%': fixed(r.rmePercent, 1),
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
}
