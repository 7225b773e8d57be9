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
import {
  DVD1_CRYPTOGRAM_SIZE, DVD1_ENROLLED_FIELDS, DVD1_ENROLLED_SIZE, DVD1_ENROLMENT_ID_SIZE, DVD1_LABELS, DVD1_OPENED_FIELDS, DVD1_OPENED_SIZE,
  DVD1_RECORD_SIZE, viewDvd1CodeRecord, viewDvd1Record,
} from '../../core/dvd1-layout.ts';
import {
  DVD1_STATUS, type Dvd1CodeRecord, type Dvd1Enrolled, type Dvd1OpenInput, type Dvd1Opened, type Dvd1PackedEnrolled, type Dvd1PackedOpened,
  type Dvd1PackedResult, type Dvd1Record, type Dvd1Result,
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

/** The transaction cryptogram of DVD-1 step 5: HMAC(kTxn, sid ‖ merchant ‖ amount ‖ PAN). */
function txnCryptogram(basicKey: Uint8Array, r: Pick<Dvd1Record, 'sid' | 'merchant' | 'amount'>, pan: Uint8Array): Uint8Array {
  const amount = encodeAmount(r.amount);
  const kTxn = hkdf32(basicKey, r.sid, Buffer.concat([TXN_PREFIX, r.merchant, amount]));
  const cryptogram = createHmac('sha256', kTxn).update(r.sid).update(r.merchant).update(amount).update(pan).digest();
  kTxn.fill(0);
  return new Uint8Array(cryptogram.buffer, cryptogram.byteOffset, cryptogram.length);
}

/** The wallet key of an enrolment (docs/card-payload.md §Payload v2): HKDF(basicKey, "", "scanpay/v2/wallet-key" ‖ id). */
export function walletKey(basicKey: Uint8Array, enrolmentId: Uint8Array): Buffer {
  return hkdf32(basicKey, EMPTY, Buffer.concat([Buffer.from(DVD1_LABELS.walletKey), enrolmentId]));
}

/** The core's code record (dvd1CodeBatch), written the obvious way: the contract its differential tests check. */
export function dvd1Code(r: Dvd1CodeRecord): Dvd1Result {
  const key = walletKey(r.storedBasicKey, r.code.subarray(1, 17));
  const mac = createHmac('sha256', key).update(DVD1_LABELS.code).update(r.code.subarray(0, 25)).digest().subarray(0, 16);
  key.fill(0);
  const kPin = hkdf32(r.storedBasicKey, EMPTY, PIN_LABEL);
  const pvv = createHmac('sha256', kPin).update(r.pan).update(r.pin).digest();
  let status = 0;
  if (r.code[0] !== 2 || !timingSafeEqual(mac, r.code.subarray(25, 41))) status |= DVD1_STATUS.CODE_MAC;
  if (!isValidPan(Buffer.from(r.pan))) status |= DVD1_STATUS.LUHN;
  if (r.withPin && !timingSafeEqual(pvv, r.storedPvv)) status |= DVD1_STATUS.PVV;
  if (status !== 0) return { ok: false, status, cryptogram: new Uint8Array(32) };
  return { ok: true, status, cryptogram: txnCryptogram(r.storedBasicKey, r, r.pan) };
}

/** The core's dvd1CodeBatchPacked contract, one record at a time. */
export function dvd1CodeBatchPacked(packed: Uint8Array, count: number): Dvd1PackedResult {
  const cryptograms = new Uint8Array(count * DVD1_CRYPTOGRAM_SIZE);
  const statuses = new Uint8Array(count);
  let passed = 0;
  for (let i = 0; i < count; i++) {
    const result = dvd1Code(viewDvd1CodeRecord(packed, i * DVD1_RECORD_SIZE));
    statuses[i] = result.status;
    cryptograms.set(result.cryptogram, i * DVD1_CRYPTOGRAM_SIZE);
    if (result.ok) passed++;
  }
  return { cryptograms, statuses, passed };
}

/** The core's enrolment (dvd1EnrolBatch) for one PIN record: dvd1's checks, then the wallet key and the PAN. */
export function dvd1Enrol(r: Dvd1Record, enrolmentId: Uint8Array): Dvd1Enrolled {
  const { status } = dvd1(r);
  if (status !== 0) return { ok: false, status, walletKey: null, pan: null };
  const { pan } = openFields(r);
  return { ok: true, status, walletKey: new Uint8Array(walletKey(r.storedBasicKey, enrolmentId)), pan: new Uint8Array(pan.plaintext) };
}

/** The core's dvd1EnrolBatchPacked contract; the caller wipes `enrolled`. */
export function dvd1EnrolBatchPacked(packed: Uint8Array, enrolmentIds: Uint8Array, count: number): Dvd1PackedEnrolled {
  const enrolled = new Uint8Array(count * DVD1_ENROLLED_SIZE);
  const statuses = new Uint8Array(count);
  let passed = 0;
  for (let i = 0; i < count; i++) {
    const id = enrolmentIds.subarray(i * DVD1_ENROLMENT_ID_SIZE, (i + 1) * DVD1_ENROLMENT_ID_SIZE);
    const result = dvd1Enrol(viewDvd1Record(packed, i * DVD1_RECORD_SIZE), id);
    statuses[i] = result.status;
    if (!result.ok) continue;
    enrolled.set(result.walletKey!, i * DVD1_ENROLLED_SIZE + DVD1_ENROLLED_FIELDS.walletKey[0]);
    enrolled.set(result.pan!, i * DVD1_ENROLLED_SIZE + DVD1_ENROLLED_FIELDS.pan[0]);
    result.walletKey!.fill(0);
    result.pan!.fill(0);
    passed++;
  }
  return { enrolled, statuses, passed };
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
