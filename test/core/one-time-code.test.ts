/**
 * Payload v2, the one-time code (core/one-time-code.ts, core/base45.ts): base45 against the npm `base45` package
 * (the v1 codec's) and strict on every non-canonical spelling; the code's bytes ↔ fields ↔ text; typed errors for
 * every bad input (as v1's); and deriveWalletKey / oneTimeCode against a node:crypto reference on random inputs.
 */
import { createHmac, hkdfSync, randomBytes, randomInt } from 'node:crypto';
import base45 from 'base45';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BASE45_ALPHABET, CODE_SIZE, CODE_TEXT_LENGTH, codeBytes, codeInWindow, codeMessage, codeText, codeTimeStep, decodeBase45, decodeCode,
  deriveWalletKey, encodeBase45, encodeCode, isScanpayError, loadCore, oneTimeCode, type CryptoCore, type ErrorCode,
} from '../../core/index.ts';
import { PAYLOAD_TEXT_LENGTH, payloadToText, scannedPayload } from '../../issuer/payload.ts';

let core: CryptoCore;
beforeAll(async () => {
  core = await loadCore();
});

/** node:crypto reference of the contract (docs/card-payload.md §Payload v2). */
function refWalletKey(basicKey: Uint8Array, enrolmentId: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', basicKey, Buffer.alloc(0), Buffer.concat([Buffer.from('scanpay/v2/wallet-key'), enrolmentId]), 32));
}
function refCode(walletKey: Uint8Array, enrolmentId: Uint8Array, step: number, counter: number): Buffer {
  const signed = Buffer.alloc(25);
  signed[0] = 2;
  signed.set(enrolmentId, 1);
  signed.writeUInt32BE(step, 17);
  signed.writeUInt32BE(counter, 21);
  const mac = createHmac('sha256', walletKey).update('scanpay/v2/code\n').update(signed).digest().subarray(0, 16);
  return Buffer.concat([signed, mac]);
}

function codeOf(fn: () => unknown): ErrorCode | 'none' | string {
  try {
    fn();
    return 'none';
  } catch (e) {
    return isScanpayError(e) ? e.code : `untyped: ${String(e)}`;
  }
}

describe('base45 (RFC 9285)', () => {
  it('the RFC examples', () => {
    expect(encodeBase45(new TextEncoder().encode('AB'))).toBe('BB8');
    expect(encodeBase45(new TextEncoder().encode('Hello!!'))).toBe('%69 VD92EX0');
    expect(encodeBase45(new TextEncoder().encode('base-45'))).toBe('UJCLQE7W581');
    expect(new TextDecoder().decode(decodeBase45('QED8WEX0')!)).toBe('ietf!');
  });

  it('agrees with the npm base45 package on random bytes of every length 0..120, and round-trips', () => {
    for (let n = 0; n <= 120; n++) {
      for (let k = 0; k < 5; k++) {
        const bytes = randomBytes(n);
        const text = encodeBase45(bytes);
        expect(text).toBe(base45.encode(bytes));
        expect(Buffer.from(decodeBase45(text)!)).toEqual(bytes);
      }
    }
  });

  it('refuses every non-canonical text: bad length, a character outside the alphabet, a triple > 65535, a pair > 255', () => {
    expect(decodeBase45('A')).toBeNull();
    expect(decodeBase45('BB8a')).toBeNull();
    expect(decodeBase45('bB8')).toBeNull();
    expect(decodeBase45('GGW')).toBeNull(); // 16 + 16·45 + 32·2025 = 65536
    expect(decodeBase45('FGW')).not.toBeNull(); // 65535
    expect(decodeBase45('::')).toBeNull(); // 44 + 44·45 > 255
    expect(decodeBase45('é00')).toBeNull();
    // random texts: whatever decodes re-encodes to itself
    for (let k = 0; k < 2000; k++) {
      const text = Array.from({ length: randomInt(0, 12) }, () => BASE45_ALPHABET[randomInt(0, 45)]).join('');
      const bytes = decodeBase45(text);
      if (bytes) expect(encodeBase45(bytes)).toBe(text);
    }
  });
});

describe('the code: bytes ↔ fields ↔ text', () => {
  it('encodeCode / decodeCode / codeText / codeBytes round-trip, with 62 characters of QR alphanumeric', () => {
    for (let k = 0; k < 200; k++) {
      const fields = { enrolmentId: randomBytes(16), step: randomInt(0, 2 ** 32 - 1), counter: randomInt(0, 2 ** 32 - 1), mac: randomBytes(16) };
      const bytes = encodeCode(fields);
      expect(bytes.length).toBe(CODE_SIZE);
      const text = codeText(bytes);
      expect(text).toMatch(/^[0-9A-Z $%*+\-./:]{62}$/);
      expect(Buffer.from(codeBytes(text))).toEqual(Buffer.from(bytes));
      const decoded = decodeCode(text);
      expect({ ...decoded, enrolmentId: Buffer.from(decoded.enrolmentId), mac: Buffer.from(decoded.mac) })
        .toEqual({ ...fields, enrolmentId: Buffer.from(fields.enrolmentId), mac: Buffer.from(fields.mac) });
      expect(decodeCode(bytes).counter).toBe(fields.counter);
    }
    expect(encodeCode({ enrolmentId: new Uint8Array(16), step: 2 ** 32 - 1, counter: 0, mac: new Uint8Array(16) }).subarray(17, 25))
      .toEqual(new Uint8Array([255, 255, 255, 255, 0, 0, 0, 0]));
  });

  it('bad text or bytes: PAYLOAD_TOO_LARGE past 256 characters, else PAYLOAD_MALFORMED (as v1)', () => {
    const good = codeText(encodeCode({ enrolmentId: randomBytes(16), step: 1, counter: 1, mac: randomBytes(16) }));
    expect(codeOf(() => codeBytes('0'.repeat(257)))).toBe('PAYLOAD_TOO_LARGE');
    expect(codeOf(() => decodeCode('0'.repeat(10_000)))).toBe('PAYLOAD_TOO_LARGE');
    for (const bad of [good.slice(1), good + '0', good.toLowerCase(), good.slice(0, 61) + 'a', 'GGW' + good.slice(3), '', 42, null]) {
      expect(codeOf(() => codeBytes(bad))).toBe('PAYLOAD_MALFORMED');
    }
    const v1 = codeBytes(good);
    v1[0] = 1;
    expect(codeOf(() => codeBytes(codeText(v1)))).toBe('PAYLOAD_MALFORMED');
    expect(codeOf(() => decodeCode(v1))).toBe('PAYLOAD_MALFORMED');
    expect(codeOf(() => decodeCode(new Uint8Array(40)))).toBe('PAYLOAD_MALFORMED');
    expect(codeOf(() => decodeCode(new Uint8Array(112)))).toBe('PAYLOAD_MALFORMED');
  });

  it('bad fields are the caller\'s error: BAD_LENGTH / BAD_ARGUMENT', () => {
    const ok = { enrolmentId: randomBytes(16), step: 1, counter: 1, mac: randomBytes(16) };
    expect(codeOf(() => encodeCode({ ...ok, enrolmentId: randomBytes(15) }))).toBe('BAD_LENGTH');
    expect(codeOf(() => encodeCode({ ...ok, mac: randomBytes(32) }))).toBe('BAD_LENGTH');
    for (const step of [-1, 2 ** 32, 1.5, NaN, '1']) expect(codeOf(() => encodeCode({ ...ok, step: step as number }))).toBe('BAD_ARGUMENT');
    expect(codeOf(() => encodeCode({ ...ok, counter: 2 ** 32 }))).toBe('BAD_ARGUMENT');
    expect(codeOf(() => oneTimeCode(core, randomBytes(31), ok))).toBe('BAD_LENGTH');
    expect(codeOf(() => deriveWalletKey(core, randomBytes(32), randomBytes(17)))).toBe('BAD_LENGTH');
    expect(codeOf(() => codeTimeStep(-1))).toBe('BAD_ARGUMENT');
  });

  it('codeInWindow: one step (30 s) of skew either side of the gateway\'s clock, no more', () => {
    const now = 1_796_551_215_000; // step 59885040, 15 s into it
    expect([59885038, 59885039, 59885040, 59885041, 59885042].map((step) => codeInWindow(step, now))).toEqual([false, true, true, true, false]);
    expect(codeInWindow(0, 0)).toBe(true);
    expect(codeInWindow(2, 0)).toBe(false);
    expect(codeOf(() => codeInWindow(-1, now))).toBe('BAD_ARGUMENT');
  });

  it('codeTimeStep is floor(unix seconds / 30)', () => {
    expect(codeTimeStep(0)).toBe(0);
    expect(codeTimeStep(29_999)).toBe(0);
    expect(codeTimeStep(30_000)).toBe(1);
    expect(codeTimeStep(1_767_225_600_000)).toBe(58_907_520);
  });

  it('scannedPayload tells v1 from v2 by length and version byte', () => {
    const code = oneTimeCode(core, randomBytes(32), { enrolmentId: randomBytes(16), step: 5, counter: 9 });
    const v2 = scannedPayload(code.text);
    expect(v2.version).toBe(2);
    if (v2.version === 2) expect(v2.code.counter).toBe(9);
    const v1bytes = randomBytes(112);
    v1bytes[0] = 1;
    v1bytes[7] = 0;
    const v1 = scannedPayload(payloadToText(v1bytes));
    expect(v1.version).toBe(1);
    expect(Buffer.from(v1.bytes)).toEqual(v1bytes);
    expect(payloadToText(v1bytes).length).toBe(PAYLOAD_TEXT_LENGTH);
    expect(codeOf(() => scannedPayload('0'.repeat(CODE_TEXT_LENGTH)))).toBe('PAYLOAD_MALFORMED'); // version 0
    expect(codeOf(() => scannedPayload('0'.repeat(300)))).toBe('PAYLOAD_TOO_LARGE');
  });
});

describe('deriveWalletKey and oneTimeCode with the WASM core, against node:crypto', () => {
  it('random keys, ids, steps and counters: byte-identical to the reference', () => {
    for (let k = 0; k < 300; k++) {
      const basicKey = randomBytes(32);
      const enrolmentId = randomBytes(16);
      const step = randomInt(0, 2 ** 32 - 1);
      const counter = randomInt(0, 2 ** 32 - 1);
      const walletKey = deriveWalletKey(core, basicKey, enrolmentId);
      expect(Buffer.from(walletKey)).toEqual(refWalletKey(basicKey, enrolmentId));
      const code = oneTimeCode(core, walletKey, { enrolmentId, step, counter });
      const ref = refCode(walletKey, enrolmentId, step, counter);
      expect(Buffer.from(code.bytes)).toEqual(ref);
      expect(code.text).toBe(base45.encode(ref));
      const mac = createHmac('sha256', walletKey).update(codeMessage({ enrolmentId, step, counter })).digest().subarray(0, 16);
      expect(Buffer.from(code.bytes.subarray(25))).toEqual(mac);
    }
  });

  it('another enrolment id, basic key, step or counter gives another mac', () => {
    const basicKey = randomBytes(32);
    const enrolmentId = randomBytes(16);
    const walletKey = deriveWalletKey(core, basicKey, enrolmentId);
    const mac = (wk: Uint8Array, id: Uint8Array, step: number, counter: number) => Buffer.from(oneTimeCode(core, wk, { enrolmentId: id, step, counter }).bytes.subarray(25));
    const base = mac(walletKey, enrolmentId, 100, 1);
    const otherId = Buffer.from(enrolmentId);
    otherId[15] ^= 1;
    expect(mac(walletKey, otherId, 100, 1)).not.toEqual(base);
    expect(mac(walletKey, enrolmentId, 101, 1)).not.toEqual(base);
    expect(mac(walletKey, enrolmentId, 100, 2)).not.toEqual(base);
    expect(mac(deriveWalletKey(core, randomBytes(32), enrolmentId), enrolmentId, 100, 1)).not.toEqual(base);
    expect(Buffer.from(deriveWalletKey(core, basicKey, otherId))).not.toEqual(Buffer.from(walletKey));
  });
});
