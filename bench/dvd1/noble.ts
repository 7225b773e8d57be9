/**
 * DVD-1 anchor written with @noble/ciphers and @noble/hashes (pure JS), as their docs suggest:
 * chacha20poly1305(key, nonce, aad).decrypt, hkdf(sha256, ...), hmac.create(sha256, ...).
 *
 * Status semantics (every check runs on the raw ChaCha20 decryption, tag or no tag): decrypt()
 * throws on a bad tag and returns nothing, so on failure the ciphertext is XORed with the
 * ChaCha20 keystream from block counter 1 (the AEAD's payload counter) via chacha20().
 */
import { chacha20, chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { equalBytes } from '@noble/ciphers/utils.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { DVD1_STATUS, type Dvd1Record, type Dvd1Result } from '../../core/types.ts';
import { isValidPan } from './luhn.ts';
import { encodeAmount, PIN_LABEL, TXN_LABEL } from './records.ts';

const TAG_LENGTH = 16;
const EMPTY = new Uint8Array(0);
const PIN_INFO = utf8ToBytes(PIN_LABEL);
const TXN_PREFIX = utf8ToBytes(TXN_LABEL);

interface Opened {
  plaintext: Uint8Array; // raw decryption, authentic or not
  authentic: boolean;
}

function open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Opened {
  try {
    return { plaintext: chacha20poly1305(key, nonce, aad).decrypt(sealed), authentic: true };
  } catch {
    const ciphertext = sealed.subarray(0, sealed.length - TAG_LENGTH);
    return { plaintext: chacha20(key, nonce, ciphertext, undefined, 1), authentic: false };
  }
}

function dvd1(r: Dvd1Record): Dvd1Result {
  const pan = open(r.kek, r.n1, r.c1, r.hdr);
  const tag1 = r.c1.subarray(r.c1.length - TAG_LENGTH);
  const key = open(r.kek, r.n2, r.c2, concatBytes(r.hdr, tag1));

  const kPin = hkdf(sha256, key.plaintext, EMPTY, PIN_INFO, 32);
  const pvv = hmac.create(sha256, kPin).update(pan.plaintext).update(r.pin).digest();

  let status = 0;
  if (!pan.authentic) status |= DVD1_STATUS.PAN_TAG;
  if (!key.authentic) status |= DVD1_STATUS.KEY_TAG;
  if (!isValidPan(pan.plaintext)) status |= DVD1_STATUS.LUHN;
  if (!equalBytes(key.plaintext, r.storedBasicKey)) status |= DVD1_STATUS.BASIC_KEY;
  if (!equalBytes(pvv, r.storedPvv)) status |= DVD1_STATUS.PVV;
  if (status !== 0) return { ok: false, status, cryptogram: new Uint8Array(32) };

  const amount = encodeAmount(r.amount);
  const kTxn = hkdf(sha256, key.plaintext, r.sid, concatBytes(TXN_PREFIX, r.merchant, amount), 32);
  const cryptogram = hmac
    .create(sha256, kTxn)
    .update(r.sid)
    .update(r.merchant)
    .update(amount)
    .update(pan.plaintext)
    .digest();
  return { ok: true, status, cryptogram };
}

export function run(records: readonly Dvd1Record[]): Dvd1Result[] {
  return records.map(dvd1);
}
