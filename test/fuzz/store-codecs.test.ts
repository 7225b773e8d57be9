/**
 * Short fuzz run of the Redis store codecs (cardFromHash, sessionFromJson, ledgerFromFields): the target (test/fuzz/targets/store-codecs.ts) asserts its invariants on every
 * case and fast-check throws the shrunk counterexample; here we also check the run reached past the first
 * check. The long run is `npm run fuzz`; FUZZ_RUNS scales this one.
 */
import { describe, expect, it } from 'vitest';
import { fuzzStoreCodecs } from './targets/store-codecs.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 3_000);

describe('fuzz (short): store codecs', () => {
  it('store codecs: only STORE_CORRUPT, without the PAN, and decoded cards and sessions round-trip', async () => {
    const report = await fuzzStoreCodecs({ runs: RUNS, ledgerContract: false });
    for (const kind of ['card', 'session', 'ledger']) {
      expect(report.outcomes[`${kind}:ok`], kind).toBeGreaterThan(0);
      expect(report.outcomes[`${kind}:STORE_CORRUPT`], kind).toBeGreaterThan(0);
    }
  });

  // Was a bug (test/fuzz/README.md, finding 1): the ledger codec ran no boundary check. It now runs checkedLedger.
  it('store codecs: ledgerFromFields returns only well-formed records', async () => {
    await fuzzStoreCodecs({ runs: 300 });
  });
});
