/**
 * The payment's values, defined once (protocol/values.ts): each guard against its rule at the edges, the
 * merchant's 16-byte DVD-1 encoding (refused past 16 bytes, never truncated), and — differentially, on
 * hostile inputs — that the frame schemas, the store's boundary and the guards accept exactly the same values.
 */
import { describe, expect, it } from 'vitest';
import { isScanpayError } from '../../core/errors.ts';
import { DVD1_FIELDS } from '../../core/dvd1-layout.ts';
import { MemoryStore } from '../../issuer/store/memory-store.ts';
import { parseScannerFrame } from '../../protocol/messages.ts';
import {
  MAX_MINOR_UNITS, MERCHANT_BYTES, isAmount, isCurrency, isKnownCurrency, isMerchant, isMinorUnits, isPin, isSessionId,
  merchantBytes, parseAmount, parseCurrency, parseMerchant, parseMinorUnits, parsePin, parseSessionId,
} from '../../protocol/values.ts';
import { claimFor, makeCard, makeSession } from '../support/store-fixtures.ts';

const SESSION = '9f86d081884c7d659a2feaa0c55ad015';
const scan = { v: 1, type: 'scan', id: 'r-1', payload: 'P', amount: 1250, currency: 'EUR', merchant: 'cafe-7' };
const pin = { v: 1, type: 'pin', id: 'r-2', session: SESSION, pin: '0421' };

/** The code a call threw, or 'ok'. */
function code(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return isScanpayError(e) ? e.code : `foreign: ${String(e)}`;
  }
}

/** Hostile strings shared by every differential case: edges of each rule, look-alike digits, whitespace, injection. */
const HOSTILE: unknown[] = [
  '', ' ', '\n', '0', '0421', '04213', '421', '٠٤٢١', '０４２１', '0421\n', ' 0421', '04 1', '0x10', '1e3',
  SESSION, SESSION.toUpperCase(), `${SESSION}\n`, SESSION.slice(1), `${SESSION}0`, 'g'.repeat(32),
  'EUR', 'eur', 'EURO', 'EU', 'XXX', 'E1R', 'ÉUR',
  'cafe-7', 'm'.repeat(16), 'm'.repeat(17), 'Corner Café', 'café', 'a b', 'a\u0000', 'A.b_c-9', '"', '\\', '</script>', '😀',
  '__proto__', 'constructor', null, undefined, 0, 1, -1, 1.5, 2 ** 53, Number.MAX_SAFE_INTEGER, Number.NaN, Infinity, [], {}, ['0421'],
];

describe('PIN', () => {
  it('is exactly 4 ASCII digits', () => {
    for (const ok of ['0000', '0421', '9999']) expect(isPin(ok)).toBe(true);
    for (const bad of ['421', '04213', '04a1', ' 421', '0421\n', '٠٤٢١', '０４２１', '', 421, null]) expect(isPin(bad), String(bad)).toBe(false);
  });

  it('parsePin throws PIN_FORMAT without echoing the value', () => {
    expect(parsePin('1234')).toBe('1234');
    try {
      parsePin('98765');
      expect.unreachable();
    } catch (e) {
      expect(isScanpayError(e, 'PIN_FORMAT')).toBe(true);
      expect((e as Error).message).not.toContain('98765');
    }
  });
});

describe('session id', () => {
  it('is 32 lower-case hex digits', () => {
    expect(isSessionId(SESSION)).toBe(true);
    for (const bad of [SESSION.toUpperCase(), SESSION.slice(1), `${SESSION}0`, `${SESSION}\n`, 'g'.repeat(32), '9f86d081-884c-7d65-9a2f-eaa0c55ad015', 42]) {
      expect(isSessionId(bad), String(bad)).toBe(false);
    }
    expect(code(() => parseSessionId('nope'))).toBe('BAD_ARGUMENT');
  });

  it('a bad one in a frame reads exactly as docs/protocol.md §4.2 shows it', () => {
    expect(parseScannerFrame(JSON.stringify({ ...pin, id: 'r-18', session: 'x' }))).toEqual({
      ok: false, code: 'BAD_FRAME', id: 'r-18', message: "/session: Expected string to match '^[0-9a-f]{32}$'",
    });
  });
});

describe('merchant', () => {
  it('is 1-16 of A-Z a-z 0-9 . _ -', () => {
    for (const ok of ['m', 'cafe-7', 'A.b_c-9', 'm'.repeat(16)]) expect(isMerchant(ok)).toBe(true);
    for (const bad of ['', 'm'.repeat(17), 'cafe 7', 'café', 'a\u0000', '"', '😀', 7, null]) expect(isMerchant(bad), String(bad)).toBe(false);
  });

  it('MERCHANT_BYTES is the DVD-1 record field', () => {
    expect(MERCHANT_BYTES).toBe(16);
    expect(DVD1_FIELDS.merchant[1]).toBe(MERCHANT_BYTES);
  });

  it('merchantBytes: its ASCII bytes, zero-padded to 16', () => {
    expect([...merchantBytes('cafe-7')]).toEqual([...Buffer.from('cafe-7'), ...new Array(10).fill(0)]);
    const full = 'Az09._-'.padEnd(16, 'm');
    expect(Buffer.from(merchantBytes(full)).toString('latin1')).toBe(full);
    expect(merchantBytes('m')).toHaveLength(16);
  });

  it('merchantBytes refuses over 16 bytes instead of truncating, and anything that is not a merchant id', () => {
    expect(code(() => merchantBytes('m'.repeat(17)))).toBe('BAD_ARGUMENT');
    expect(() => merchantBytes('m'.repeat(17))).toThrow(/over 16 bytes: it is refused, never truncated/);
    // 16 characters but 17 UTF-8 bytes: refused too (never re-encoded)
    expect(code(() => merchantBytes(`${'m'.repeat(15)}é`))).toBe('BAD_ARGUMENT');
    for (const bad of ['', 'a b', 'a\u0000', 'ü']) expect(code(() => merchantBytes(bad)), JSON.stringify(bad)).toBe('BAD_ARGUMENT');
    expect(code(() => merchantBytes(undefined as unknown as string))).toBe('BAD_ARGUMENT');
  });

  it('two distinct merchant ids never encode alike (no NUL, no truncation)', () => {
    const ids = ['a', 'a.', 'a_', 'A', 'aa', 'm'.repeat(15), 'm'.repeat(16)];
    const encoded = new Set(ids.map((id) => Buffer.from(merchantBytes(id)).toString('hex')));
    expect(encoded.size).toBe(ids.length);
  });

  it('parseMerchant names the field, never the value', () => {
    expect(() => parseMerchant('secret shop!', 'merchant')).toThrow(/^an argument has the wrong type or value: merchant must be 1 to 16/);
    expect(() => parseMerchant('secret shop!')).not.toThrow(/secret/);
  });
});

describe('currency', () => {
  it('the shape is 3 upper-case letters; known also asks the runtime', () => {
    expect(isCurrency('EUR')).toBe(true);
    expect(isCurrency('XYZ')).toBe(true);
    for (const bad of ['eur', 'EURO', 'EU', '', 'E1R', 'ÉUR', 978]) expect(isCurrency(bad), String(bad)).toBe(false);
    expect(isKnownCurrency('EUR')).toBe(true);
    expect(isKnownCurrency('JPY')).toBe(true);
    expect(isKnownCurrency('XXX')).toBe(false); // shaped right, but not a currency the runtime lists
    expect(isKnownCurrency('eur')).toBe(false);
    expect(code(() => parseCurrency('XXX'))).toBe('ok');
    expect(code(() => parseCurrency('XXX', { known: true }))).toBe('BAD_ARGUMENT');
  });
});

describe('amounts', () => {
  it('a payment is 1 … 2^53 − 1 minor units; a balance or limit may be 0', () => {
    expect(MAX_MINOR_UNITS).toBe(2 ** 53 - 1);
    for (const ok of [1, 1250, MAX_MINOR_UNITS]) expect(isAmount(ok)).toBe(true);
    for (const bad of [0, -1, 1.5, 2 ** 53, Number.NaN, Infinity, '1250', null]) expect(isAmount(bad), String(bad)).toBe(false);
    expect(isMinorUnits(0)).toBe(true);
    expect(isMinorUnits(-1)).toBe(false);
    expect(isMinorUnits(2 ** 53)).toBe(false);
    expect(code(() => parseAmount(0))).toBe('BAD_ARGUMENT');
    expect(code(() => parseMinorUnits(0, 'balance'))).toBe('ok');
  });
});

describe('one definition: the frame schemas, the store and the guards agree on every value', () => {
  const frameAccepts = (frame: Record<string, unknown>): boolean => parseScannerFrame(JSON.stringify(frame)).ok;
  // JSON cannot carry undefined, NaN or Infinity as such: compare only values a frame can hold
  const jsonable = HOSTILE.filter((v) => v !== undefined && !(typeof v === 'number' && !Number.isFinite(v)));

  it.each([
    ['pin', (v: unknown) => frameAccepts({ ...pin, pin: v }), isPin],
    ['session', (v: unknown) => frameAccepts({ ...pin, session: v }), isSessionId],
    ['merchant', (v: unknown) => frameAccepts({ ...scan, merchant: v }), isMerchant],
    ['currency', (v: unknown) => frameAccepts({ ...scan, currency: v }), isCurrency],
    ['amount', (v: unknown) => frameAccepts({ ...scan, amount: v }), isAmount],
  ] as const)('%s: the schema accepts exactly what the guard does', (_name, schema, guard) => {
    for (const value of jsonable) expect(schema(value), JSON.stringify(value)).toBe(guard(value));
  });

  it('the store opens a session exactly when its amount, currency and merchant pass the guards', async () => {
    const store = new MemoryStore();
    const card = makeCard();
    await store.insertCard(card);
    for (const value of HOSTILE) {
      const cases = [
        ['amount', isAmount(value)], ['currency', isCurrency(value)], ['merchant', isMerchant(value)],
      ] as const;
      for (const [field, expected] of cases) {
        const session = { ...makeSession(card), [field]: value };
        // the card pays in EUR only; any well-shaped currency is a valid *session* (the decline comes at authorization)
        const opened = await store.openSession(session, claimFor(session)).then(() => 'ok', (e: unknown) => (isScanpayError(e) ? e.code : String(e)));
        expect(opened, `${field} = ${String(value)}`).toBe(expected ? 'ok' : 'BAD_ARGUMENT');
      }
    }
    await store.close();
  });
});
