/**
 * Short fuzz run of S22, the legality judge (Issuer.judgePayloads) on a MemoryStore: the target (test/fuzz/targets/legality-judge.ts) asserts its invariants on every
 * case and fast-check throws the shrunk counterexample; here we also check the run reached past the first
 * check. The long run is `npm run fuzz`; FUZZ_RUNS scales this one.
 */
import { describe, expect, it } from 'vitest';
import { fuzzLegalityJudge } from './targets/legality-judge.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 3_000);

describe('fuzz (short): legality judge', () => {
  it('legality judge: a typed reason for every damaged payload, legal only for current ones, store unchanged', async () => {
    const report = await fuzzLegalityJudge({ runs: Math.ceil(RUNS / 3) });
    expect(report.inputs).toBeGreaterThan(report.cases);
    // the mutations and forgeries reach every stage of S22, not just the shape check
    for (const reason of ['legal', 'PAYLOAD_MALFORMED', 'PAYLOAD_TAG_INVALID', 'KEY_RETIRED', 'CARD_UNKNOWN', 'PAN_INVALID', 'BASIC_KEY_MISMATCH', 'CARD_BLOCKED']) {
      expect(report.outcomes[reason], reason).toBeGreaterThan(0);
    }
  });
});
