/**
 * Fuzz target: the card payload parser (issuer/payload.ts) — `payloadFromText` on QR text and `parsePayload`
 * on bytes — and the one-time code parser (payload v2, core/one-time-code.ts) behind `scannedPayload`. Inputs:
 * random bytes and strings, byte mutations and splices of real payloads and codes, base45 text mutations, huge and
 * empty inputs, values of the wrong type.
 * Invariant: a ScanpayError PAYLOAD_MALFORMED / PAYLOAD_TOO_LARGE, or a parse whose header fields are read
 * from the bytes given; text decodes only when it is the canonical base45 of 112 bytes (v1) or of 41 bytes
 * starting with version 2 (v2, whose fields re-encode to the same text).
 */
import fc from 'fast-check';
import { PAYLOAD_SIZE, PAYLOAD_TEXT_MAX, parsePayload, payloadFromText, payloadToText, scannedPayload } from '../../../issuer/payload.ts';
import { CODE_SIZE, codeText, encodeCode } from '../../../core/one-time-code.ts';
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
    const [byteRuns, textRuns, codeRuns] = share(opts.runs, 3);

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

    // payload v2: codes' text (and v1 text) through scannedPayload, which tells them apart
    const codeBytes = Array.from({ length: 8 }, (_, i) => encodeCode({
      enrolmentId: Uint8Array.from({ length: 16 }, (_, j) => (i * 31 + j * 7) & 0xff), step: i * 1_000_003, counter: i, mac: Uint8Array.from({ length: 16 }, (_, j) => (i + j * 13) & 0xff),
    }));
    const codeTexts = codeBytes.map(codeText);
    const codeInputs = fc.oneof(
      { weight: 5, arbitrary: mutatedText(codeTexts, alphabetOf(BASE45)) },
      { weight: 2, arbitrary: mutatedBytes(codeBytes).map((b) => payloadToText(b)) }, // canonical text of damaged codes
      { weight: 1, arbitrary: fc.uint8Array({ minLength: CODE_SIZE, maxLength: CODE_SIZE }).map((b) => payloadToText(b)) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) },
      { weight: 1, arbitrary: mutatedText(texts, alphabetOf(BASE45)) },
      { weight: 1, arbitrary: fc.constantFrom('', codeTexts[0]!.toLowerCase(), `${codeTexts[0]} `, codeTexts[0]!.repeat(5)) },
      { weight: 1, arbitrary: hugeText(10_000) },
      { weight: 1, arbitrary: wronglyTyped() },
    );
    fc.assert(fc.property(codeInputs, (input) => {
      let scanned;
      try {
        scanned = scannedPayload(input);
      } catch (e) {
        const code = typedCode(e, CODES, 'scannedPayload');
        if (code === 'PAYLOAD_TOO_LARGE' && !(typeof input === 'string' && input.length > PAYLOAD_TEXT_MAX)) throw new Error('TOO_LARGE for short text');
        outcomes.add(`code:${code}`);
        return;
      }
      if (scanned.version === 1) {
        if (payloadToText(scanned.bytes) !== input) throw new Error('v1: accepted non-canonical text');
        outcomes.add('code:v1');
        return;
      }
      if (scanned.bytes.length !== CODE_SIZE || scanned.bytes[0] !== 2 || codeText(encodeCode(scanned.code)) !== input) throw new Error('v2: accepted non-canonical or misread text');
      outcomes.add('code:v2');
    }), { numRuns: codeRuns, seed });

    return byteRuns + textRuns + codeRuns;
  });
}
