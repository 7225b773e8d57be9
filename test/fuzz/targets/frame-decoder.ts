/**
 * Fuzz target: the scanner frame decoder `parseScannerFrame` (protocol/messages.ts), which the gateway runs
 * on every inbound text frame. Inputs: random text, JSON of random values, valid frames with a field
 * replaced, removed or added, `v` and `type` changed, text mutations of valid frames, deep nesting, huge text.
 * Invariants: never throws; a rejection is BAD_FRAME or UNSUPPORTED_VERSION with a message that does not
 * echo the card payload, and an `id` that is null or the frame's own valid request id; an acceptance is a
 * v1 scan/pin/ping frame with exactly its schema's fields.
 */
import fc from 'fast-check';
import { parseScannerFrame } from '../../../protocol/messages.ts';
import { timed, type FuzzOptions, type FuzzReport } from './harness.ts';
import { alphabetOf, fieldEdited, hugeText, mutatedText } from './mutate.ts';

const PAYLOAD = 'NCFOXN%TS3DH0YOJ58S S-W5HDC *M0II5-MHEUV9P%B6ZM2$%DN6'; // only shaped like a card payload: the decoder never opens it
const VALID: Record<string, Record<string, unknown>> = {
  scan: { v: 1, type: 'scan', id: 'a1.7', payload: PAYLOAD, amount: 1250, currency: 'EUR', merchant: 'corner-cafe' },
  pin: { v: 1, type: 'pin', id: 'a1.8', session: '0123456789abcdef0123456789abcdef', pin: '1234' },
  ping: { v: 1, type: 'ping', id: 'a1.9' },
};
const FIELDS: Record<string, string[]> = Object.fromEntries(Object.entries(VALID).map(([t, f]) => [t, Object.keys(f).sort()]));
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const JSON_CHARS = '{}[]":,0123456789.-+eE truefalsn\\uv';

/** A valid frame with one field changed: replaced by any JSON value, deleted, or a new field added. */
const fieldEdit = fieldEdited(Object.values(VALID), fc.jsonValue()).map((frame) => JSON.stringify(frame));

const deep = fc.integer({ min: 1, max: 20_000 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`);

export async function fuzzFrameDecoder(opts: FuzzOptions): Promise<FuzzReport> {
  const texts = Object.values(VALID).map((f) => JSON.stringify(f));
  const input = fc.oneof(
    { weight: 4, arbitrary: fieldEdit },
    { weight: 4, arbitrary: mutatedText(texts, alphabetOf(JSON_CHARS)) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 400 }) },
    { weight: 2, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null') },
    { weight: 1, arbitrary: fc.constantFrom(...texts) },
    { weight: 1, arbitrary: fc.oneof(hugeText(20_000), deep, fc.constantFrom('', 'null', '{}', '[]', '{"__proto__":{"v":1}}', '{"constructor":{"prototype":{}}}')) },
  );

  return timed('frame-decoder', opts, async (seed, outcomes) => {
    fc.assert(fc.property(input, (text) => {
      const result = parseScannerFrame(text);
      if (result.ok) {
        const frame = result.frame as unknown as Record<string, unknown>;
        const expected = FIELDS[frame.type as string];
        if (frame.v !== 1 || !expected || JSON.stringify(Object.keys(frame).sort()) !== JSON.stringify(expected)) throw new Error(`accepted ${text}`);
        outcomes.add(`ok:${frame.type as string}`);
        return;
      }
      if (result.code !== 'BAD_FRAME' && result.code !== 'UNSUPPORTED_VERSION') throw new Error(`code ${result.code}`);
      if (typeof result.message !== 'string' || result.message.includes(PAYLOAD)) throw new Error(`message echoes the frame: ${result.message}`);
      if (result.id !== null) {
        const own = (JSON.parse(text) as { id?: unknown }).id;
        if (!REQUEST_ID.test(result.id) || result.id !== own) throw new Error(`id ${result.id} is not the frame's`);
      }
      outcomes.add(result.code);
    }), { numRuns: opts.runs, seed });
    return opts.runs;
  });
}
