/**
 * DVD-1 code records: a wallet's one-time code (card payload v2, docs/card-payload.md) verified against the card
 * row, for N records in one call (docs/core.md §Code records). Layout: dvd1-layout.ts (CODE_* and the PIN record's
 * card-row half). Per record:
 *   prk       = HMAC("", storedBasicKey)                         (HKDF-Extract, empty salt: shared by both keys below)
 *   walletKey = HKDF-Expand(prk, "scanpay/v2/wallet-key" ‖ enrolmentId, 32)
 *   mac ok    = HMAC(walletKey, "scanpay/v2/code\n" ‖ signed[25])[0..16] == code mac, and version byte = 2
 *   PAN ok    = Luhn(PAN)  (a PAN the worker could not unwrap is zeros: fails)
 *   PIN ok    = withPin = 0, or HMAC(kPin, PAN ‖ PIN) == storedPvv, kPin = HKDF-Expand(prk, "scanpay/v1/pin", 32)
 *   cryptogram = the PIN record's: HMAC(kTxn, sid ‖ merchant ‖ amount ‖ PAN), kTxn = HKDF(bk, sid, "scanpay/v1/txn" ‖ merchant ‖ amount)
 * Output: a 32-byte cryptogram per record (zeros unless every check passed) and a status byte (CODE_MAC | LUHN | PVV).
 * Every record does the same work whatever its inputs (the PVV is computed even without a PIN), comparisons are
 * constant-time, no branch or index depends on a secret; each record and all scratch are wiped before the call returns.
 */
import { hkdfExpand32 } from './hkdf';
import { HMAC_CTX, hmacInit, hmacUpdate, hmacFinal } from './hmac';
import { ctEqual, isZero, maskOf } from './ct';
import { luhnCheck } from './luhn';
import { wipeSha256Scratch } from './sha256';
import {
  AMOUNT_LENGTH, BASIC_KEY_LENGTH, CODE_ENROLMENT_ID, CODE_MAC, CODE_MAC_LENGTH, CODE_PAN, CODE_SIGNED, CODE_SIGNED_LENGTH,
  CODE_WITH_PIN, CRYPTOGRAM_SIZE, ENROLMENT_ID_LENGTH, LABEL_CODE, LABEL_CODE_LENGTH, LABEL_PIN, LABEL_PIN_LENGTH, LABEL_TXN,
  LABEL_TXN_LENGTH, LABEL_WALLET_KEY, LABEL_WALLET_KEY_LENGTH, MERCHANT, MERCHANT_LENGTH, PAN_LENGTH, PIN, PIN_LENGTH,
  RECORD_SIZE, SID, SID_LENGTH, STATUS_CODE_MAC, STATUS_LUHN, STATUS_PVV, STORED_BK, STORED_PVV, STORED_PVV_LENGTH, AMOUNT,
  WALLET_KEY_LENGTH,
} from './dvd1-layout';

const CODE_VERSION: u32 = 2;

// Scratch, all wiped at the end of each batch.
const SCRATCH_SIZE: i32 = 32 * 7 + 3 * <i32>HMAC_CTX;
const SCRATCH: usize = memory.data(SCRATCH_SIZE);
const PRK: usize = SCRATCH;
const WALLET_KEY: usize = SCRATCH + 32;
const K_PIN: usize = SCRATCH + 64;
const K_TXN: usize = SCRATCH + 96;
const MAC: usize = SCRATCH + 128;
const PVV: usize = SCRATCH + 160;
const CRYPTOGRAM: usize = SCRATCH + 192;
const EMPTY_SALT_CTX: usize = SCRATCH + 224; // HMAC keyed with the empty salt: the same for every record
const HMAC_A: usize = EMPTY_SALT_CTX + HMAC_CTX;
const HMAC_B: usize = HMAC_A + HMAC_CTX;


/**
 * The wallet key of (32-byte basic key at `basicKey`, 16-byte enrolment id at `enrolmentId`) into `out`, leaving
 * the PRK in this file's scratch (kPin expands it too). `emptySaltCtx`: an HMAC context keyed with the empty salt.
 * The caller wipes with wipeCodeScratch (dvd1EnrolBatch in dvd1.ts uses it as well).
 */
export function walletKeyOf(emptySaltCtx: usize, basicKey: usize, enrolmentId: usize, out: usize): void {
  memory.copy(HMAC_B, emptySaltCtx, HMAC_CTX);
  hmacUpdate(HMAC_B, basicKey, BASIC_KEY_LENGTH);
  hmacFinal(HMAC_B, PRK);
  hkdfExpand32(HMAC_A, PRK, LABEL_WALLET_KEY, LABEL_WALLET_KEY_LENGTH, enrolmentId, ENROLMENT_ID_LENGTH, 0, 0, out);
}

function runCodeRecord(rec: usize, cryptogram: usize): u32 {
  const basicKey = rec + STORED_BK;
  const pan = rec + CODE_PAN;
  // 1. both keys from one extract: the wallet key (its enrolment id is inside the signed bytes) and kPin
  walletKeyOf(EMPTY_SALT_CTX, basicKey, rec + CODE_ENROLMENT_ID, WALLET_KEY);
  hkdfExpand32(HMAC_A, PRK, LABEL_PIN, LABEL_PIN_LENGTH, 0, 0, 0, 0, K_PIN);
  // 2. the code's mac, and its version byte (public, but a code of another version must not pass here)
  hmacInit(HMAC_B, WALLET_KEY, WALLET_KEY_LENGTH);
  hmacUpdate(HMAC_B, LABEL_CODE, LABEL_CODE_LENGTH);
  hmacUpdate(HMAC_B, rec + CODE_SIGNED, CODE_SIGNED_LENGTH);
  hmacFinal(HMAC_B, MAC);
  const macOk = ctEqual(MAC, rec + CODE_MAC, CODE_MAC_LENGTH) & isZero(<u32>load<u8>(rec + CODE_SIGNED) ^ CODE_VERSION);
  // 3. the PAN, and the PIN verification value (computed whether or not a PIN was taken)
  const luhnOk = luhnCheck(pan, PAN_LENGTH);
  hmacInit(HMAC_B, K_PIN, 32);
  hmacUpdate(HMAC_B, pan, PAN_LENGTH);
  hmacUpdate(HMAC_B, rec + PIN, PIN_LENGTH);
  hmacFinal(HMAC_B, PVV);
  const pvvOk = ctEqual(PVV, rec + STORED_PVV, STORED_PVV_LENGTH);
  const withPin = isZero(isZero(<u32>load<u8>(rec + CODE_WITH_PIN)));
  // 4. the PIN record's kTxn and cryptogram; sid, merchant, amount are contiguous
  hmacInit(HMAC_B, rec + SID, SID_LENGTH);
  hmacUpdate(HMAC_B, basicKey, BASIC_KEY_LENGTH);
  hmacFinal(HMAC_B, PRK);
  hkdfExpand32(HMAC_A, PRK, LABEL_TXN, LABEL_TXN_LENGTH, rec + MERCHANT, MERCHANT_LENGTH, rec + AMOUNT, AMOUNT_LENGTH, K_TXN);
  hmacInit(HMAC_B, K_TXN, 32);
  hmacUpdate(HMAC_B, rec + SID, SID_LENGTH + MERCHANT_LENGTH + AMOUNT_LENGTH);
  hmacUpdate(HMAC_B, pan, PAN_LENGTH);
  hmacFinal(HMAC_B, CRYPTOGRAM);

  const status = (macOk ^ 1) * STATUS_CODE_MAC | (luhnOk ^ 1) * STATUS_LUHN | ((pvvOk ^ 1) & withPin) * STATUS_PVV;
  const keep = maskOf(isZero(status));
  for (let i: usize = 0; i < CRYPTOGRAM_SIZE; i += 4) store<u32>(cryptogram + i, load<u32>(CRYPTOGRAM + i) & keep);
  return status;
}

/** Runs `count` code records; returns how many passed every check. */
export function dvd1CodeBatch(records: usize, count: u32, cryptograms: usize, statuses: usize): u32 {
  hmacInit(EMPTY_SALT_CTX, 0, 0);
  let passed: u32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    const rec = records + <usize>i * RECORD_SIZE;
    const status = runCodeRecord(rec, cryptograms + <usize>i * CRYPTOGRAM_SIZE);
    store<u8>(statuses + i, <u8>status);
    passed += isZero(status);
    memory.fill(rec, 0, RECORD_SIZE);
  }
  wipeCodeScratch();
  return passed;
}

/** Zeroes this file's scratch (and SHA-256's): every batch that used walletKeyOf calls it before returning. */
export function wipeCodeScratch(): void {
  memory.fill(SCRATCH, 0, SCRATCH_SIZE);
  wipeSha256Scratch();
}
