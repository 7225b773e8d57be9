/**
 * Short fuzz run of the merchant API (test/fuzz/targets/merchant-api.ts), black box over HTTP against a real
 * gateway: every answer declared by the OpenAPI document and never 5xx, a refused request changes nothing, an
 * accepted one keeps every balance reconciled, and a refund still goes through at the end.
 */
import { describe, expect, it } from 'vitest';
import { fuzzMerchantApi } from './targets/merchant-api.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 3_000);

describe('fuzz (short): merchant API', () => {
  it('a declared answer to every request, nothing changed by a refused one, balances reconciled after an accepted one', async () => {
    const report = await fuzzMerchantApi({ runs: Math.ceil(RUNS / 2) });
    console.log(`merchant-api fuzz: ${report.cases} cases, seed ${report.seed}: ${JSON.stringify(report.outcomes)}`);
    for (const outcome of ['200 POST', '200 GET', '400 INVALID_PARAMETER', '400 INVALID_JSON', '401 UNAUTHENTICATED', '404 PAYMENT_NOT_FOUND', '413 BODY_TOO_LARGE', '415 UNSUPPORTED_MEDIA_TYPE']) {
      expect(report.outcomes[outcome], outcome).toBeGreaterThan(0);
    }
  }, 120_000);
});
