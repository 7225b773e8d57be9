/**
 * DVD-1 anchor written with libsodium-wrappers-sumo (libsodium compiled to WebAssembly/JS):
 * crypto_aead_chacha20poly1305_ietf_decrypt_detached, crypto_auth_hmacsha256_*, sodium.memcmp.
 * Call `await init()` before `run`.
 *
 * HKDF-SHA256 is built from HMAC (RFC 5869): the sumo wrappers export the crypto_kdf_hkdf_sha256
 * constants but not its functions, and the one-shot crypto_auth_hmacsha256 only takes 32 B keys,
 * so the init/update/final form is used (it takes any key length: the empty and the 16 B salts).
 *
 * Status semantics (every check runs on the raw ChaCha20 decryption, tag or no tag): decryption
 * throws on a bad tag and returns nothing, so on failure the ciphertext is XORed with the
 * keystream from block counter 1 via crypto_stream_chacha20_ietf_xor_ic.
 */
import sodium from 'libsodium-wrappers-sumo';
import { DVD1_STATUS, type Dvd1Record, type Dvd1Result } from '../../core/types.ts';
import { isValidPan } from './luhn.ts';
import { encodeAmount, PIN_LABEL, TXN_LABEL } from './records.ts';

const TAG_LENGTH = 16;
const EMPTY = new Uint8Array(0);
const ONE = Uint8Array.of(1);
const PIN_INFO = new TextEncoder().encode(PIN_LABEL);
const TXN_PREFIX = new TextEncoder().encode(TXN_LABEL);

export async function init(): Promise<void> {
  await sodium.ready;
}

interface Opened {
  plaintext: Uint8Array; // raw decryption, authentic or not
  authentic: boolean;
}

function open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Opened {
  const ciphertext = sealed.subarray(0, sealed.length - TAG_LENGTH);
  const tag = sealed.subarray(sealed.length - TAG_LENGTH);
  try {
    const plaintext = sodium.crypto_aead_chacha20poly1305_ietf_decrypt_detached(null, ciphertext, tag, aad, nonce, key);
    return { plaintext, authentic: true };
  } catch {
    return { plaintext: sodium.crypto_stream_chacha20_ietf_xor_ic(ciphertext, nonce, 1, key), authentic: false };
  }
}

function hmacSha256(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const state = sodium.crypto_auth_hmacsha256_init(key);
  for (const part of parts) sodium.crypto_auth_hmacsha256_update(state, part);
  return sodium.crypto_auth_hmacsha256_final(state);
}

/** HKDF-SHA256 with L = 32: extract, then the single expand block T(1) = HMAC(prk, info ‖ 0x01). */
function hkdf32(ikm: Uint8Array, salt: Uint8Array, ...info: Uint8Array[]): Uint8Array {
  const prk = hmacSha256(salt, ikm);
  return hmacSha256(prk, ...info, ONE);
}

function dvd1(r: Dvd1Record): Dvd1Result {
  const pan = open(r.kek, r.n1, r.c1, r.hdr);
  const tag1 = r.c1.subarray(r.c1.length - TAG_LENGTH);
  const aad2 = new Uint8Array(r.hdr.length + TAG_LENGTH);
  aad2.set(r.hdr);
  aad2.set(tag1, r.hdr.length);
  const key = open(r.kek, r.n2, r.c2, aad2);

  const kPin = hkdf32(key.plaintext, EMPTY, PIN_INFO);
  const pvv = hmacSha256(kPin, pan.plaintext, r.pin);

  let status = 0;
  if (!pan.authentic) status |= DVD1_STATUS.PAN_TAG;
  if (!key.authentic) status |= DVD1_STATUS.KEY_TAG;
  if (!isValidPan(pan.plaintext)) status |= DVD1_STATUS.LUHN;
  if (!sodium.memcmp(key.plaintext, r.storedBasicKey)) status |= DVD1_STATUS.BASIC_KEY;
  if (!sodium.memcmp(pvv, r.storedPvv)) status |= DVD1_STATUS.PVV;
  if (status !== 0) return { ok: false, status, cryptogram: new Uint8Array(32) };

  const amount = encodeAmount(r.amount);
  const kTxn = hkdf32(key.plaintext, r.sid, TXN_PREFIX, r.merchant, amount);
  const cryptogram = hmacSha256(kTxn, r.sid, r.merchant, amount, pan.plaintext);
  return { ok: true, status, cryptogram };
}

export function run(records: readonly Dvd1Record[]): Dvd1Result[] {
  return records.map(dvd1);
}
