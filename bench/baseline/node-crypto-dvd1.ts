/**
 * DVD-1 written with node:crypto (OpenSSL), as a Node developer would write it:
 * createDecipheriv('chacha20-poly1305'), hkdfSync, createHmac, timingSafeEqual. It is the baseline
 * engine's DVD-1 (node-crypto-engine.ts: inline on the main thread, no pool) and the node:crypto anchor of
 * bench/core.bench.ts.
 *
 * Status semantics (every check runs on the raw ChaCha20 decryption, tag or no tag): OpenSSL's
 * chacha20-poly1305 decipher returns the counter-1 keystream XOR from update() and checks the tag
 * only in final(), so update()'s output is exactly the raw plaintext the later checks need.
 */
import { createDecipheriv, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { DVD1_CRYPTOGRAM_SIZE, DVD1_LABELS, DVD1_OPENED_FIELDS, DVD1_OPENED_SIZE, DVD1_RECORD_SIZE, viewDvd1Record } from '../../core/dvd1-layout.ts';
import {
  DVD1_STATUS, type Dvd1OpenInput, type Dvd1Opened, type Dvd1PackedOpened, type Dvd1PackedResult, type Dvd1Record, type Dvd1Result,
} from '../../core/types.ts';
import { luhnValid } from '../../issuer/pan.ts';

const PIN_LABEL = DVD1_LABELS.pin;
const TXN_LABEL = DVD1_LABELS.txn;

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

function isValidPan(pan: Buffer): boolean {
  return pan.length === 16 && luhnValid(pan.toString('latin1'));
}

function encodeAmount(amount: bigint): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(amount);
  return out;
}

function hkdf32(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array | string): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, 32));
}

function openFields(r: Dvd1OpenInput): { pan: Opened; key: Opened } {
  const pan = open(r.kek, r.n1, r.c1, r.hdr);
  const tag1 = r.c1.subarray(r.c1.length - TAG_LENGTH);
  return { pan, key: open(r.kek, r.n2, r.c2, Buffer.concat([r.hdr, tag1])) };
}

/** DVD-1 steps 1–2: the same contract as the core's dvd1OpenBatch. */
export function openPayload(input: Dvd1OpenInput): Dvd1Opened {
  const { pan, key } = openFields(input);
  let status = 0;
  if (!pan.authentic) status |= DVD1_STATUS.PAN_TAG;
  if (!key.authentic) status |= DVD1_STATUS.KEY_TAG;
  if (!isValidPan(pan.plaintext)) status |= DVD1_STATUS.LUHN;
  if (status !== 0) {
    pan.plaintext.fill(0);
    key.plaintext.fill(0);
    return { ok: false, status, pan: null, basicKey: null };
  }
  return { ok: true, status, pan: new Uint8Array(pan.plaintext), basicKey: new Uint8Array(key.plaintext) };
}

export function dvd1(r: Dvd1Record): Dvd1Result {
  const { pan, key } = openFields(r);

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

/** The core's dvd1BatchPacked contract, one record at a time over views of the packed records. */
export function dvd1BatchPacked(packed: Uint8Array, count: number): Dvd1PackedResult {
  const cryptograms = new Uint8Array(count * DVD1_CRYPTOGRAM_SIZE);
  const statuses = new Uint8Array(count);
  let passed = 0;
  for (let i = 0; i < count; i++) {
    const result = dvd1(viewDvd1Record(packed, i * DVD1_RECORD_SIZE));
    statuses[i] = result.status;
    cryptograms.set(result.cryptogram, i * DVD1_CRYPTOGRAM_SIZE);
    if (result.ok) passed++;
  }
  return { cryptograms, statuses, passed };
}

/** The core's dvd1OpenBatchPacked contract: opened[i*48..] = PAN ‖ basic key (zero when status ≠ 0); the caller wipes `opened`. */
export function dvd1OpenBatchPacked(packed: Uint8Array, count: number): Dvd1PackedOpened {
  const opened = new Uint8Array(count * DVD1_OPENED_SIZE);
  const statuses = new Uint8Array(count);
  let passed = 0;
  for (let i = 0; i < count; i++) {
    const result = openPayload(viewDvd1Record(packed, i * DVD1_RECORD_SIZE));
    statuses[i] = result.status;
    if (!result.ok) continue;
    opened.set(result.pan!, i * DVD1_OPENED_SIZE + DVD1_OPENED_FIELDS.pan[0]);
    opened.set(result.basicKey!, i * DVD1_OPENED_SIZE + DVD1_OPENED_FIELDS.basicKey[0]);
    result.pan!.fill(0);
    result.basicKey!.fill(0);
    passed++;
  }
  return { opened, statuses, passed };
}
