/**
 * Differential tests of the WebAssembly core against node:crypto (OpenSSL) on random inputs, and of
 * constantTimeEqual / luhn against simple-loop JS references. Failures name the length that broke.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  randomInt,
} from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCore } from '../../core/index.ts';
import { isScanpayError } from '../../core/errors.ts';
import type { CryptoCore } from '../../core/types.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const rnd = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

function nodeSeal(key: Uint8Array, nonce: Uint8Array, msg: Uint8Array, aad: Uint8Array): Buffer {
  const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  c.setAAD(aad, { plaintextLength: msg.length });
  return Buffer.concat([c.update(msg), c.final(), c.getAuthTag()]);
}

function nodeOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer {
  const ct = sealed.subarray(0, sealed.length - 16);
  const d = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  d.setAAD(aad, { plaintextLength: ct.length });
  return Buffer.concat([d.update(ct), d.final()]);
}

/** Returns the ScanpayError code thrown by fn, 'returned' if it did not throw, or a description. */
function outcome(fn: () => unknown): string {
  try {
    fn();
    return 'returned';
  } catch (e) {
    return isScanpayError(e) ? e.code : `not a ScanpayError: ${String(e)}`;
  }
}

/** Simple-loop references. */
function refLuhn(s: string): boolean {
  if (s.length < 2 || !/^[0-9]+$/.test(s)) return false;
  let sum = 0;
  for (let i = 0; i < s.length; i++) {
    let d = s.charCodeAt(s.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}
function refEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

let core: CryptoCore;
beforeAll(async () => {
  core = await loadCore();
});

const LENGTHS = Array.from({ length: 1025 }, (_, i) => i); // 0..1024

describe('SHA-256 vs node:crypto', () => {
  it('every message length 0..1024', () => {
    for (const n of LENGTHS) {
      const msg = rnd(n);
      expect.soft(hex(core.sha256(msg)), `len ${n}`).toBe(createHash('sha256').update(msg).digest('hex'));
    }
  });

  it('inputs that are views at an offset into a larger buffer', () => {
    const big = rnd(2048);
    for (const [off, n] of [[1, 0], [3, 55], [7, 64], [13, 1000]] as const) {
      const view = big.subarray(off, off + n);
      expect(hex(core.sha256(view)), `offset ${off} len ${n}`).toBe(createHash('sha256').update(view).digest('hex'));
    }
  });
});

describe('HMAC-SHA256 vs node:crypto', () => {
  it('every message length 0..1024, key lengths cycling 0..200', () => {
    for (const n of LENGTHS) {
      const key = rnd(n % 201);
      const msg = rnd(n);
      expect
        .soft(hex(core.hmacSha256(key, msg)), `msg ${n}, key ${key.length}`)
        .toBe(createHmac('sha256', key).update(msg).digest('hex'));
    }
  });
});

describe('HKDF-SHA256 vs node:crypto', () => {
  const SIZES = [1, 31, 32, 33, 64, 255, 8160];

  it('random salt/ikm/info 0..100 for L in {1,31,32,33,64,255,8160}', () => {
    for (let i = 0; i <= 100; i++) {
      for (const L of SIZES) {
        const salt = rnd(randomInt(101));
        const ikm = rnd(i);
        const info = rnd(randomInt(101));
        const id = `ikm ${ikm.length}, salt ${salt.length}, info ${info.length}, L ${L}`;
        const expected = Buffer.from(hkdfSync('sha256', ikm, salt, info, L)).toString('hex');
        expect.soft(hex(core.hkdf(ikm, salt, info, L)), id).toBe(expected);
      }
    }
  });

  it('extract = HMAC(salt or 32 zero bytes, ikm); expand matches RFC 5869 §2.3 loop', () => {
    for (let i = 0; i <= 100; i++) {
      const salt = rnd(i % 3 === 0 ? 0 : randomInt(101));
      const ikm = rnd(randomInt(101));
      const prk = core.hkdfExtract(salt, ikm);
      const refPrk = createHmac('sha256', salt.length ? salt : new Uint8Array(32)).update(ikm).digest();
      expect.soft(hex(prk), `extract salt ${salt.length} ikm ${ikm.length}`).toBe(refPrk.toString('hex'));

      const info = rnd(randomInt(101));
      const L = [1, 32, 33, 100, 8160][i % 5];
      const blocks: Buffer[] = [];
      let t = Buffer.alloc(0);
      for (let c = 1; 32 * blocks.length < L; c++) {
        t = createHmac('sha256', refPrk).update(Buffer.concat([t, info, Buffer.from([c])])).digest();
        blocks.push(t);
      }
      const okm = Buffer.concat(blocks).subarray(0, L).toString('hex');
      expect.soft(hex(core.hkdfExpand(refPrk, info, L)), `expand info ${info.length} L ${L}`).toBe(okm);
    }
  });
});

describe('ChaCha20-Poly1305 vs node:crypto', () => {
  function both(msgLen: number, aadLen: number): void {
    const key = rnd(32);
    const nonce = rnd(12);
    const msg = rnd(msgLen);
    const aad = rnd(aadLen);
    const id = `msg ${msgLen}, aad ${aadLen}`;
    const ours = core.seal(key, nonce, msg, aad);
    const theirs = nodeSeal(key, nonce, msg, aad);
    expect.soft(hex(ours), `${id}: seal`).toBe(theirs.toString('hex'));
    expect.soft(hex(core.open(key, nonce, theirs, aad)), `${id}: open(node's)`).toBe(hex(msg));
    expect.soft(nodeOpen(key, nonce, ours, aad).toString('hex'), `${id}: node opens ours`).toBe(hex(msg));
  }

  it('every message length 0..1024 with aad length i % 301', () => {
    for (const n of LENGTHS) both(n, n % 301);
  });

  it('every aad length 0..300 with a random message length', () => {
    for (let a = 0; a <= 300; a++) both(randomInt(1025), a);
  });

  it('aad omitted equals empty aad', () => {
    const key = rnd(32);
    const nonce = rnd(12);
    const msg = rnd(100);
    const sealed = core.seal(key, nonce, msg);
    expect(hex(sealed)).toBe(nodeSeal(key, nonce, msg, new Uint8Array(0)).toString('hex'));
    expect(hex(core.open(key, nonce, sealed))).toBe(hex(msg));
  });

  it('inputs that are views at an offset into a larger buffer', () => {
    const big = rnd(4096);
    const key = big.subarray(5, 37);
    const nonce = big.subarray(41, 53);
    const msg = big.subarray(61, 61 + 333);
    const aad = big.subarray(1001, 1001 + 17);
    const sealed = core.seal(key, nonce, msg, aad);
    expect(hex(sealed)).toBe(nodeSeal(key, nonce, msg, aad).toString('hex'));
    const framed = new Uint8Array(sealed.length + 9);
    framed.set(sealed, 9);
    expect(hex(core.open(key, nonce, framed.subarray(9), aad))).toBe(hex(msg));
  });

  describe('every single-bit flip is rejected with AEAD_TAG_INVALID', () => {
    const CASES = [
      [64, 12],
      [0, 0],
      [1, 1],
      [129, 33],
    ] as const;

    it.each(CASES)('msg %i B, aad %i B', (msgLen, aadLen) => {
      const key = rnd(32);
      const nonce = rnd(12);
      const msg = rnd(msgLen);
      const aad = rnd(aadLen);
      const sealed = core.seal(key, nonce, msg, aad);
      expect(hex(core.open(key, nonce, sealed, aad))).toBe(hex(msg));

      const flipped = (b: Uint8Array, bit: number): Uint8Array => {
        const c = b.slice();
        c[bit >> 3] ^= 1 << (bit & 7);
        return c;
      };
      let tried = 0;
      // tag bits and ciphertext bits (the whole sealed buffer)
      for (let bit = 0; bit < sealed.length * 8; bit++, tried++) {
        const where = bit < msgLen * 8 ? `ciphertext bit ${bit}` : `tag bit ${bit - msgLen * 8}`;
        expect.soft(outcome(() => core.open(key, nonce, flipped(sealed, bit), aad)), where).toBe('AEAD_TAG_INVALID');
      }
      for (let bit = 0; bit < aadLen * 8; bit++, tried++) {
        expect.soft(outcome(() => core.open(key, nonce, sealed, flipped(aad, bit))), `aad bit ${bit}`).toBe('AEAD_TAG_INVALID');
      }
      for (let bit = 0; bit < 96; bit++, tried++) {
        expect.soft(outcome(() => core.open(key, flipped(nonce, bit), sealed, aad)), `nonce bit ${bit}`).toBe('AEAD_TAG_INVALID');
      }
      for (let bit = 0; bit < 256; bit++, tried++) {
        expect.soft(outcome(() => core.open(flipped(key, bit), nonce, sealed, aad)), `key bit ${bit}`).toBe('AEAD_TAG_INVALID');
      }
      expect(tried).toBe((msgLen + 16 + aadLen) * 8 + 96 + 256);
      // and the untouched input still opens afterwards
      expect(hex(core.open(key, nonce, sealed, aad))).toBe(hex(msg));
    });

    it('appending or dropping a byte of the sealed buffer is rejected', () => {
      const key = rnd(32);
      const nonce = rnd(12);
      const msg = rnd(64);
      const sealed = core.seal(key, nonce, msg);
      const longer = new Uint8Array(sealed.length + 1);
      longer.set(sealed);
      expect(outcome(() => core.open(key, nonce, longer))).toBe('AEAD_TAG_INVALID');
      expect(outcome(() => core.open(key, nonce, sealed.subarray(0, sealed.length - 1)))).toBe('AEAD_TAG_INVALID');
      expect(outcome(() => core.open(key, nonce, sealed.subarray(1)))).toBe('AEAD_TAG_INVALID');
    });
  });
});

describe('constantTimeEqual vs a JS loop', () => {
  it('equal, single-byte-different at every position, and different lengths', () => {
    for (const n of [0, 1, 2, 15, 16, 17, 31, 32, 33, 64, 100, 255, 1024]) {
      const a = rnd(n);
      expect.soft(core.constantTimeEqual(a, a.slice()), `equal len ${n}`).toBe(true);
      for (let i = 0; i < n; i++) {
        const b = a.slice();
        b[i] ^= 1 << randomInt(8);
        expect.soft(core.constantTimeEqual(a, b), `len ${n}, differs at ${i}`).toBe(false);
      }
      const longer = new Uint8Array(n + 1);
      longer.set(a);
      expect.soft(core.constantTimeEqual(a, longer), `len ${n} vs ${n + 1} (prefix)`).toBe(false);
      expect.soft(core.constantTimeEqual(longer, a), `len ${n + 1} vs ${n} (prefix)`).toBe(false);
    }
  });

  it('random pairs agree with the reference', () => {
    for (let i = 0; i < 2000; i++) {
      const n = randomInt(40);
      const a = rnd(n);
      // mostly same length; sometimes equal contents, sometimes a few random byte changes
      const b = randomInt(10) === 0 ? rnd(randomInt(40)) : a.slice();
      for (let k = randomInt(3); k > 0 && b.length; k--) b[randomInt(b.length)] = randomInt(256);
      expect.soft(core.constantTimeEqual(a, b), `${hex(a)} vs ${hex(b)}`).toBe(refEqual(a, b));
    }
  });
});

describe('luhn vs a JS loop', () => {
  const digits = (n: number): string => Array.from({ length: n }, () => String(randomInt(10))).join('');
  const check = (s: string): void => {
    const expected = refLuhn(s);
    expect.soft(core.luhn(s), `string ${JSON.stringify(s)}`).toBe(expected);
    expect.soft(core.luhn(new Uint8Array(Buffer.from(s, 'latin1'))), `bytes ${JSON.stringify(s)}`).toBe(expected);
  };

  it('known valid and invalid numbers', () => {
    for (const s of ['4111111111111111', '79927398713', '5555555555554444', '378282246310005', '0000000000000000', '00', '18', '59'])
      expect.soft(core.luhn(s), s).toBe(true);
    for (const s of ['4111111111111112', '79927398710', '1234567812345678', '', '0', '5', '01', '10'])
      expect.soft(core.luhn(s), s).toBe(false);
  });

  it('random digit strings of every length 0..25', () => {
    for (let n = 0; n <= 25; n++) for (let k = 0; k < 40; k++) check(digits(n));
  });

  it('strings with a non-digit anywhere are rejected', () => {
    const bad = [' ', '-', 'a', '/', ':', '\0', '\x7f', '\xff', '٣'];
    for (let n = 1; n <= 20; n++) {
      for (const ch of bad) {
        // make the digit part Luhn-valid so only the non-digit can reject it
        let base = digits(n);
        for (let d = 0; d < 10 && !refLuhn(base); d++) base = base.slice(0, -1) + String(d);
        const pos = randomInt(n + 1);
        const s = base.slice(0, pos) + ch + base.slice(pos);
        expect.soft(core.luhn(s), JSON.stringify(s)).toBe(false);
      }
    }
    check('4111 1111 1111 1111');
    check('4111-1111-1111-1111');
  });
});
