/**
 * Short fuzz run of the operator CLI's argument parser, in-process through main(argv, out) in a sandbox
 * (test/fuzz/targets/cli-args.ts): exit 0/1/2 and never a throw, a message on every failure, no key
 * material printed, nothing written by a failed command. The long run is `npm run fuzz`.
 */
import { describe, expect, it } from 'vitest';
import { fuzzCliArgs } from './targets/cli-args.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 3_000);

describe('fuzz (short): CLI arguments', () => {
  it('every argv ends in a clean exit code with a message, leaks nothing and a failure writes nothing', async () => {
    const report = await fuzzCliArgs({ runs: Math.ceil(RUNS / 4) });
    // usage errors (2), operation failures (1) and successes (0: help, keys list/rotate) are all reached
    for (const code of [0, 1, 2]) expect(report.outcomes[`exit ${code}`], `exit ${code}`).toBeGreaterThan(0);
  });
});
