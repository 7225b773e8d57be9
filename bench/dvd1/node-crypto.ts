/**
 * DVD-1 anchor written with node:crypto (OpenSSL), as a Node developer would write it:
 * createDecipheriv('chacha20-poly1305'), hkdfSync, createHmac, timingSafeEqual.
 *
 * Status semantics (every check runs on the raw ChaCha20 decryption, tag or no tag): OpenSSL's
 * chacha20-poly1305 decipher returns the counter-1 keystream XOR from update() and checks the tag
 * only in final(), so update()'s output is exactly the raw plaintext the later checks need.
 */
import { createDecipheriv, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { DVD1_STATUS, type Dvd1Record, type Dvd1Result } from '../../core/types.ts';
import { isValidPan } from './luhn.ts';
import { encodeAmount, PIN_LABEL, TXN_LABEL } from './records.ts';

const TAG_LENGTH = 16;
const EMPTY = Buffer.alloc(0);
const TXN_PREFIX = Buffer.from(TXN_LABEL);

interface Opened {
  plaintext: Buffer; // raw decryption, authentic or not
  authentic: boolean;
}

function open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Opened {
  const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_LENGTH });
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_LENGTH));
  const plaintext = decipher.update(sealed.subarray(0, sealed.length - TAG_LENGTH));
  try {
    decipher.final();
    return { plaintext, authentic: true };
  } catch {
    return { plaintext, authentic: false };
  }
}

function hkdf32(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array | string): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, 32));
}

function dvd1(r: Dvd1Record): Dvd1Result {
  const pan = open(r.kek, r.n1, r.c1, r.hdr);
  const tag1 = r.c1.subarray(r.c1.length - TAG_LENGTH);
  const key = open(r.kek, r.n2, r.c2, Buffer.concat([r.hdr, tag1]));

  const kPin = hkdf32(key.plaintext, EMPTY, PIN_LABEL);
  const pvv = createHmac('sha256', kPin).update(pan.plaintext).update(r.pin).digest();

  let status = 0;
  if (!pan.authentic) status |= DVD1_STATUS.PAN_TAG;
  if (!key.authentic) status |= DVD1_STATUS.KEY_TAG;
  if (!isValidPan(pan.plaintext)) status |= DVD1_STATUS.LUHN;
  if (!timingSafeEqual(key.plaintext, r.storedBasicKey)) status |= DVD1_STATUS.BASIC_KEY;
  if (!timingSafeEqual(pvv, r.storedPvv)) status |= DVD1_STATUS.PVV;
  if (status !== 0) return { ok: false, status, cryptogram: new Uint8Array(32) };

  const amount = encodeAmount(r.amount);
  const kTxn = hkdf32(key.plaintext, r.sid, Buffer.concat([TXN_PREFIX, r.merchant, amount]));
  const cryptogram = createHmac('sha256', kTxn)
    .update(r.sid)
    .update(r.merchant)
    .update(amount)
    .update(pan.plaintext)
    .digest();
  return { ok: true, status, cryptogram: new Uint8Array(cryptogram.buffer, cryptogram.byteOffset, cryptogram.length) };
}

export function run(records: readonly Dvd1Record[]): Dvd1Result[] {
  return records.map(dvd1);
}
