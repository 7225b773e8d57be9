/**
 * DVD-1 batch: decrypt → verify → derive for N payment records in one call (docs/core.md).
 *
 * Input record (RECORD_SIZE bytes each, contiguous):
 *   0 kek[32]  32 hdr[8]  40 n1[12]  52 c1[16]‖tag1[16]  84 n2[12]  96 c2[32]‖tag2[16]
 *   144 storedBasicKey[32]  176 storedPvv[32]  208 pin[4]  212 sid[16]  228 merchant[16]  244 amountBE[8]
 * Output: N cryptograms of 32 bytes at `cryptograms`, N status bytes at `statuses`.
 * Every record does the same work whatever its verdict (no early exit), the cryptogram of a failed
 * record is masked to zeros, and each input record is wiped before the call returns.
 */
import { HMAC_CTX, hmacInit, hmacUpdate, hmacFinal } from './hmac';
import { aeadOpenRaw } from './aead';
import { ctEqual, isZero, maskOf } from './ct';
import { luhnCheck } from './luhn';
import { wipeSha256Scratch } from './sha256';
import { prepareDvd1x4, runFourRecords, wipeDvd1x4 } from './dvd1x4';

export const RECORD_SIZE: usize = 256;
export const STATUS_PAN_TAG: u32 = 1;
export const STATUS_KEY_TAG: u32 = 2;
export const STATUS_LUHN: u32 = 4;
export const STATUS_BASIC_KEY: u32 = 8;
export const STATUS_PVV: u32 = 16;

const KEK: usize = 0, HDR: usize = 32, N1: usize = 40, C1: usize = 52, N2: usize = 84, C2: usize = 96;
const STORED_BK: usize = 144, STORED_PVV: usize = 176, PIN: usize = 208, SID: usize = 212;
const MERCHANT: usize = 228, AMOUNT: usize = 244;

// "scanpay/v1/pin" and "scanpay/v1/txn" (14 bytes each)
const LABEL_PIN: usize = memory.data<u8>([0x73, 0x63, 0x61, 0x6e, 0x70, 0x61, 0x79, 0x2f, 0x76, 0x31, 0x2f, 0x70, 0x69, 0x6e]);
const LABEL_TXN: usize = memory.data<u8>([0x73, 0x63, 0x61, 0x6e, 0x70, 0x61, 0x79, 0x2f, 0x76, 0x31, 0x2f, 0x74, 0x78, 0x6e]);
const LABEL_LEN: usize = 14;
const ONE: usize = memory.data<u8>([1]);

// Scratch, all wiped at the end of each batch.
const SCRATCH_SIZE: i32 = 32 * 7 + 24 + 4 * <i32>HMAC_CTX;
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

/** HKDF-Expand for L = 32 (one block): HMAC(prk, info1 ‖ info2 ‖ 0x01). */
function expand32(prk: usize, info1: usize, info1Len: usize, info2: usize, info2Len: usize, info3: usize, info3Len: usize, out: usize): void {
  hmacInit(HMAC_A, prk, 32);
  hmacUpdate(HMAC_A, info1, info1Len);
  hmacUpdate(HMAC_A, info2, info2Len);
  hmacUpdate(HMAC_A, info3, info3Len);
  hmacUpdate(HMAC_A, ONE, 1);
  hmacFinal(HMAC_A, out);
}

function runRecord(rec: usize, cryptogram: usize): u32 {
  // 1. decrypt both fields; the second is bound to the first through tag1 in its AAD
  const panTagOk = aeadOpenRaw(rec + KEK, rec + N1, rec + HDR, 8, rec + C1, 16, rec + C1 + 16, PAN);
  memory.copy(AAD2, rec + HDR, 8);
  memory.copy(AAD2 + 8, rec + C1 + 16, 16);
  const keyTagOk = aeadOpenRaw(rec + KEK, rec + N2, AAD2, 24, rec + C2, 32, rec + C2 + 32, BK);
  // 2. verify
  const luhnOk = luhnCheck(PAN, 16);
  const basicKeyOk = ctEqual(BK, rec + STORED_BK, 32);
  // 3. derive: kPin = HKDF(bk, salt="", "scanpay/v1/pin"); kTxn = HKDF(bk, sid, "scanpay/v1/txn"‖merchant‖amount)
  memory.copy(HMAC_B, EMPTY_SALT_CTX, HMAC_CTX);
  hmacUpdate(HMAC_B, BK, 32);
  hmacFinal(HMAC_B, PRK);
  expand32(PRK, LABEL_PIN, LABEL_LEN, 0, 0, 0, 0, K_PIN);
  hmacInit(HMAC_B, rec + SID, 16);
  hmacUpdate(HMAC_B, BK, 32);
  hmacFinal(HMAC_B, PRK);
  expand32(PRK, LABEL_TXN, LABEL_LEN, rec + MERCHANT, 16, rec + AMOUNT, 8, K_TXN);
  // 4. PIN verification value
  hmacInit(HMAC_B, K_PIN, 32);
  hmacUpdate(HMAC_B, PAN, 16);
  hmacUpdate(HMAC_B, rec + PIN, 4);
  hmacFinal(HMAC_B, PVV);
  const pvvOk = ctEqual(PVV, rec + STORED_PVV, 32);
  // 5. cryptogram = HMAC(kTxn, sid ‖ merchant ‖ amount ‖ PAN); sid, merchant, amount are contiguous
  hmacInit(HMAC_B, K_TXN, 32);
  hmacUpdate(HMAC_B, rec + SID, 40);
  hmacUpdate(HMAC_B, PAN, 16);
  hmacFinal(HMAC_B, CRYPTOGRAM);

  const status = (panTagOk ^ 1) * STATUS_PAN_TAG | (keyTagOk ^ 1) * STATUS_KEY_TAG | (luhnOk ^ 1) * STATUS_LUHN
    | (basicKeyOk ^ 1) * STATUS_BASIC_KEY | (pvvOk ^ 1) * STATUS_PVV;
  const keep = maskOf(isZero(status));
  for (let i: usize = 0; i < 32; i += 4) store<u32>(cryptogram + i, load<u32>(CRYPTOGRAM + i) & keep);
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
      passed += runFourRecords(rec, RECORD_SIZE, cryptograms + (<usize>i << 5), statuses + i);
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
    const status = runRecord(rec, cryptograms + (<usize>i << 5));
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
 * card is looked up. Writes PAN[16] ‖ basicKey[32] per record to `opened` (zeros when the record fails)
 * and the status (PAN_TAG | KEY_TAG | LUHN bits). Uses the first 144 bytes of each record; wipes them.
 */
export const OPENED_SIZE: usize = 48;

export function dvd1OpenBatch(records: usize, count: u32, opened: usize, statuses: usize): u32 {
  let passed: u32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    const rec = records + <usize>i * RECORD_SIZE;
    const panTagOk = aeadOpenRaw(rec + KEK, rec + N1, rec + HDR, 8, rec + C1, 16, rec + C1 + 16, PAN);
    memory.copy(AAD2, rec + HDR, 8);
    memory.copy(AAD2 + 8, rec + C1 + 16, 16);
    const keyTagOk = aeadOpenRaw(rec + KEK, rec + N2, AAD2, 24, rec + C2, 32, rec + C2 + 32, BK);
    const luhnOk = luhnCheck(PAN, 16);
    const status = (panTagOk ^ 1) * STATUS_PAN_TAG | (keyTagOk ^ 1) * STATUS_KEY_TAG | (luhnOk ^ 1) * STATUS_LUHN;
    const keep = maskOf(isZero(status));
    const out = opened + <usize>i * OPENED_SIZE;
    for (let j: usize = 0; j < 16; j += 4) store<u32>(out + j, load<u32>(PAN + j) & keep);
    for (let j: usize = 0; j < 32; j += 4) store<u32>(out + 16 + j, load<u32>(BK + j) & keep);
    store<u8>(statuses + i, <u8>status);
    passed += isZero(status);
    memory.fill(rec, 0, RECORD_SIZE);
  }
  memory.fill(SCRATCH, 0, SCRATCH_SIZE);
  return passed;
}
