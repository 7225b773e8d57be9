/**
 * Short fuzz run of the scanner frame decoder (parseScannerFrame): the target (test/fuzz/targets/frame-decoder.ts) asserts its invariants on every
 * case and fast-check throws the shrunk counterexample; here we also check the run reached past the first
 * check. The long run is `npm run fuzz`; FUZZ_RUNS scales this one.
 */
import { describe, expect, it } from 'vitest';
import { fuzzFrameDecoder } from './targets/frame-decoder.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 3_000);

describe('fuzz (short): frame decoder', () => {
  it('frame decoder: BAD_FRAME or UNSUPPORTED_VERSION, never a throw, never an extra field accepted', async () => {
    const report = await fuzzFrameDecoder({ runs: RUNS });
    expect(report.outcomes.BAD_FRAME).toBeGreaterThan(0);
    expect(report.outcomes.UNSUPPORTED_VERSION).toBeGreaterThan(0);
    for (const type of ['scan', 'pin', 'ping']) expect(report.outcomes[`ok:${type}`]).toBeGreaterThan(0);
  });
});
