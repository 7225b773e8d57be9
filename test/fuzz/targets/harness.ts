/**
 * What every fuzz target shares: its options (how many cases, which seed), its report (cases run and a
 * histogram of how the code under test answered, so a run shows it reached past the first check), and the
 * assertion that a thrown value is a typed error with an allowed code.
 * A target is one async function `fuzzX(opts): Promise<FuzzReport>` that sets up what it needs, runs
 * fast-check properties and tears down; fast-check throws the shrunk counterexample when an invariant breaks.
 * @example
 *   const report = await fuzzFrameDecoder({ runs: 2_000 });
 *   console.log(report.target, report.cases, report.outcomes);
 */
import { ScanpayError } from '../../../core/errors.ts';

export interface FuzzOptions {
  runs: number;
  /** Fixed seed to reproduce a run (printed in every report). */
  seed?: number;
}

export interface FuzzReport {
  target: string;
  cases: number;
  seed: number;
  ms: number;
  /** How the code under test answered, e.g. { 'PAYLOAD_MALFORMED': 812, 'ok': 3 }. */
  outcomes: Record<string, number>;
}

export class Outcomes {
  readonly counts: Record<string, number> = {};
  add(outcome: string): void {
    this.counts[outcome] = (this.counts[outcome] ?? 0) + 1;
  }
}

export const seedOf = (opts: FuzzOptions): number => opts.seed ?? (Date.now() ^ (Math.random() * 0x7fffffff)) >>> 0;

/** Fails the property unless `e` is a ScanpayError with one of `codes`; returns the code. */
export function typedCode(e: unknown, codes: readonly string[], where: string): string {
  if (!(e instanceof ScanpayError)) throw new Error(`${where}: untyped ${(e as Error)?.name ?? typeof e}: ${(e as Error)?.message ?? String(e)}`);
  if (!codes.includes(e.code)) throw new Error(`${where}: unexpected code ${e.code}: ${e.message}`);
  return e.code;
}

/** Splits `runs` over `parts` properties (at least one case each), so a target's total is exactly `runs`. */
export function share(runs: number, parts: number): number[] {
  const base = Math.floor(runs / parts);
  return Array.from({ length: parts }, (_, i) => Math.max(1, base + (i < runs % parts ? 1 : 0)));
}

export async function timed(target: string, opts: FuzzOptions, body: (seed: number, outcomes: Outcomes) => Promise<number>): Promise<FuzzReport> {
  const seed = seedOf(opts);
  const outcomes = new Outcomes();
  const started = performance.now();
  const cases = await body(seed, outcomes);
  return { target, cases, seed, ms: Math.round(performance.now() - started), outcomes: outcomes.counts };
}
