/**
 * Protocol v1 frames (protocol/messages.ts, docs/protocol.md §Frames): every frame type's example is
 * accepted; wrong types, extra properties, oversized strings, bad session ids and PINs are BAD_FRAME
 * with a message naming the field (never its value); another version is UNSUPPORTED_VERSION.
 */
import { describe, expect, it } from 'vitest';
import {
  MAX_FRAME_BYTES, PROTOCOL_VERSION, SCANNER_CODES, SUBPROTOCOL, parseGatewayFrame, parseScannerFrame,
} from '../../protocol/messages.ts';

const SESSION = '9f86d081884c7d659a2feaa0c55ad015';
const PAYLOAD = '6BFOXN*TS0BI$ZD.P9KKA:4.CC7.VX1$HBKC6*EZ4C9WGM*R7J5P$W%HK3:E3ZZ0PU1JQ.E+HO+JCJ:41UB03L-O4ZPNW.1QNC$/IG+A6K2Q*MM6U*ZV7:CH+K:H7M0R4*7WBMBN6PNGXT3S3-I7HSQWM.3/4LHF*T%J.E02D79KHF91BWM1X0$2UH+T/BD%UIO6J';

const scan = { v: 1, type: 'scan', id: 'r-1', payload: PAYLOAD, amount: 1250, currency: 'EUR', merchant: 'cafe-7' };
const pin = { v: 1, type: 'pin', id: 'r-2', session: SESSION, pin: '0421' };
const ping = { v: 1, type: 'ping', id: 'r-3' };

const receipt = {
  session: SESSION, merchant: 'cafe-7', amount: 1250, currency: 'EUR', maskedPan: '•••• •••• •••• 7893',
  outcome: 'approved', reason: null, at: 1767225600000, mac: 'a'.repeat(64),
};
const gatewayExamples = {
  welcome: { v: 1, type: 'welcome', scanner: 'till-0042', limits: { maxFrameBytes: 2048, framesPerSecond: 20 } },
  'auth-required': {
    v: 1, type: 'auth-required', id: 'r-1', session: SESSION, url: `http://gw.example:8080/pay/${SESSION}`,
    expiresAt: 1767225720000, merchant: 'cafe-7', amount: 1250, currency: 'EUR', maskedPan: '•••• •••• •••• 7893',
  },
  'auth-required holder-device': {
    v: 1, type: 'auth-required', id: 'r-1', session: SESSION, url: `http://gw.example:8080/auth/${SESSION}?t=${'c'.repeat(64)}`,
    expiresAt: 1767225720000, merchant: 'cafe-7', amount: 1250, currency: 'EUR', maskedPan: '•••• •••• •••• 7893', pinEntry: 'holder-device',
  },
  'payment-result approved': { v: 1, type: 'payment-result', id: 'r-2', session: SESSION, outcome: 'approved', reason: null, replayed: false, receipt },
  'payment-result declined': {
    v: 1, type: 'payment-result', id: 'r-2', session: SESSION, outcome: 'declined', reason: 'PIN_WRONG', attemptsLeft: 2, replayed: false, receipt: null,
  },
  'payment-result pushed': { v: 1, type: 'payment-result', id: null, session: SESSION, outcome: 'approved', reason: null, replayed: false, receipt },
  error: { v: 1, type: 'error', id: 'r-1', code: 'CARD_INVALID', message: 'card payload is not valid' },
  'error unparsed': { v: 1, type: 'error', id: null, code: 'BAD_FRAME', message: 'frame is not JSON' },
  pong: { v: 1, type: 'pong', id: 'r-3' },
};

const text = (value: unknown): string => JSON.stringify(value);
const scannerCode = (value: unknown): string => {
  const r = parseScannerFrame(typeof value === 'string' ? value : text(value));
  return r.ok ? 'ok' : r.code;
};

describe('constants', () => {
  it('version, subprotocol, frame limit; codes are unique', () => {
    expect(PROTOCOL_VERSION).toBe(1);
    expect(SUBPROTOCOL).toBe('scanpay.v1');
    expect(MAX_FRAME_BYTES).toBe(2048);
    expect(new Set(SCANNER_CODES).size).toBe(SCANNER_CODES.length);
  });

  it('the largest valid scanner frame fits in MAX_FRAME_BYTES', () => {
    const largest = { ...scan, id: 'x'.repeat(64), payload: 'P'.repeat(256), amount: Number.MAX_SAFE_INTEGER, merchant: 'm'.repeat(16) };
    expect(parseScannerFrame(text(largest)).ok).toBe(true);
    expect(Buffer.byteLength(text(largest))).toBeLessThan(MAX_FRAME_BYTES);
  });
});

describe('valid frames are accepted', () => {
  it.each([['scan', scan], ['pin', pin], ['ping', ping]] as const)('scanner → gateway: %s', (_name, frame) => {
    expect(parseScannerFrame(text(frame))).toEqual({ ok: true, frame });
  });

  it.each(Object.entries(gatewayExamples))('gateway → scanner: %s', (_name, frame) => {
    expect(parseGatewayFrame(text(frame))).toEqual({ ok: true, frame });
  });

  it('gateway frames may carry fields this version does not know (forward compatible)', () => {
    const welcome = { ...gatewayExamples.welcome, limits: { ...gatewayExamples.welcome.limits, burst: 40 }, serverTime: 1 };
    expect(parseGatewayFrame(text(welcome)).ok).toBe(true);
  });

  it('boundary values', () => {
    expect(scannerCode({ ...scan, amount: 1 })).toBe('ok');
    expect(scannerCode({ ...scan, amount: Number.MAX_SAFE_INTEGER })).toBe('ok');
    expect(scannerCode({ ...scan, merchant: 'm'.repeat(16) })).toBe('ok');
    expect(scannerCode({ ...scan, payload: 'P' })).toBe('ok');
    expect(scannerCode({ ...scan, id: 'A.b:c_d-9'.padEnd(64, 'x') })).toBe('ok');
    expect(scannerCode({ ...pin, pin: '0000' })).toBe('ok');
  });
});

describe('bad frames', () => {
  it.each([
    ['not JSON', 'hello'],
    ['truncated JSON', text(scan).slice(0, -1)],
    ['empty', ''],
    ['null', 'null'],
    ['array', text([scan])],
    ['string', '"scan"'],
    ['number', '1'],
  ])('%s → BAD_FRAME', (_name, raw) => {
    expect(scannerCode(raw)).toBe('BAD_FRAME');
  });

  it('not JSON: the message says so', () => {
    expect(parseScannerFrame('{"v":1,')).toEqual({ ok: false, code: 'BAD_FRAME', message: 'frame is not JSON', id: null });
  });

  it.each([
    ['unknown type', { ...ping, type: 'pay' }],
    ['gateway type sent by a scanner', { ...ping, type: 'pong' }],
    ['prototype name as type', { ...ping, type: '__proto__' }],
    ['constructor as type', { ...ping, type: 'constructor' }],
    ['no type', { v: 1, id: 'r' }],
    ['v as a string', { ...ping, v: '1' }],
    ['no v', { type: 'ping', id: 'r' }],
    ['amount as a string', { ...scan, amount: '1250' }],
    ['amount zero', { ...scan, amount: 0 }],
    ['amount negative', { ...scan, amount: -5 }],
    ['amount fractional', { ...scan, amount: 12.5 }],
    ['amount beyond 2^53', { ...scan, amount: 2 ** 53 }],
    ['amount null', { ...scan, amount: null }],
    ['currency lowercase', { ...scan, currency: 'eur' }],
    ['currency 4 letters', { ...scan, currency: 'EURO' }],
    ['merchant with a space', { ...scan, merchant: 'cafe 7' }],
    ['merchant empty', { ...scan, merchant: '' }],
    ['payload empty', { ...scan, payload: '' }],
    ['payload as a number', { ...scan, payload: 42 }],
    ['id empty', { ...ping, id: '' }],
    ['id with a space', { ...ping, id: 'r 1' }],
    ['id as a number', { ...ping, id: 1 }],
    ['id null from a scanner', { ...ping, id: null }],
    ['missing field', (({ merchant: _m, ...rest }) => rest)(scan)],
  ])('wrong type or value: %s → BAD_FRAME', (_name, frame) => {
    expect(scannerCode(frame)).toBe('BAD_FRAME');
  });

  it.each([
    ['scan', { ...scan, note: 'hi' }],
    ['pin', { ...pin, amount: 1 }],
    ['ping', { ...ping, extra: true }],
    ['__proto__ key', JSON.parse(`{"v":1,"type":"ping","id":"r","__proto__":{"x":1}}`)],
  ])('extra property on %s → BAD_FRAME naming it', (_name, frame) => {
    const r = parseScannerFrame(typeof frame === 'string' ? frame : text(frame));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.code).toBe('BAD_FRAME');
  });

  it('the __proto__ key is an extra property, not a prototype', () => {
    const raw = '{"v":1,"type":"ping","id":"r","__proto__":{"x":1}}';
    expect(scannerCode(raw)).toBe('BAD_FRAME');
  });

  it.each([
    ['payload 257 chars', { ...scan, payload: 'P'.repeat(257) }, '/payload'],
    ['payload 10 000 chars', { ...scan, payload: 'P'.repeat(10_000) }, '/payload'],
    ['merchant 17 chars', { ...scan, merchant: 'm'.repeat(17) }, '/merchant'],
    ['id 65 chars', { ...ping, id: 'x'.repeat(65) }, '/id'],
  ])('oversized string: %s → BAD_FRAME at %s', (_name, frame, path) => {
    const r = parseScannerFrame(text(frame));
    expect(r).toMatchObject({ ok: false, code: 'BAD_FRAME' });
    if (!r.ok) expect(r.message.startsWith(`${path}:`)).toBe(true);
  });

  it.each([
    ['uppercase hex', SESSION.toUpperCase()],
    ['31 digits', SESSION.slice(1)],
    ['33 digits', `${SESSION}0`],
    ['not hex', 'g'.repeat(32)],
    ['a UUID', '9f86d081-884c-7d65-9a2f-eaa0c55ad015'],
    ['empty', ''],
    ['trailing newline', `${SESSION}\n`],
    ['a number', 12345],
  ])('bad session id (%s) → BAD_FRAME at /session', (_name, session) => {
    const r = parseScannerFrame(text({ ...pin, session }));
    expect(r).toMatchObject({ ok: false, code: 'BAD_FRAME' });
    if (!r.ok) expect(r.message.startsWith('/session:')).toBe(true);
  });

  it.each([
    ['3 digits', '421'],
    ['5 digits', '04213'],
    ['a letter', '04a1'],
    ['a space', ' 421'],
    ['trailing newline', '0421\n'],
    ['Arabic-Indic digits', '٠٤٢١'],
    ['full-width digits', '０４２１'],
    ['a number', 421],
    ['empty', ''],
  ])('bad PIN (%s) → BAD_FRAME at /pin, value not echoed', (_name, value) => {
    const r = parseScannerFrame(text({ ...pin, pin: value }));
    expect(r).toMatchObject({ ok: false, code: 'BAD_FRAME' });
    if (!r.ok) {
      expect(r.message.startsWith('/pin:')).toBe(true);
      if (typeof value === 'string' && value.trim().length > 1) expect(r.message).not.toContain(value.trim());
    }
  });
});

describe('request ids on rejections', () => {
  it('a rejected frame carries its id when the id itself is well formed', () => {
    expect(parseScannerFrame(text({ ...ping, type: 'pay' }))).toMatchObject({ ok: false, code: 'BAD_FRAME', id: ping.id });
    expect(parseScannerFrame(text({ ...ping, id: 'bad id with spaces', extra: 1 }))).toMatchObject({ ok: false, id: null });
  });
});

describe('versions', () => {
  it.each([2, 0, 1.5, -1, 99])('v: %s → UNSUPPORTED_VERSION', (v) => {
    expect(parseScannerFrame(text({ ...ping, v }))).toEqual({ ok: false, code: 'UNSUPPORTED_VERSION', message: 'this gateway speaks protocol v1', id: ping.id });
  });

  it('a v2 frame is UNSUPPORTED_VERSION even when its shape is unknown', () => {
    expect(scannerCode({ v: 2, type: 'scan-v2', whatever: [1, 2, 3] })).toBe('UNSUPPORTED_VERSION');
  });

  it('a gateway frame of another version is refused by the scanner side too', () => {
    expect(parseGatewayFrame(text({ ...gatewayExamples.pong, v: 2 }))).toMatchObject({ ok: false, code: 'UNSUPPORTED_VERSION' });
  });
});

describe('gateway frames', () => {
  it.each([
    ['auth-required with a bad session', { ...gatewayExamples['auth-required'], session: 'nope' }],
    ['auth-required with an unknown pinEntry (v1.4)', { ...gatewayExamples['auth-required'], pinEntry: 'phone' }],
    ['payment-result with an unknown outcome', { ...gatewayExamples['payment-result approved'], outcome: 'maybe' }],
    ['payment-result without replayed', (({ replayed: _r, ...rest }) => rest)(gatewayExamples['payment-result approved'])],
    ['receipt with a short mac', { ...gatewayExamples['payment-result approved'], receipt: { ...receipt, mac: 'ab' } }],
    ['receipt with an extra field', { ...gatewayExamples['payment-result approved'], receipt: { ...receipt, pan: '4111111111111111' } }],
    ['error without a code', (({ code: _c, ...rest }) => rest)(gatewayExamples.error)],
    ['welcome without limits', (({ limits: _l, ...rest }) => rest)(gatewayExamples.welcome)],
    ['unknown type', { ...gatewayExamples.pong, type: 'hello' }],
  ])('%s → BAD_FRAME', (_name, frame) => {
    expect(parseGatewayFrame(text(frame))).toMatchObject({ ok: false, code: 'BAD_FRAME' });
  });
});
