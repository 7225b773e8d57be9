/**
 * Deterministic DVD-1 records (core/types.ts Dvd1Record) for the bench and the anchor tests.
 *
 * Built with node:crypto only, from a seeded stream, so every run measures the same payments.
 * With `badEvery: k`, every k-th record carries one corruption, rotating through CORRUPTIONS,
 * so that every DVD1_STATUS bit gets exercised. Every record draws the same amount of
 * randomness whether or not it is corrupted, so a seed gives the same valid records for any badEvery.
 */
import { createCipheriv, createHmac, hkdfSync } from 'node:crypto';
import type { Dvd1Record } from '../../core/types.ts';
import { asciiDigits, luhnCheckDigit, PAN_LENGTH } from './luhn.ts';
import { SeededBytes } from './seeded-bytes.ts';

/** HKDF info of kPin. */
export const PIN_LABEL = 'scanpay/v1/pin';
/** HKDF info prefix of kTxn (followed by merchant ‖ amount). */
export const TXN_LABEL = 'scanpay/v1/txn';

export const CORRUPTIONS = [
  'pan-tag', // one bit of tag1 flipped
  'key-ciphertext', // one bit of the basic key ciphertext flipped
  'stored-basic-key', // one bit of the stored basic key flipped
  'pin', // one PIN digit changed after the PVV was computed
  'luhn', // PAN with a wrong check digit, encrypted and PVV'd properly
  'hdr', // one bit of the header flipped after encryption
] as const;
export type Corruption = (typeof CORRUPTIONS)[number];

/** A record with the plaintexts it was built from, for tests that recompute results independently. */
export interface Dvd1Case {
  record: Dvd1Record;
  pan: Uint8Array;
  basicKey: Uint8Array;
  corruption: Corruption | undefined;
}

export interface Dvd1RecordOptions {
  seed?: number; // u32, default 1
  badEvery?: number; // corrupt records badEvery, 2·badEvery, ... (1-based); default none
}

const TAG_LENGTH = 16;
const U64_MAX = (1n << 64n) - 1n;

/** amount as 8 bytes big-endian; throws RangeError outside u64. */
export function encodeAmount(amount: bigint): Uint8Array {
  if (amount < 0n || amount > U64_MAX) throw new RangeError(`amount ${amount} is not a u64`);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, amount, false);
  return out;
}

export function makeDvd1Records(n: number, opts?: Dvd1RecordOptions): Dvd1Record[] {
  return makeDvd1Cases(n, opts).map((c) => c.record);
}

export function makeDvd1Cases(n: number, { seed = 1, badEvery }: Dvd1RecordOptions = {}): Dvd1Case[] {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer, got ${n}`);
  if (badEvery !== undefined && (!Number.isInteger(badEvery) || badEvery < 1)) {
    throw new RangeError(`badEvery must be a positive integer, got ${badEvery}`);
  }
  const rng = new SeededBytes(seed);
  const cases: Dvd1Case[] = [];
  for (let ordinal = 1; ordinal <= n; ordinal++) {
    const corrupted = badEvery !== undefined && ordinal % badEvery === 0;
    const corruption = corrupted ? CORRUPTIONS[(ordinal / badEvery - 1) % CORRUPTIONS.length] : undefined;
    cases.push(makeCase(rng, corruption));
  }
  return cases;
}

function makeCase(rng: SeededBytes, corruption: Corruption | undefined): Dvd1Case {
  const tweak = rng.bytes(2); // where and which bit a corruption lands
  const where = tweak[0]!;
  const bit = tweak[1]!;
  const kek = rng.bytes(32);
  const hdr = rng.bytes(8);
  const n1 = rng.bytes(12);
  const n2 = rng.bytes(12);
  const basicKey = rng.bytes(32);
  const sid = rng.bytes(16);
  const merchant = rng.bytes(16);
  const amount = new DataView(rng.bytes(8).buffer).getBigUint64(0, false);
  const pan = makePan(rng, corruption === 'luhn' ? 1 + (bit % 9) : 0);
  const pin = asciiDigits([rng.digit(), rng.digit(), rng.digit(), rng.digit()]);

  const c1 = seal(kek, n1, pan, hdr);
  const c2 = seal(kek, n2, basicKey, concat(hdr, c1.subarray(PAN_LENGTH)));
  const kPin = new Uint8Array(hkdfSync('sha256', basicKey, new Uint8Array(0), PIN_LABEL, 32));
  const storedPvv = new Uint8Array(createHmac('sha256', kPin).update(pan).update(pin).digest());

  const record: Dvd1Record = {
    kek, hdr, n1, c1, n2, c2, storedBasicKey: basicKey.slice(), storedPvv, pin, sid, merchant, amount,
  };
  switch (corruption) {
    case 'pan-tag':
      record.c1 = flipBit(c1, PAN_LENGTH + (where % TAG_LENGTH), bit);
      break;
    case 'key-ciphertext':
      record.c2 = flipBit(c2, where % basicKey.length, bit);
      break;
    case 'stored-basic-key':
      record.storedBasicKey = flipBit(record.storedBasicKey, where % basicKey.length, bit);
      break;
    case 'pin':
      record.pin = shiftDigit(pin, where % pin.length, 1 + (bit % 9));
      break;
    case 'hdr':
      record.hdr = flipBit(hdr, where % hdr.length, bit);
      break;
    case 'luhn': // corrupted before encryption, in makePan
    case undefined:
      break;
  }
  return { record, pan, basicKey, corruption };
}

/** A 16-digit ASCII PAN starting with 4; its check digit is off by checkOffset (0 = valid). */
function makePan(rng: SeededBytes, checkOffset: number): Uint8Array {
  const payload = [4];
  while (payload.length < PAN_LENGTH - 1) payload.push(rng.digit());
  const check = (luhnCheckDigit(payload) + checkOffset) % 10;
  return asciiDigits([...payload, check]);
}

/** ChaCha20-Poly1305: ciphertext ‖ 16 B tag. */
function seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_LENGTH });
  cipher.setAAD(aad);
  return concat(cipher.update(plaintext), cipher.final(), cipher.getAuthTag());
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

function flipBit(bytes: Uint8Array, index: number, bit: number): Uint8Array {
  const out = bytes.slice();
  out[index] = out[index]! ^ (1 << (bit % 8));
  return out;
}

function shiftDigit(digits: Uint8Array, index: number, by: number): Uint8Array {
  const out = digits.slice();
  out[index] = 0x30 + ((out[index]! - 0x30 + by) % 10);
  return out;
}
