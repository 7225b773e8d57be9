/**
 * Fuzz target: the card payload parser (issuer/payload.ts) — `payloadFromText` on QR text and `parsePayload`
 * on bytes. Inputs: random bytes and strings, byte mutations and splices of real payloads, base45 text
 * mutations, huge and empty inputs, values of the wrong type.
 * Invariant: a ScanpayError PAYLOAD_MALFORMED / PAYLOAD_TOO_LARGE, or a parse whose header fields are read
 * from the bytes given; text decodes only when it is the canonical base45 of 112 bytes.
 */
import fc from 'fast-check';
import { PAYLOAD_SIZE, PAYLOAD_TEXT_MAX, parsePayload, payloadFromText, payloadToText } from '../../../issuer/payload.ts';
import { cardDeck } from './card-deck.ts';
import { share, timed, typedCode, type FuzzOptions, type FuzzReport } from './harness.ts';
import { alphabetOf, hugeText, mutatedBytes, mutatedText, wronglyTyped } from './mutate.ts';

const CODES = ['PAYLOAD_MALFORMED', 'PAYLOAD_TOO_LARGE'];
const BASE45 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';

export async function fuzzPayloadParser(opts: FuzzOptions): Promise<FuzzReport> {
  const deck = await cardDeck();
  const bytes = deck.payloads.map((c) => c.payload);
  const texts = deck.payloads.map((c) => c.payloadText);

  return timed('payload-parser', opts, async (seed, outcomes) => {
    const [byteRuns, textRuns] = share(opts.runs, 2);

    const byteInputs = fc.oneof(
      { weight: 5, arbitrary: mutatedBytes(bytes) },
      { weight: 2, arbitrary: fc.uint8Array({ maxLength: 300 }) },
      { weight: 1, arbitrary: fc.uint8Array({ minLength: PAYLOAD_SIZE, maxLength: PAYLOAD_SIZE }) },
      { weight: 1, arbitrary: wronglyTyped() },
    );
    fc.assert(fc.property(byteInputs, (input) => {
      let parsed;
      try {
        parsed = parsePayload(input as Uint8Array);
      } catch (e) {
        outcomes.add(`bytes:${typedCode(e, CODES, 'parsePayload')}`);
        return;
      }
      // shape only: 112 bytes, version 1, reserved 0, and the header fields come from those bytes
      const b = input as Uint8Array;
      if (!(b instanceof Uint8Array) || b.length !== PAYLOAD_SIZE || b[0] !== 1 || b[7] !== 0) throw new Error('parsePayload accepted a misshapen payload');
      if (parsed.keyId !== ((b[1] << 8) | b[2]) || parsed.generation !== new DataView(b.buffer, b.byteOffset).getUint32(3)) throw new Error('header misread');
      outcomes.add('bytes:parsed');
    }), { numRuns: byteRuns, seed });

    const textInputs = fc.oneof(
      { weight: 5, arbitrary: mutatedText(texts, alphabetOf(BASE45)) },
      { weight: 1, arbitrary: bytes.length ? mutatedBytes(bytes).map(payloadToText) : fc.constant('') }, // canonical text of damaged bytes
      { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) },
      { weight: 1, arbitrary: hugeText(200_000) },
      { weight: 1, arbitrary: fc.constantFrom('', ' ', texts[0].toLowerCase(), `${texts[0]}\n`, texts[0].normalize('NFKD')) },
      { weight: 1, arbitrary: wronglyTyped() },
    );
    fc.assert(fc.property(textInputs, (input) => {
      let decoded: Uint8Array;
      try {
        decoded = payloadFromText(input);
      } catch (e) {
        const code = typedCode(e, CODES, 'payloadFromText');
        if (code === 'PAYLOAD_TOO_LARGE' && !(typeof input === 'string' && input.length > PAYLOAD_TEXT_MAX)) throw new Error('TOO_LARGE for short text');
        outcomes.add(`text:${code}`);
        return;
      }
      if (decoded.length !== PAYLOAD_SIZE || payloadToText(decoded) !== input) throw new Error('accepted non-canonical text');
      outcomes.add('text:decoded');
    }), { numRuns: textRuns, seed });

    return byteRuns + textRuns;
  });
}
