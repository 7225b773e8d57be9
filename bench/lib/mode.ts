/**
 * The smoke flag every benchmark takes: `--smoke` (or BENCH_SMOKE=1) runs it for a second or two, so CI
 * keeps it from rotting; its numbers mean nothing, and it writes *.smoke.json beside the real results.
 */
export function isSmoke(argv: readonly string[] = process.argv): boolean {
  return argv.includes('--smoke') || process.env.BENCH_SMOKE === '1';
}
