/**
 * Fuzz target: the Redis store codecs (issuer/store/redis-codec.ts), which decode what comes back from
 * Redis: `cardFromHash` (a hash of strings), `sessionFromJson` (JSON text) and `ledgerFromFields` (a ledger
 * hash: the request half as JSON text, the decision, the balance after). Inputs: valid records with a field
 * replaced, removed or added, text mutations of their JSON, random text and hashes, wrongly typed values.
 * Invariants: never an untyped error, only STORE_CORRUPT, and its message never holds the record's values (PAN, ids);
 * a decoded record is well formed (cards and sessions: it encodes and decodes to itself; ledger records:
 * every field of LedgerRecord has its type — checked by `ledgerIsWellFormed`).
 */
import fc from 'fast-check';
import { cardFromHash, cardToHash, ledgerFromFields, ledgerHead, sessionFromJson, sessionToJson } from '../../../issuer/store/redis-codec.ts';
import type { LedgerRecord } from '../../../issuer/store/types.ts';
import { makeCard, makePayment, makeSession } from '../../support/store-fixtures.ts';
import { share, timed, typedCode, type FuzzOptions, type FuzzReport } from './harness.ts';
import { alphabetOf, fieldEdited, mutatedText, wronglyTyped } from './mutate.ts';

const JSON_CHARS = '{}[]":,0123456789.-+eE truefalsn\\u';
const CORRUPT = ['STORE_CORRUPT'];
const card = makeCard();
const session = makeSession(card);
const request = makePayment(card);
// the record holds the request's half ledgerHead stores (not the attempt id, capture method or hold window: those are the call's)
const ledger: LedgerRecord = { ...JSON.parse(ledgerHead(request)), outcome: 'approved', reason: null, balanceAfter: card.balance - 1_250 };

/**
 * The LedgerRecord contract, from a valid record's own shape (so it follows the schema): the same fields,
 * each of the same type — numbers safe integers ≥ 0, `reason` a string or null — and `outcome` one of two.
 */
export function ledgerIsWellFormed(r: LedgerRecord): boolean {
  const model = ledger as unknown as Record<string, unknown>;
  const got = r as unknown as Record<string, unknown>;
  if (typeof got !== 'object' || got === null || Object.keys(got).sort().join() !== Object.keys(model).sort().join()) return false;
  return Object.entries(model).every(([key, value]) => {
    const v = got[key];
    if (key === 'reason') return v === null || typeof v === 'string';
    if (key === 'outcome') return v === 'approved' || v === 'declined';
    if (typeof value === 'number') return Number.isSafeInteger(v) && (v as number) >= 0;
    return typeof v === typeof value && v !== '';
  });
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
 * `ledgerContract: false` checks ledgerFromFields for typed errors only, not the record's shape (see the
 * fuzzing findings in test/fuzz/README.md: it once was the one codec without boundary checks on decode).
 */
export async function fuzzStoreCodecs(opts: FuzzOptions & { ledgerContract?: boolean }): Promise<FuzzReport> {
  const hash = cardToHash(card);
  const [cardRuns, sessionRuns, ledgerRuns] = share(opts.runs, 3);
  // the record's identifying values (PAN or card token, ids, cryptogram) must not reach an error message
  const secrets = [card, session, ledger].flatMap((r) => Object.values(r)).filter((v): v is string => typeof v === 'string' && v.length >= 12);
  const noPan = (e: unknown) => {
    if (secrets.some((v) => (e as Error).message.includes(v))) throw new Error('STORE_CORRUPT message holds a record value');
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
    // the session as Redis holds it (its payload bytes in base64)
    fc.assert(fc.property(jsonInputs(JSON.parse(sessionToJson(session))), (json) => {
      roundTrips('session', () => sessionFromJson(json), (decoded) => sessionFromJson(sessionToJson(decoded)));
    }), { numRuns: sessionRuns, seed });

    // the ledger hash: its head (the request half's JSON), decision and balance after, each mutated
    const decisions = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom('approved', 'declined:OVER_LIMIT') },
      { weight: 2, arbitrary: fc.constantFrom('declined:NOPE', 'wrong:2', 'locked', '', 'approved ') },
      { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
    );
    const balances = fc.oneof(
      { weight: 4, arbitrary: fc.constant(String(ledger.balanceAfter)) },
      { weight: 2, arbitrary: fc.constantFrom('-1', '1e3', '', '99999999999999999') },
      { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
    );
    fc.assert(fc.property(jsonInputs(JSON.parse(ledgerHead(request))), decisions, balances, (head, decision, balanceAfter) => {
      let decoded: LedgerRecord;
      try {
        decoded = ledgerFromFields(head, decision, balanceAfter);
      } catch (e) {
        outcomes.add(`ledger:${typedCode(e, CORRUPT, 'ledgerFromFields')}`);
        noPan(e);
        return;
      }
      if (!ledgerIsWellFormed(decoded)) {
        outcomes.add('ledger:malformed-accepted');
        if (opts.ledgerContract !== false) throw new Error(`ledgerFromFields accepted a malformed record: ${head.slice(0, 200)}`);
      } else outcomes.add('ledger:ok');
    }), { numRuns: ledgerRuns, seed });

    return cardRuns + sessionRuns + ledgerRuns;
  });
}
