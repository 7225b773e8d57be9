/**
 * DVD-1 batch: decrypt → verify → derive for N payment records in one call (docs/core.md).
 *
 * Records (RECORD_SIZE bytes each, contiguous) in the layout of dvd1-layout.ts (the only definition).
 * Output: N cryptograms of 32 bytes at `cryptograms`, N status bytes at `statuses`.
 * Every record does the same work whatever its verdict (no early exit), the cryptogram of a failed
 * record is masked to zeros, and each input record is wiped before the call returns.
 */
import { hkdfExpand32 } from './hkdf';
import { HMAC_CTX, hmacInit, hmacUpdate, hmacFinal } from './hmac';
import { aeadOpenRaw } from './aead';
import { ctEqual, isZero, maskOf } from './ct';
import { luhnCheck } from './luhn';
import { wipeSha256Scratch } from './sha256';
import { prepareDvd1x4, runFourRecords, wipeDvd1x4 } from './dvd1x4';
import { walletKeyOf, wipeCodeScratch } from './dvd1-code';
import {
  AMOUNT, AMOUNT_LENGTH, BASIC_KEY_LENGTH, C1, C2, CRYPTOGRAM_SIZE, ENROLLED_PAN, ENROLLED_SIZE, ENROLLED_WALLET_KEY,
  ENROLMENT_ID_LENGTH, WALLET_KEY_LENGTH, HDR, HDR_LENGTH, KEK, LABEL_PIN, LABEL_PIN_LENGTH,
  LABEL_TXN, LABEL_TXN_LENGTH, MERCHANT, MERCHANT_LENGTH, N1, N2, OPENED_BASIC_KEY, OPENED_PAN, OPENED_SIZE, PAN_LENGTH,
  PIN, PIN_LENGTH, RECORD_SIZE, SID, SID_LENGTH, STATUS_BASIC_KEY, STATUS_KEY_TAG, STATUS_LUHN, STATUS_PAN_TAG,
  STATUS_PVV, STORED_BK, STORED_PVV, STORED_PVV_LENGTH, TAG_LENGTH,
} from './dvd1-layout';

const AAD2_LENGTH: usize = HDR_LENGTH + TAG_LENGTH; // hdr ‖ tag1: the basic key's AAD binds it to the PAN field

// Scratch, all wiped at the end of each batch.
const SCRATCH_SIZE: i32 = 32 * 7 + 24 + 4 * <i32>HMAC_CTX + 64;
const SCRATCH: usize = memory.data(SCRATCH_SIZE);
const PAN: usize = SCRATCH; // 16 used
const BK: usize = SCRATCH + 32;
const PRK: usize = SCRATCH + 64;
const K_PIN: usize = SCRATCH + 96;
const K_TXN: usize = SCRATCH + 128;
const PVV: usize = SCRATCH + 160;
const CRYPTOGRAM: usize = SCRATCH + 192;
const AAD2: usize = SCRATCH + 224; // hdr ‖ tag1
const EMPTY_SALT_CTX: usize = SCRATCH + 248; // HMAC keyed with the empty salt: same for every record
const HMAC_A: usize = EMPTY_SALT_CTX + HMAC_CTX;
const HMAC_B: usize = HMAC_A + HMAC_CTX;
const WALLET_KEY: usize = SCRATCH + 32 * 7 + 24 + 4 * HMAC_CTX; // dvd1EnrolBatch
const UNUSED_CRYPTOGRAM: usize = WALLET_KEY + 32; // dvd1EnrolBatch: runRecord's output, not returned


/**
 * Steps 1–2 without the store: decrypts both fields into PAN and BK (raw keystream, whatever the tags say;
 * the second field is bound to the first through tag1 in its AAD) and returns the PAN_TAG | KEY_TAG | LUHN bits.
 */
function openRecord(rec: usize): u32 {
  const tag1 = rec + C1 + PAN_LENGTH;
  const panTagOk = aeadOpenRaw(rec + KEK, rec + N1, rec + HDR, HDR_LENGTH, rec + C1, PAN_LENGTH, tag1, PAN);
  memory.copy(AAD2, rec + HDR, HDR_LENGTH);
  memory.copy(AAD2 + HDR_LENGTH, tag1, TAG_LENGTH);
  const keyTagOk = aeadOpenRaw(rec + KEK, rec + N2, AAD2, AAD2_LENGTH, rec + C2, BASIC_KEY_LENGTH, rec + C2 + BASIC_KEY_LENGTH, BK);
  const luhnOk = luhnCheck(PAN, PAN_LENGTH);
  return (panTagOk ^ 1) * STATUS_PAN_TAG | (keyTagOk ^ 1) * STATUS_KEY_TAG | (luhnOk ^ 1) * STATUS_LUHN;
}

function runRecord(rec: usize, cryptogram: usize): u32 {
  // 1.–2. decrypt both fields, Luhn; the basic key against the stored one
  const openStatus = openRecord(rec);
  const basicKeyOk = ctEqual(BK, rec + STORED_BK, BASIC_KEY_LENGTH);
  // 3. derive: kPin = HKDF(bk, salt="", "scanpay/v1/pin"); kTxn = HKDF(bk, sid, "scanpay/v1/txn"‖merchant‖amount)
  memory.copy(HMAC_B, EMPTY_SALT_CTX, HMAC_CTX);
  hmacUpdate(HMAC_B, BK, BASIC_KEY_LENGTH);
  hmacFinal(HMAC_B, PRK);
  hkdfExpand32(HMAC_A, PRK, LABEL_PIN, LABEL_PIN_LENGTH, 0, 0, 0, 0, K_PIN);
  hmacInit(HMAC_B, rec + SID, SID_LENGTH);
  hmacUpdate(HMAC_B, BK, BASIC_KEY_LENGTH);
  hmacFinal(HMAC_B, PRK);
  hkdfExpand32(HMAC_A, PRK, LABEL_TXN, LABEL_TXN_LENGTH, rec + MERCHANT, MERCHANT_LENGTH, rec + AMOUNT, AMOUNT_LENGTH, K_TXN);
  // 4. PIN verification value
  hmacInit(HMAC_B, K_PIN, 32);
  hmacUpdate(HMAC_B, PAN, PAN_LENGTH);
  hmacUpdate(HMAC_B, rec + PIN, PIN_LENGTH);
  hmacFinal(HMAC_B, PVV);
  const pvvOk = ctEqual(PVV, rec + STORED_PVV, STORED_PVV_LENGTH);
  // 5. cryptogram = HMAC(kTxn, sid ‖ merchant ‖ amount ‖ PAN); sid, merchant, amount are contiguous
  hmacInit(HMAC_B, K_TXN, 32);
  hmacUpdate(HMAC_B, rec + SID, SID_LENGTH + MERCHANT_LENGTH + AMOUNT_LENGTH);
  hmacUpdate(HMAC_B, PAN, PAN_LENGTH);
  hmacFinal(HMAC_B, CRYPTOGRAM);

  const status = openStatus | (basicKeyOk ^ 1) * STATUS_BASIC_KEY | (pvvOk ^ 1) * STATUS_PVV;
  const keep = maskOf(isZero(status));
  for (let i: usize = 0; i < CRYPTOGRAM_SIZE; i += 4) store<u32>(cryptogram + i, load<u32>(CRYPTOGRAM + i) & keep);
  return status;
}

/**
 * Runs `count` records, four at a time in SIMD lanes and the rest one by one; returns how many passed every check.
 * In the scalar build (SIMD disabled) the 4-lane branch is not compiled at all, so the module holds no v128 op.
 */
export function dvd1Batch(records: usize, count: u32, cryptograms: usize, statuses: usize): u32 {
  let passed: u32 = 0;
  let i: u32 = 0;
  if (ASC_FEATURE_SIMD && count >= 4) {
    prepareDvd1x4();
    for (; i + 4 <= count; i += 4) {
      const rec = records + <usize>i * RECORD_SIZE;
      passed += runFourRecords(rec, cryptograms + <usize>i * CRYPTOGRAM_SIZE, statuses + i);
      memory.fill(rec, 0, 4 * RECORD_SIZE);
    }
    wipeDvd1x4();
  }
  return passed + runScalar(records, i, count, cryptograms, statuses);
}

/** The same batch with every record on the scalar path: the reference the SIMD path is tested against. */
export function dvd1BatchScalar(records: usize, count: u32, cryptograms: usize, statuses: usize): u32 {
  return runScalar(records, 0, count, cryptograms, statuses);
}

function runScalar(records: usize, first: u32, count: u32, cryptograms: usize, statuses: usize): u32 {
  hmacInit(EMPTY_SALT_CTX, 0, 0);
  let passed: u32 = 0;
  for (let i: u32 = first; i < count; i++) {
    const rec = records + <usize>i * RECORD_SIZE;
    const status = runRecord(rec, cryptograms + <usize>i * CRYPTOGRAM_SIZE);
    store<u8>(statuses + i, <u8>status);
    passed += isZero(status);
    memory.fill(rec, 0, RECORD_SIZE);
  }
  memory.fill(SCRATCH, 0, SCRATCH_SIZE);
  wipeSha256Scratch();
  return passed;
}

/**
 * DVD-1 steps 1–2 without the store: decrypt both fields and check Luhn, for the scan (S22) before the
 * card is looked up. Writes PAN ‖ basicKey (OPENED_SIZE bytes) per record to `opened` (zeros when the
 * record fails) and the status (PAN_TAG | KEY_TAG | LUHN bits). Uses the fields up to c2; wipes each record.
 */
export function dvd1OpenBatch(records: usize, count: u32, opened: usize, statuses: usize): u32 {
  let passed: u32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    const rec = records + <usize>i * RECORD_SIZE;
    const status = openRecord(rec);
    const keep = maskOf(isZero(status));
    const out = opened + <usize>i * OPENED_SIZE;
    for (let j: usize = 0; j < PAN_LENGTH; j += 4) store<u32>(out + OPENED_PAN + j, load<u32>(PAN + j) & keep);
    for (let j: usize = 0; j < BASIC_KEY_LENGTH; j += 4) store<u32>(out + OPENED_BASIC_KEY + j, load<u32>(BK + j) & keep);
    store<u8>(statuses + i, <u8>status);
    passed += isZero(status);
    memory.fill(rec, 0, RECORD_SIZE);
  }
  memory.fill(SCRATCH, 0, SCRATCH_SIZE);
  return passed;
}

/**
 * Enrolment (a wallet, docs/card-payload.md §Payload v2): PIN records checked exactly as dvd1Batch checks them
 * (payload, basic key against the stored one, PVV), and for each the wallet key HKDF(basic key, "",
 * "scanpay/v2/wallet-key" ‖ enrolment id) with the record's enrolment id from `enrolmentIds` (count × 16 bytes).
 * Writes ENROLLED_SIZE bytes per record to `enrolled`: wallet key ‖ PAN when every check passed, zeros otherwise;
 * and the status (dvd1Batch's bits). sid, merchant and amount are not used (no payment); each record is wiped.
 */
export function dvd1EnrolBatch(records: usize, enrolmentIds: usize, count: u32, enrolled: usize, statuses: usize): u32 {
  hmacInit(EMPTY_SALT_CTX, 0, 0);
  let passed: u32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    const rec = records + <usize>i * RECORD_SIZE;
    const status = runRecord(rec, UNUSED_CRYPTOGRAM);
    // the decrypted basic key: the stored one whenever the status is 0
    walletKeyOf(EMPTY_SALT_CTX, BK, enrolmentIds + <usize>i * ENROLMENT_ID_LENGTH, WALLET_KEY);
    const keep = maskOf(isZero(status));
    const out = enrolled + <usize>i * ENROLLED_SIZE;
    for (let j: usize = 0; j < WALLET_KEY_LENGTH; j += 4) store<u32>(out + ENROLLED_WALLET_KEY + j, load<u32>(WALLET_KEY + j) & keep);
    for (let j: usize = 0; j < PAN_LENGTH; j += 4) store<u32>(out + ENROLLED_PAN + j, load<u32>(PAN + j) & keep);
    store<u8>(statuses + i, <u8>status);
    passed += isZero(status);
    memory.fill(rec, 0, RECORD_SIZE);
  }
  memory.fill(SCRATCH, 0, SCRATCH_SIZE);
  wipeCodeScratch();
  return passed;
}
