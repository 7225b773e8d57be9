/**
 * Fuzz target: S22, the legality judge (`Issuer.judgePayloads`) over a MemoryStore holding cards in every
 * state (card-deck.ts). Each case judges a batch of 1-8 inputs: mutations and splices of real payloads
 * (bytes and base45 text), random bytes and text, huge and empty inputs, values of the wrong type.
 * Invariants: the call resolves (never throws); each verdict is legal exactly when its input is the current
 * payload of a usable card, byte for byte, and otherwise illegal with a typed reason; and the judge writes
 * nothing — every card's view (status, balance, PIN failures, generation) and the card count are unchanged.
 */
import fc from 'fast-check';
import { payloadToText } from '../../../issuer/payload.ts';
import { cardDeck } from './card-deck.ts';
import { timed, type FuzzOptions, type FuzzReport } from './harness.ts';
import { alphabetOf, hugeText, mutatedBytes, mutatedText, wronglyTyped } from './mutate.ts';

const REASONS = new Set([
  'PAYLOAD_TOO_LARGE', 'PAYLOAD_MALFORMED', 'KEY_UNKNOWN', 'KEY_RETIRED', 'PAYLOAD_TAG_INVALID',
  'PAN_INVALID', 'CARD_UNKNOWN', 'BASIC_KEY_MISMATCH', 'GENERATION_STALE', 'CARD_BLOCKED', 'CARD_LOCKED',
]);
const BASE45 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';

export async function fuzzLegalityJudge(opts: FuzzOptions): Promise<FuzzReport & { inputs: number }> {
  const deck = await cardDeck();
  const bytes = deck.payloads.map((c) => c.payload);
  const texts = deck.payloads.map((c) => c.payloadText);
  const before = JSON.stringify(await deck.views());
  const cardCount = await deck.store.countCards();
  let inputs = 0;

  const input = fc.oneof(
    { weight: 4, arbitrary: mutatedBytes(bytes) },
    { weight: 3, arbitrary: mutatedText(texts, alphabetOf(BASE45)) },
    { weight: 2, arbitrary: mutatedBytes(bytes).map(payloadToText) }, // well-formed text, damaged content: reaches the AEAD
    { weight: 1, arbitrary: fc.constantFrom<string | Uint8Array>(...texts, ...bytes) },
    { weight: 2, arbitrary: deck.forged }, // the real ones, in batches with damaged ones
    { weight: 1, arbitrary: fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }), hugeText(100_000)) },
    { weight: 1, arbitrary: wronglyTyped() },
  );

  const report = await timed('legality-judge', opts, async (seed, outcomes) => {
    await fc.assert(fc.asyncProperty(fc.array(input, { minLength: 1, maxLength: 8 }), async (batch) => {
      const verdicts = await deck.issuer.judgePayloads(batch as (string | Uint8Array)[]);
      if (verdicts.length !== batch.length) throw new Error(`${verdicts.length} verdicts for ${batch.length} inputs`);
      verdicts.forEach((verdict, i) => {
        const item = batch[i];
        const text = item instanceof Uint8Array ? payloadToText(item) : item;
        const expectedToken = typeof text === 'string' ? deck.legal.get(text) : undefined;
        if (verdict.legal) {
          if (expectedToken === undefined || verdict.card.token !== expectedToken) throw new Error('a damaged or unusable payload was judged legal');
          outcomes.add('legal');
        } else {
          if (!REASONS.has(verdict.reason)) throw new Error(`untyped reason ${String(verdict.reason)}`);
          if (expectedToken !== undefined) throw new Error(`a current payload was judged ${verdict.reason}`);
          outcomes.add(verdict.reason);
        }
      });
      inputs += batch.length;
      // the judge only reads: nothing about any card may move
      if (JSON.stringify(await deck.views()) !== before || (await deck.store.countCards()) !== cardCount) throw new Error('judging changed the store');
    }), { numRuns: opts.runs, seed });
    return opts.runs;
  });
  return { ...report, inputs };
}
