/**
 * Fuzz target: the Redis store codecs (issuer/store/redis-codec.ts), which decode what comes back from
 * Redis: `cardFromHash` (a hash of strings), `sessionFromJson` and `ledgerFromJson` (JSON text). Inputs:
 * valid records with a field replaced, removed or added, text mutations of their JSON, random text and
 * hashes, wrongly typed values.
 * Invariants: never an untyped error, only STORE_CORRUPT, and its message never holds the record's PAN;
 * a decoded record is well formed (cards and sessions: it encodes and decodes to itself; ledger records:
 * every field of LedgerRecord has its type — checked by `ledgerIsWellFormed`).
 */
import fc from 'fast-check';
import { cardFromHash, cardToHash, ledgerFromJson, sessionFromJson } from '../../../issuer/store/redis-codec.ts';
import type { LedgerRecord } from '../../../issuer/store/types.ts';
import { makeCard, makePayment, makeSession } from '../../support/store-fixtures.ts';
import { share, timed, typedCode, type FuzzOptions, type FuzzReport } from './harness.ts';
import { alphabetOf, fieldEdited, mutatedText, wronglyTyped } from './mutate.ts';

const JSON_CHARS = '{}[]":,0123456789.-+eE truefalsn\\u';
const CORRUPT = ['STORE_CORRUPT'];
const card = makeCard();
const session = makeSession(card);
const ledger: LedgerRecord = { ...makePayment(card), outcome: 'approved', reason: null, balanceAfter: card.balance - 1_250 };

/** The LedgerRecord contract, field by field (what a decoder must guarantee to the flow that trusts it). */
export function ledgerIsWellFormed(r: LedgerRecord): boolean {
  const whole = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;
  return /^[0-9a-f]{32}$/.test(r.sessionId) && typeof r.pan === 'string' && typeof r.merchant === 'string'
    && whole(r.amount) && /^[A-Z]{3}$/.test(r.currency) && (r.outcome === 'approved' || r.outcome === 'declined')
    && (r.reason === null || typeof r.reason === 'string') && /^[0-9a-f]{64}$/.test(r.cryptogram) && whole(r.balanceAfter) && whole(r.at);
}

function jsonInputs(record: object): fc.Arbitrary<string> {
  const text = JSON.stringify(record);
  return fc.oneof(
    { weight: 4, arbitrary: fieldEdited([record as Record<string, unknown>], fc.jsonValue()).map((r) => JSON.stringify(r)) },
    { weight: 4, arbitrary: mutatedText([text], alphabetOf(JSON_CHARS)) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) },
    { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null') },
    { weight: 1, arbitrary: wronglyTyped() as fc.Arbitrary<string> },
  );
}

/**
 * `ledgerContract: false` checks ledgerFromJson for typed errors only, not the record's shape: the one
 * codec that does not run boundary checks on decode (see the fuzzing findings in test/fuzz/README.md).
 */
export async function fuzzStoreCodecs(opts: FuzzOptions & { ledgerContract?: boolean }): Promise<FuzzReport> {
  const hash = cardToHash(card);
  const [cardRuns, sessionRuns, ledgerRuns] = share(opts.runs, 3);
  const noPan = (e: unknown) => {
    if ((e as Error).message.includes(card.pan)) throw new Error('STORE_CORRUPT message holds the PAN');
  };

  return timed('store-codecs', opts, async (seed, outcomes) => {
    const hashes = fc.oneof(
      { weight: 6, arbitrary: fieldEdited([hash], fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('', '-1', '1e3', '0x10', ' 1', '99999999999999999', 'NaN', 'AAAA'))) },
      { weight: 2, arbitrary: fc.dictionary(fc.constantFrom(...Object.keys(hash), 'x'), fc.string({ maxLength: 80 })) },
      { weight: 1, arbitrary: wronglyTyped() },
    );
    /** Decodes, and a decoded record must decode to itself again; or STORE_CORRUPT without the PAN. */
    const roundTrips = <T>(kind: string, decode: () => T, again: (decoded: T) => T) => {
      try {
        const decoded = decode();
        if (JSON.stringify(again(decoded)) !== JSON.stringify(decoded)) throw new Error(`${kind} does not round-trip`);
        outcomes.add(`${kind}:ok`);
      } catch (e) {
        outcomes.add(`${kind}:${typedCode(e, CORRUPT, kind)}`);
        noPan(e);
      }
    };
    fc.assert(fc.property(hashes, (h) => {
      roundTrips('card', () => cardToHash(cardFromHash(h as Record<string, string>)), (encoded) => cardToHash(cardFromHash(encoded)));
    }), { numRuns: cardRuns, seed });
    fc.assert(fc.property(jsonInputs(session), (json) => {
      roundTrips('session', () => sessionFromJson(json), (decoded) => sessionFromJson(JSON.stringify(decoded)));
    }), { numRuns: sessionRuns, seed });

    fc.assert(fc.property(jsonInputs(ledger), (json) => {
      let decoded: LedgerRecord;
      try {
        decoded = ledgerFromJson(json);
      } catch (e) {
        outcomes.add(`ledger:${typedCode(e, CORRUPT, 'ledgerFromJson')}`);
        noPan(e);
        return;
      }
      if (!ledgerIsWellFormed(decoded)) {
        outcomes.add('ledger:malformed-accepted');
        if (opts.ledgerContract !== false) throw new Error(`ledgerFromJson accepted a malformed record: ${json.slice(0, 200)}`);
      } else outcomes.add('ledger:ok');
    }), { numRuns: ledgerRuns, seed });

    return cardRuns + sessionRuns + ledgerRuns;
  });
}
