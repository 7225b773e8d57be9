/**
 * `npm run fuzz`: every fuzz target (test/fuzz/targets/) in turn, in one process, with the long run's case
 * counts (over 1,000,000 in total); `npm run fuzz -- --short` (or FUZZ_SHORT=1) runs a hundredth of it.
 * `--seed N` replays a run; `--only name,name` picks targets. Prints per target the cases, wall time, seed,
 * outcome histogram and the heap after a full GC, and fails (exit 1) on a broken invariant, an unhandled
 * rejection or uncaught exception, or heap growth past HEAP_BUDGET_MB across the run.
 */
import { fuzzCliArgs } from './targets/cli-args.ts';
import { fuzzFrameDecoder } from './targets/frame-decoder.ts';
import type { FuzzOptions, FuzzReport } from './targets/harness.ts';
import { fuzzLegalityJudge } from './targets/legality-judge.ts';
import { fuzzMerchantApi } from './targets/merchant-api.ts';
import { fuzzPagePost } from './targets/page-post.ts';
import { fuzzPayloadParser } from './targets/payload-parser.ts';
import { fuzzScannerFrames } from './targets/scanner-frames.ts';
import { fuzzStoreCodecs } from './targets/store-codecs.ts';

const TARGETS: { name: string; runs: number; fuzz: (opts: FuzzOptions) => Promise<FuzzReport> }[] = [
  { name: 'payload-parser', runs: 400_000, fuzz: fuzzPayloadParser },
  { name: 'legality-judge', runs: 120_000, fuzz: fuzzLegalityJudge },
  { name: 'frame-decoder', runs: 300_000, fuzz: fuzzFrameDecoder },
  // the ledger decoder's missing checks are a known finding (test/fuzz/README.md): counted, not fatal
  { name: 'store-codecs', runs: 150_000, fuzz: (opts) => fuzzStoreCodecs({ ...opts, ledgerContract: false }) },
  { name: 'cli-args', runs: 20_000, fuzz: fuzzCliArgs },
  { name: 'scanner-frames', runs: 40_000, fuzz: fuzzScannerFrames },
  { name: 'page-post', runs: 20_000, fuzz: fuzzPagePost },
  { name: 'merchant-api', runs: 20_000, fuzz: fuzzMerchantApi },
];
const HEAP_BUDGET_MB = 64;

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const short = process.argv.includes('--short') || process.env.FUZZ_SHORT === '1';
const seed = flag('--seed') === undefined ? undefined : Number(flag('--seed'));
const only = flag('--only')?.split(',');
const gc = (globalThis as { gc?: () => void }).gc;
const heapMb = (): number => {
  gc?.();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

const escaped: string[] = [];
process.on('unhandledRejection', (e) => escaped.push(`unhandled rejection: ${(e as Error)?.stack ?? String(e)}`));
process.on('uncaughtException', (e) => escaped.push(`uncaught exception: ${e.stack ?? String(e)}`));

if (!gc) console.warn('fuzz: run with node --expose-gc for exact heap figures (npm run fuzz does)');
const heapStart = heapMb();
const started = performance.now();
let total = 0;
let failed = false;
console.log(`fuzz: ${short ? 'short' : 'long'} run${seed === undefined ? '' : `, seed ${seed}`}; heap ${heapStart.toFixed(1)} MB at start`);
for (const target of TARGETS) {
  if (only && !only.includes(target.name)) continue;
  const runs = short ? Math.ceil(target.runs / 100) : target.runs;
  try {
    const report = await target.fuzz({ runs, seed });
    total += report.cases;
    const inputs = 'inputs' in report ? ` (${String(report.inputs)} inputs)` : '';
    console.log(`${target.name.padEnd(15)} ${String(report.cases).padStart(8)} cases${inputs} in ${(report.ms / 1000).toFixed(1)} s  seed ${report.seed}  heap ${heapMb().toFixed(1)} MB`);
    console.log(`${' '.repeat(16)}${Object.entries(report.outcomes).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  } catch (e) {
    failed = true;
    const cause = (e as Error).cause as Error | undefined; // fast-check keeps the property's own error here
    console.error(`${target.name}: INVARIANT BROKEN\n${(e as Error).message}${cause ? `\ncause: ${cause.message}` : ''}`);
  }
}
const heapEnd = heapMb();
const seconds = (performance.now() - started) / 1000;
console.log(`fuzz: ${total} cases in ${seconds.toFixed(1)} s; heap ${heapStart.toFixed(1)} → ${heapEnd.toFixed(1)} MB (budget +${HEAP_BUDGET_MB} MB)`);
for (const line of escaped) console.error(line);
if (heapEnd - heapStart > HEAP_BUDGET_MB) {
  console.error(`fuzz: heap grew by ${(heapEnd - heapStart).toFixed(1)} MB`);
  failed = true;
}
process.exit(failed || escaped.length ? 1 : 0);
