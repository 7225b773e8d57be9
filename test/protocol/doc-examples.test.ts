/**
 * docs/protocol.md cannot drift from the code: every ```json example on it is one or more frames, each
 * accepted by the schema of its direction (parseScannerFrame / parseGatewayFrame), the scan example's
 * payload is a well-formed v1 card payload, the documented error message is the one the parser gives, and
 * the token worked example (table and OpenSSL lines) is what protocol/scanner-token.ts computes.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PAYLOAD_SIZE, PAYLOAD_TEXT_LENGTH, parsePayload, payloadFromText } from '../../issuer/payload.ts';
import { parseGatewayFrame, parseScannerFrame, type ScanFrame } from '../../protocol/messages.ts';
import { deviceSecret, signScannerToken } from '../../protocol/scanner-token.ts';

const DOC = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
const SCANNER_TYPES = new Set(['scan', 'pin', 'ping', 'status', 'reverse']);

/** The ```json blocks of the doc, each split into its frames (a frame starts with `{` at the line's start). */
function exampleFrames(): { line: number; text: string }[] {
  const frames: { line: number; text: string }[] = [];
  const lines = DOC.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== '```json') continue;
    let current: { line: number; text: string } | null = null;
    for (i++; lines[i].trim() !== '```'; i++) {
      if (lines[i].startsWith('{')) frames.push((current = { line: i + 1, text: lines[i] }));
      else if (current) current.text += `\n${lines[i]}`;
      else throw new Error(`docs/protocol.md:${i + 1}: a json example must start with a frame`);
    }
  }
  return frames;
}

describe('docs/protocol.md examples', () => {
  const frames = exampleFrames();

  it('finds every example frame on the page', () => {
    // 5 scanner requests, welcome, auth-required, 3 payment-results, 3 errors, pong, session-status, 2 reversals
    expect(frames.length).toBe(17);
    const types = frames.map((f) => (JSON.parse(f.text) as { type: string }).type);
    for (const type of ['scan', 'pin', 'ping', 'status', 'reverse', 'welcome', 'auth-required', 'payment-result', 'error', 'pong', 'session-status', 'reversal']) {
      expect(types, type).toContain(type);
    }
  });

  for (const { line, text } of frames) {
    const type = (JSON.parse(text) as { type: string }).type;
    it(`line ${line}: the ${type} example is a valid ${SCANNER_TYPES.has(type) ? 'scanner' : 'gateway'} frame`, () => {
      const parsed = SCANNER_TYPES.has(type) ? parseScannerFrame(text) : parseGatewayFrame(text);
      expect(parsed, text).toMatchObject({ ok: true });
    });
  }

  it('the scan example carries a well-formed v1 card payload of the real length', () => {
    const scan = frames.map((f) => JSON.parse(f.text)).find((f) => f.type === 'scan') as ScanFrame;
    expect(scan.payload).toHaveLength(PAYLOAD_TEXT_LENGTH);
    const bytes = payloadFromText(scan.payload);
    expect(bytes).toHaveLength(PAYLOAD_SIZE);
    expect(parsePayload(bytes)).toMatchObject({ generation: 1 }); // parses: the version byte and the header are v1
  });

  it('the documented BAD_FRAME message is the one the parser gives', () => {
    const documented = frames.map((f) => JSON.parse(f.text)).find((f) => f.type === 'error' && f.code === 'BAD_FRAME' && f.id !== null);
    const parsed = parseScannerFrame(JSON.stringify({ v: 1, type: 'pin', id: documented.id, session: 'not-a-session', pin: '0421' }));
    expect(parsed).toEqual({ ok: false, code: 'BAD_FRAME', id: documented.id, message: documented.message });
  });

  it('the token worked example: table and OpenSSL lines are what the code computes', () => {
    const row = (name: string): string => {
      const m = new RegExp(`^\\| ${name} \\| \`([^\`]+)\``, 'm').exec(DOC);
      if (!m) throw new Error(`no "${name}" row in the worked example`);
      return m[1];
    };
    const fleetKey = new Uint8Array(Buffer.from(row('fleet key'), 'hex'));
    const secret = deviceSecret(fleetKey, row('device id'));
    expect(Buffer.from(secret).toString('hex')).toBe(row('device secret'));
    const token = signScannerToken(row('device id'), secret, Number(row('issuedAt')) * 1000, row('nonce'));
    expect(token).toBe(row('token'));
    const arrows = [...DOC.matchAll(/^# → ([0-9a-f]{64})$/gm)].map((m) => m[1]);
    expect(arrows).toEqual([row('device secret'), token.split('.')[4]]);
  });
});
