/**
 * Issue 10 — a cheaper gateway main thread — as figures and verdicts. bench/e2e/run.ts measures the figures
 * (CPU per payment thread by thread, Redis commands per payment, payments/s, p99) and stores them in e2e.json
 * (`cpu.figures`); `--save-before` also writes them to bench/results/e2e-before.json, the "today" reference.
 * Every later run compares itself against that file here, so the after-run needs no editing: run the same
 * command on the improved code and read the table (terminal, e2e.json, RESULTS.md).
 *
 * Targets (issue 10):
 *   gateway main-thread CPU per payment ≤ ⅓ of today's, at light load (embedded store and Redis) and at peak;
 *   pool peak ≥ 2.5 × the baseline's peak payments/s over Redis, in the same run;
 *   pool peak payments/s ≥ 0.35 × the echo ceiling's payments-equivalent (same run);
 *   p99 of a whole payment < 25 ms at 70 % of the pool's peak;
 *   ≤ 3 Redis round trips per payment (commands the gateway sends, scripts counted once each).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Provenance } from '../lib/provenance.ts';
import type { CpuPerPayment, RedisPerPayment } from './cpu.ts';
import type { Cost } from './profile-summary.ts';

export const TARGETS = {
  mainCpuShareOfToday: 1 / 3,
  poolOverBaseline: 2.5,
  poolOverEcho: 0.35,
  p99At70Ms: 25,
  redisRoundTrips: 3,
} as const;

export const BEFORE_FILE = new URL('../results/e2e-before.json', import.meta.url);

/** One measured phase: the CPU of the gateway process per payment, its Redis commands per payment, its latency. */
export interface Phase {
  store: 'embedded' | 'redis';
  loop: string; // "light: 2 in flight, 250 ms pauses", "closed loop, 64 conns", "open loop, 1937/s"
  connections: number;
  payments: number; // completed in the window (the divisor)
  paymentsPerS: number;
  windowS: number;
  cpu: CpuPerPayment | null;
  redis: RedisPerPayment | null;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

export interface Figures {
  lightEmbedded: Phase | null; // pool gateway, embedded store, light load
  lightRedis: Phase | null; // pool gateway over Redis, light load
  /** The same gateways, the same pairs without the pause (for reference, no target: what the pause adds). */
  noPauseEmbedded?: Phase | null;
  noPauseRedis?: Phase | null;
  peak: Phase | null; // pool gateway over Redis, closed loop, its best connection count
  at70: Phase | null; // pool, open loop at 70 % of its peak
  baselinePeak: Phase | null;
  poolPaymentsPerS: number | null;
  baselinePaymentsPerS: number | null;
  echoPaymentsPerS: number | null; // echo round trips/s ÷ 2 (a payment is two round trips)
  poolOverBaseline: number | null;
  poolOverEcho: number | null;
  poolP99At70Ms: number | null;
  profile: { connections: number; paymentsPerS: number; busyShare: number; byFunction: Cost[]; byFile: Cost[] } | null;
}

export { codeProvenance as provenance, type Provenance } from '../lib/provenance.ts';

export interface BeforeFile extends Provenance {
  benchmark: 'e2e-before';
  date: string;
  command: string;
  mode: string;
  machine: unknown;
  loadAverageAtStart: number[];
  figures: Figures;
}

export function readBefore(): BeforeFile | null {
  return existsSync(BEFORE_FILE) ? (JSON.parse(readFileSync(BEFORE_FILE, 'utf8')) as BeforeFile) : null;
}

export interface TargetRow {
  target: string;
  today: string; // from the before file
  measured: string;
  ratio: string; // measured ÷ today
  met: boolean | null; // null: not measured in this run (or no reference)
}

const f = (x: number | null | undefined, d = 0): string =>
  (x === null || x === undefined || !Number.isFinite(x) ? '—' : x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }));
const div = (a: number | null | undefined, b: number | null | undefined) => (a != null && b != null && b !== 0 ? a / b : null);

/** The issue-10 targets of `now` against the reference `before` (null: no e2e-before.json yet). */
export function targetRows(now: Figures, before: BeforeFile | null): TargetRow[] {
  const b = before?.figures ?? null;
  const rows: TargetRow[] = [];
  const mainRow = (label: string, pick: (x: Figures) => Phase | null) => {
    const n = pick(now)?.cpu?.mainUs ?? null;
    const t = b ? pick(b)?.cpu?.mainUs ?? null : null;
    const r = div(n, t);
    rows.push({
      target: `${label}: gateway main-thread CPU per payment ≤ ⅓ of today's`,
      today: t === null ? '—' : `${f(t)} µs`,
      measured: n === null ? '—' : `${f(n)} µs`,
      ratio: r === null ? '—' : `${f(r, 2)} (target ≤ 0.33)`,
      met: r === null ? null : r <= TARGETS.mainCpuShareOfToday,
    });
  };
  mainRow('light load, embedded store', (x) => x.lightEmbedded);
  mainRow('light load, Redis', (x) => x.lightRedis);
  mainRow('peak, Redis', (x) => x.peak);
  const sameRun = (label: string, value: (x: Figures) => number | null, detail: (x: Figures) => string, ok: (v: number) => boolean) => {
    const n = value(now);
    const t = b ? value(b) : null;
    const r = div(n, t);
    rows.push({
      target: label,
      today: t === null ? '—' : `${f(t, 2)} (${detail(b!)})`,
      measured: n === null ? '—' : `${f(n, 2)} (${detail(now)})`,
      ratio: r === null ? '—' : f(r, 2),
      met: n === null ? null : ok(n),
    });
  };
  sameRun(`pool peak ≥ ${TARGETS.poolOverBaseline} × baseline peak payments/s (Redis, same run)`, (x) => x.poolOverBaseline,
    (x) => `${f(x.poolPaymentsPerS)} vs ${f(x.baselinePaymentsPerS)}/s`, (v) => v >= TARGETS.poolOverBaseline);
  sameRun(`pool peak payments/s ≥ ${TARGETS.poolOverEcho} × echo ceiling (same run)`, (x) => x.poolOverEcho,
    (x) => `${f(x.poolPaymentsPerS)} vs ${f(x.echoPaymentsPerS)}/s`, (v) => v >= TARGETS.poolOverEcho);
  {
    const n = now.poolP99At70Ms;
    const t = b?.poolP99At70Ms ?? null;
    const r = div(n, t);
    rows.push({
      target: `p99 of a whole payment < ${TARGETS.p99At70Ms} ms at 70 % of the pool's peak`,
      today: t === null ? '—' : `${f(t, 2)} ms`,
      measured: n === null ? '—' : `${f(n, 2)} ms`,
      ratio: r === null ? '—' : f(r, 2),
      met: n === null ? null : n < TARGETS.p99At70Ms,
    });
  }
  {
    const sent = (x: Figures | null) => (x ? [x.lightRedis?.redis?.sent ?? null, x.peak?.redis?.sent ?? null] : [null, null]);
    const [nl, np] = sent(now);
    const [tl, tp] = sent(b);
    const show = (l: number | null, p: number | null) => (l === null && p === null ? '—' : `${f(l, 2)} light, ${f(p, 2)} peak`);
    // A phase counts the commands sent in its window against the payments completed in it: a payment in flight at
    // either edge adds its commands without itself, at most connections × 3 ÷ payments (64 × 3 ÷ ~45,000 ≈ 0.004 at
    // peak), so each mean is compared with that much slack. test/gateway/store-round-trips.test.ts counts exactly.
    const within = (x: number | null, phase: Phase | null | undefined) =>
      x === null ? null : x <= TARGETS.redisRoundTrips * (1 + (phase ? phase.connections / phase.payments : 0));
    const verdicts = [within(nl, now?.lightRedis), within(np, now?.peak)].filter((v): v is boolean => v !== null);
    rows.push({
      target: `≤ ${TARGETS.redisRoundTrips} Redis round trips per payment (commands sent, a script = 1)`,
      today: show(tl, tp),
      measured: show(nl, np),
      ratio: f(div(nl, tl), 2),
      met: verdicts.length === 0 ? null : verdicts.every(Boolean),
    });
  }
  return rows;
}

/** Where the reference comes from, in one line. */
export function describeBefore(before: BeforeFile | null): string {
  if (!before) return 'no reference yet (bench/results/e2e-before.json is written by `npm run bench:e2e -- --save-before`)';
  return `bench/results/e2e-before.json: \`${before.command}\` on ${before.date.slice(0, 10)}, gateway code at commit ${before.codeCommit ?? '?'}`
    + `${before.dirty ? ' with uncommitted changes' : ''} (HEAD ${before.commit ?? '?'}; load average at start ${before.loadAverageAtStart.map((x) => x.toFixed(1)).join(' ')})`;
}
