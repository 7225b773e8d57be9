/**
 * DVD-1 record generator for tests, built on node:crypto only (OpenSSL), so it is independent of the
 * WebAssembly core it checks. Follows docs/core.md §DVD-1 as given in core/types.ts:
 *   c1 = ChaCha20-Poly1305(kek, n1, aad = hdr)(PAN)                  -> 16 B ct ‖ tag1
 *   c2 = ChaCha20-Poly1305(kek, n2, aad = hdr ‖ tag1)(basicKey)      -> 32 B ct ‖ tag2
 *   kPin = HKDF(ikm = bk, salt = empty, info = "scanpay/v1/pin", 32);  PVV = HMAC(kPin, PAN ‖ PIN)
 *   kTxn = HKDF(ikm = bk, salt = sid, info = "scanpay/v1/txn" ‖ merchant ‖ amount8BE, 32)
 *   cryptogram = HMAC(kTxn, sid ‖ merchant ‖ amount8BE ‖ PAN)
 * @example
 *   const card = issueCard();               // valid record + its expected cryptogram
 *   const bad = corruptCard(card, 'pin');   // same card, wrong PIN -> status PVV
 */
import { createCipheriv, createHmac, hkdfSync, randomBytes, randomInt } from 'node:crypto';
import type { Dvd1Record } from '../../core/types.ts';
import { DVD1_STATUS } from '../../core/types.ts';

export const PIN_INFO = 'scanpay/v1/pin';
export const TXN_INFO = 'scanpay/v1/txn';

const u8 = (b: Uint8Array): Uint8Array => new Uint8Array(b); // plain copy, never a pooled Buffer view
const ascii = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
const cat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

export function amountBytes(amount: bigint): Uint8Array {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(amount);
  return u8(b);
}

/** RFC 8439 AEAD via OpenSSL: returns ciphertext ‖ 16 B tag. */
export function nodeSeal(key: Uint8Array, nonce: Uint8Array, msg: Uint8Array, aad: Uint8Array): Uint8Array {
  const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  c.setAAD(aad, { plaintextLength: msg.length });
  return cat(c.update(msg), c.final(), c.getAuthTag());
}

export function nodeHkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', ikm, salt, info, length));
}

export function nodeHmac(key: Uint8Array, msg: Uint8Array): Uint8Array {
  return u8(createHmac('sha256', key).update(msg).digest());
}

/** Luhn check digit (0..9) to append to `payload` (ASCII digits). */
export function luhnCheckDigit(payload: string): number {
  let sum = 0;
  for (let i = 0; i < payload.length; i++) {
    let d = payload.charCodeAt(payload.length - 1 - i) - 48;
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

export function randomDigits(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String(randomInt(10));
  return s;
}

/** A 16-digit, Luhn-valid PAN starting with 4. */
export function randomPan(): string {
  const payload = '4' + randomDigits(14);
  return payload + String(luhnCheckDigit(payload));
}

export interface Dvd1Card {
  record: Dvd1Record;
  pan: string;
  basicKey: Uint8Array;
  pin: string;
  /** What the batch must return for this record when it is left untouched. */
  expectedCryptogram: Uint8Array;
}

export interface IssueOptions {
  kek?: Uint8Array;
  pan?: string; // 16 ASCII chars; need not be Luhn-valid (for LUHN tests)
  amount?: bigint;
}

/** Issues one valid DVD-1 record (every check passes) with its node:crypto cryptogram. */
export function issueCard(opts: IssueOptions = {}): Dvd1Card {
  const kek = u8(opts.kek ?? randomBytes(32));
  const pan = opts.pan ?? randomPan();
  if (pan.length !== 16) throw new Error('fixture: PAN must be 16 chars');
  const panBytes = ascii(pan);
  const basicKey = u8(randomBytes(32));
  const pin = randomDigits(4);
  const hdr = u8(randomBytes(8));
  const n1 = u8(randomBytes(12));
  const n2 = u8(randomBytes(12));
  const sid = u8(randomBytes(16));
  const merchant = u8(randomBytes(16));
  const amount = opts.amount ?? BigInt(randomInt(1, 2 ** 48 - 1)) * 65536n + BigInt(randomInt(65536));

  const c1 = nodeSeal(kek, n1, panBytes, hdr);
  const tag1 = c1.subarray(16, 32);
  const c2 = nodeSeal(kek, n2, basicKey, cat(hdr, tag1));
  const kPin = nodeHkdf(basicKey, new Uint8Array(0), ascii(PIN_INFO), 32);
  const storedPvv = nodeHmac(kPin, cat(panBytes, ascii(pin)));
  const amt = amountBytes(amount);
  const kTxn = nodeHkdf(basicKey, sid, cat(ascii(TXN_INFO), merchant, amt), 32);
  const expectedCryptogram = nodeHmac(kTxn, cat(sid, merchant, amt, panBytes));

  const record: Dvd1Record = {
    kek,
    hdr,
    n1,
    c1,
    n2,
    c2,
    storedBasicKey: u8(basicKey),
    storedPvv,
    pin: ascii(pin),
    sid,
    merchant,
    amount,
  };
  return { record, pan, basicKey, pin, expectedCryptogram };
}

export const CORRUPTIONS = [
  'panTag', // flip a bit of tag1 (c1[16..32])
  'keyTag', // flip a bit of tag2 (c2[32..48])
  'keyCiphertext', // flip a bit of the encrypted basic key (c2[0..32])
  'basicKey', // stored basic key differs from the encrypted one
  'pin', // holder entered a wrong PIN
  'hdr', // payload header changed (AAD of both fields)
  'splice', // n2 ‖ c2 taken from another card of the same issuer
  'luhn', // issuer encrypted a PAN whose check digit is wrong (tags valid)
] as const;
export type Corruption = (typeof CORRUPTIONS)[number];

const S = DVD1_STATUS;
/**
 * Status bits each corruption must raise. `exact`: status must equal `bits`; otherwise
 * (status & bits) === bits (the core decrypts with the raw keystream whatever the tag says and
 * runs every check on that, so e.g. a flipped ciphertext bit can raise BASIC_KEY and PVV too).
 */
export const EXPECTED_STATUS: Record<Corruption, { bits: number; exact: boolean }> = {
  panTag: { bits: S.PAN_TAG, exact: false }, // tag1 is also c2's AAD, so KEY_TAG follows
  keyTag: { bits: S.KEY_TAG, exact: false },
  keyCiphertext: { bits: S.KEY_TAG, exact: false },
  basicKey: { bits: S.BASIC_KEY, exact: true },
  pin: { bits: S.PVV, exact: true },
  hdr: { bits: S.PAN_TAG | S.KEY_TAG, exact: false },
  splice: { bits: S.KEY_TAG, exact: false },
  luhn: { bits: S.LUHN, exact: true },
};

function flipRandomBit(bytes: Uint8Array, from: number, to: number): Uint8Array {
  const out = u8(bytes);
  out[randomInt(from, to)] ^= 1 << randomInt(8);
  return out;
}

/** A copy of `card.record` with one corruption applied (the input card is not modified). */
export function corruptCard(card: Dvd1Card, kind: Corruption): Dvd1Record {
  const r: Dvd1Record = { ...card.record };
  switch (kind) {
    case 'panTag':
      r.c1 = flipRandomBit(r.c1, 16, 32);
      break;
    case 'keyTag':
      r.c2 = flipRandomBit(r.c2, 32, 48);
      break;
    case 'keyCiphertext':
      r.c2 = flipRandomBit(r.c2, 0, 32);
      break;
    case 'basicKey':
      r.storedBasicKey = flipRandomBit(r.storedBasicKey, 0, 32);
      break;
    case 'pin': {
      const wrong = String((Number(card.pin) + randomInt(1, 10000)) % 10000).padStart(4, '0');
      r.pin = ascii(wrong);
      break;
    }
    case 'hdr':
      r.hdr = flipRandomBit(r.hdr, 0, 8);
      break;
    case 'splice': {
      const other = issueCard({ kek: r.kek });
      r.n2 = other.record.n2;
      r.c2 = other.record.c2;
      break;
    }
    case 'luhn': {
      const payload = card.pan.slice(0, 15);
      const bad = (luhnCheckDigit(payload) + randomInt(1, 10)) % 10;
      return issueCard({ kek: r.kek, pan: payload + String(bad), amount: r.amount }).record;
    }
  }
  return r;
}
