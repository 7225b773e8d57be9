/**
 * Short fuzz run of the card payload parser (issuer/payload.ts): the target (test/fuzz/targets/payload-parser.ts) asserts its invariants on every
 * case and fast-check throws the shrunk counterexample; here we also check the run reached past the first
 * check. The long run is `npm run fuzz`; FUZZ_RUNS scales this one.
 */
import { describe, expect, it } from 'vitest';
import { fuzzPayloadParser } from './targets/payload-parser.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 3_000);

describe('fuzz (short): payload parser', () => {
  it('payload parser: typed errors only, accepts only well-shaped bytes and canonical base45 (v1 and v2)', async () => {
    const report = await fuzzPayloadParser({ runs: RUNS });
    expect(report.cases).toBe(RUNS);
    expect(report.outcomes['bytes:parsed']).toBeGreaterThan(0);
    expect(report.outcomes['text:decoded']).toBeGreaterThan(0);
    expect(report.outcomes['text:PAYLOAD_TOO_LARGE']).toBeGreaterThan(0);
    expect(report.outcomes['code:v2']).toBeGreaterThan(0);
    expect(report.outcomes['code:PAYLOAD_MALFORMED']).toBeGreaterThan(0);
    expect(report.outcomes['code:PAYLOAD_TOO_LARGE']).toBeGreaterThan(0);
  });
});
